"""tf.data pipelines that stream training windows from the series themselves.

The values of all series sit in **one** constant tensor; a :class:`WindowPlan` says which
windows exist with two integers per series. Every epoch the window *numbers* are shuffled (a
stateless shuffle keyed by ``tf.data.Dataset.random(seed)``: a new order each epoch, the same
orders in every run with the same seed), and each batch maps its numbers to ``(series, origin)``
and gathers its histories and targets from the values tensor. No tensor of all windows is ever
built: memory is the series plus, for the epoch's order, 16 bytes a window at most, not
``(lookback + horizon) * 4`` bytes a window. Beyond :data:`STREAMED_ORDER_MIN_WINDOWS` windows
not even the order is held: each batch computes its window numbers from their positions in the
epoch with a keyed bijection (``tf.random.experimental.index_shuffle``, applied twice with
two keys), so memory no longer grows with the number of windows (a subsampled plan still holds
its chosen window numbers, 8 bytes each, ``max_windows`` of them at most).
``windows_per_epoch`` draws a fresh random subset of the windows every epoch (all windows are
seen over the epochs; one epoch's cost is bounded).

Two entry points share that stream:

* :func:`window_dataset` yields raw windows with masks (and seasonal positions); the
  forecasters map a normalisation step over it
  (:meth:`forecastkit.data.normalization.WindowNormalizer.normalize_batch`).
* :func:`make_dataset` scales every series with a :class:`SeriesScaler` first and yields
  Keras-ready ``(X, Y)`` batches, for building one's own models.
"""

from __future__ import annotations

import numpy as np

from forecastkit.data.frames import Panel, to_panel
from forecastkit.data.scaling import SeriesScaler
from forecastkit.data.window_plan import WindowPlan
from forecastkit.exceptions import InvalidInputError

__all__ = ["window_dataset", "make_dataset", "WindowSource", "window_source",
           "STREAMED_ORDER_MIN_WINDOWS"]

#: From this many windows on, a shuffled epoch's order is computed batch by batch instead of
#: held (which costs 16 bytes a window: 64 MiB here). Below it, the order is a stateless
#: shuffle of the held window numbers, the order every committed study trained in; both are
#: uniform random orders, but not the same ones.
STREAMED_ORDER_MIN_WINDOWS = 2**22


def window_dataset(
    panel: Panel,
    plan: WindowPlan,
    *,
    batch_size: int = 256,
    shuffle: bool = True,
    seed: int = 0,
    windows_per_epoch: int | None = None,
    order: str = "auto",
    season_positions: tuple[np.ndarray, int] | None = None,
    values: np.ndarray | None = None,
    covariates=None,
):
    """A ``tf.data.Dataset`` of raw (history, target) windows, streamed batch by batch.

    Parameters
    ----------
    panel : Panel
        The series (``panel.values`` is what is gathered unless ``values`` is given).
    plan : WindowPlan
        Which windows: see :meth:`WindowPlan.for_lengths`, ``holdout`` and ``subsample``.
    batch_size : int
        Windows per batch (the last batch of an epoch may be smaller).
    shuffle : bool
        A new random order of the windows every epoch; False keeps the plan's order.
    seed : int
        Seed of the shuffles and of the per-epoch draws.
    windows_per_epoch : int, optional
        Windows per epoch, drawn afresh each epoch without replacement (needs ``shuffle``).
        None: every window every epoch.
    order : {"auto", "held", "streamed"}
        How a shuffled epoch's order is made: ``"held"`` shuffles a tensor of the window
        numbers (16 bytes a window), ``"streamed"`` computes each batch's numbers with a keyed
        bijection (no memory per window beyond a subsampled plan's own numbers), ``"auto"``
        streams from :data:`STREAMED_ORDER_MIN_WINDOWS` windows on. Without ``shuffle`` the
        plan's order is always computed batch by batch.
    season_positions : (ndarray of shape (n_series,), int), optional
        ``(start, m)``: the seasonal position (0..m-1) of each series' first observation and
        the season length. Adds ``position``, the seasonal position of each window's first
        target step.
    values : ndarray of shape (n_obs,), optional
        Values to gather instead of ``panel.values`` (e.g. scaled ones), in the same layout.
    covariates : forecastkit.data.covariates.Covariates, optional
        Covariates aligned with the panel: adds ``past_cov`` (batch, lookback, n_past), 0
        where padded; ``future_cov`` (batch, horizon, n_future), the future-known covariates
        of the target steps; ``static`` (batch, n_static). Each only when it has columns.

    Returns
    -------
    tf.data.Dataset
        Elements ``(inputs, targets)``: ``inputs["history"]`` (batch, lookback) float32, 0
        where padded or missing; ``inputs["mask"]`` (batch, lookback) float32, 1 where
        observed (padding on the left, the newest value at the last step; 0 at a missing
        value, NaN in the panel); ``inputs["position"]`` (batch,) int32 with
        ``season_positions``; ``targets`` (batch, horizon) float32, NaN where missing (a loss
        must leave those out). Prefetched.
    """
    import tensorflow as tf

    _check_batch_size(batch_size)
    n = plan.n_windows
    per_epoch = n if windows_per_epoch is None else min(int(windows_per_epoch), n)
    if per_epoch < n and not shuffle:
        raise InvalidInputError("windows_per_epoch draws random windows; it needs shuffle=True")
    if order not in ("auto", "held", "streamed"):
        raise InvalidInputError(f"order must be 'auto', 'held' or 'streamed', got {order!r}")
    streamed = order == "streamed" or (order == "auto" and n >= STREAMED_ORDER_MIN_WINDOWS)
    # One trailing 0 that padded history steps point to; float32 written once, in place.
    source = panel.values if values is None else values
    buffer = np.empty(len(source) + 1, np.float32)
    buffer[:-1] = source
    buffer[-1] = 0.0
    has_missing = bool(np.isnan(buffer).any())
    values_t = tf.constant(buffer)
    del buffer
    sentinel = tf.constant(len(source), tf.int64)
    offsets = tf.constant(plan.offsets)
    last = tf.constant(plan.last.astype(np.int64))
    starts = tf.constant(np.asarray(panel.indptr[:-1], dtype=np.int64))
    # The plan's window numbers are 0..n-1 unless it is a subsample; only a subsample (or a
    # held shuffle) needs them as a tensor.
    subset = None if plan.subset is None else tf.constant(plan.subset)
    hist_steps = tf.range(-plan.lookback, 0, dtype=tf.int64)[None, :]
    target_steps = tf.range(plan.horizon, dtype=tf.int64)[None, :]
    stride, lookback = tf.constant(plan.stride, tf.int64), tf.constant(plan.lookback, tf.int64)
    if season_positions is not None:
        first_pos = tf.constant(np.asarray(season_positions[0], dtype=np.int64))
        m = tf.constant(int(season_positions[1]), tf.int64)
    cov = _covariate_tensors(covariates)

    n_batches = -(-per_epoch // batch_size)

    def positions_of(b):
        """Positions in the epoch of batch ``b``'s windows."""
        return tf.range(b * batch_size, tf.minimum((b + 1) * batch_size, per_epoch),
                        dtype=tf.int64)

    def numbered(positions):
        """Window numbers at plan positions."""
        return positions if subset is None else tf.gather(subset, positions)

    def epoch_order(key):
        numbers = subset if subset is not None else tf.range(n, dtype=tf.int64)
        epoch = tf.random.experimental.stateless_shuffle(
            numbers, seed=tf.stack([tf.constant(seed, tf.int64), key])
        )
        return epoch[:per_epoch]

    def batches(epoch):
        return tf.data.Dataset.range(n_batches).map(lambda b: tf.gather(epoch, positions_of(b)))

    def streamed_batches(key):
        # Each batch computes its numbers from its positions in the epoch, so no tensor of the
        # epoch's order exists. The two permutations' seeds are drawn from (seed, key): the
        # kernel reads only a few low bits of each seed word (8 to 13), which raw epoch keys
        # would leave nearly alike from epoch to epoch.
        seeds = tf.random.stateless_uniform(
            [2, 2], seed=tf.stack([tf.constant(seed, tf.int64), key]), minval=None,
            maxval=None, dtype=tf.int64,
        )

        def take(b):
            return numbered(_keyed_permutation(positions_of(b), seeds, n))

        return tf.data.Dataset.range(n_batches).map(take)

    def gather(number):
        # Window number -> (series, origin): the inverse of WindowPlan's numbering.
        series = tf.searchsorted(offsets, number, side="right") - 1
        origin = tf.gather(last, series) - (tf.gather(offsets, series + 1) - 1 - number) * stride
        start = tf.gather(starts, series) + origin  # global position of the first target
        hist = tf.minimum(origin, lookback)[:, None]
        observed = hist_steps >= -hist
        pos = tf.where(observed, start[:, None] + hist_steps, sentinel)
        history = tf.gather(values_t, pos)
        if has_missing:  # a missing value (NaN) is masked like padding, and zeroed
            observed = observed & tf.math.is_finite(history)
            history = tf.where(observed, history, tf.zeros_like(history))
        inputs = {"history": history, "mask": tf.cast(observed, tf.float32)}
        if season_positions is not None:
            inputs["position"] = tf.cast((tf.gather(first_pos, series) + origin) % m, tf.int32)
        if "past" in cov:  # padded steps point to the trailing zero row, like the values
            inputs["past_cov"] = tf.gather(cov["past"], pos)
        if "future" in cov:
            inputs["future_cov"] = tf.gather(cov["future"], start[:, None] + target_steps)
        if "static" in cov:
            inputs["static"] = tf.gather(cov["static"], series)
        return inputs, tf.gather(values_t, start[:, None] + target_steps)

    if shuffle:
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
        if streamed:
            ds = keys.flat_map(streamed_batches)
        else:
            ds = keys.map(epoch_order).flat_map(batches)
    else:
        ds = tf.data.Dataset.range(n_batches).map(lambda b: numbered(positions_of(b)))
    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(
        tf.data.AUTOTUNE
    )


def _keyed_permutation(positions, seeds, n: int):
    """Where ``positions`` (int64, in ``[0, n)``) go in a random permutation of ``0..n-1``.

    Two rounds of ``tf.random.experimental.index_shuffle`` (seeds: int64, shape (2, 2)): one
    round leaves runs of nearly equal steps between neighbouring positions. The kernel sizes
    its domain as ``ceil(log2(max_index))`` bits rounded up to even (16 at least), which
    misses ``max_index`` itself when that is ``2**k`` with ``k`` even and at least 16 (two
    positions then collide); for those ``n`` the domain is one larger and the one position
    that lands outside ``[0, n)`` steps on once more (cycle walking), which keeps a bijection.
    """
    import tensorflow as tf

    top = n - 1
    walk = top >= 2**16 and top & (top - 1) == 0 and (top.bit_length() - 1) % 2 == 0
    domain = tf.constant(top + 1 if walk else top, tf.int64)

    def once(x, seed):
        out = tf.random.experimental.index_shuffle(x, seed, domain)
        if walk:
            out = tf.where(out == n, tf.random.experimental.index_shuffle(out, seed, domain),
                           out)
        return out

    return once(once(positions, seeds[0]), seeds[1])


def _covariate_tensors(covariates) -> dict:
    """The covariate arrays as constants: ``past`` with a trailing zero row for padding,
    ``future`` (the future-known columns of ``past``, read at target steps), ``static``."""
    import tensorflow as tf

    if covariates is None:
        return {}
    out = {}
    past = np.asarray(covariates.past, np.float32)
    if past.shape[1]:
        out["past"] = tf.constant(np.concatenate([past, np.zeros((1, past.shape[1]),
                                                                 np.float32)]))
    columns = covariates.spec.future_in_past
    if columns:
        out["future"] = tf.constant(np.ascontiguousarray(past[:, columns]))
    if covariates.static.shape[1]:
        out["static"] = tf.constant(np.asarray(covariates.static, np.float32))
    return out


def _check_batch_size(batch_size) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")


class WindowSource:
    """What :func:`make_dataset` streams from, for callers that need the pieces.

    Attributes
    ----------
    panel : Panel
    scaler : SeriesScaler or None
        The fitted scaler (None when unscaled); invert forecasts with it.
    values : ndarray of shape (n_obs,), float32
        Scaled values of all series.
    plan : WindowPlan
        The windows.
    """

    def __init__(self, panel, scaler, values, plan):
        self.panel = panel
        self.scaler = scaler
        self.values = values
        self.plan = plan

    @property
    def n_windows(self) -> int:
        return self.plan.n_windows

    @property
    def index(self) -> np.ndarray:
        """``(series, origin)`` of every window, shape (n_windows, 2) (built on request)."""
        return self.plan.index()


def window_source(
    data,
    lookback: int,
    horizon: int,
    stride: int = 1,
    scaler="standard",
    min_history: int | None = None,
) -> WindowSource:
    """Check ``data``, fit/apply the scaler and plan the windows (the NumPy half of
    make_dataset). Parameters are those of :func:`make_dataset`."""
    panel = to_panel(data)
    plan = WindowPlan.for_lengths(panel.lengths, lookback, horizon, stride, min_history,
                                  ids=panel.ids)
    if scaler is None:
        fitted = None
        scaled = panel.values.astype(np.float32)
    else:
        if isinstance(scaler, str):
            fitted = SeriesScaler(scaler).fit(panel)  # type: ignore[arg-type]  # checked in fit
        elif isinstance(scaler, SeriesScaler):
            fitted = scaler
        else:
            raise InvalidInputError(
                f"scaler must be a method name, a fitted SeriesScaler or None, got {scaler!r}"
            )
        scaled = fitted.transform_panel(panel, dtype=np.float32)
    return WindowSource(panel, fitted, scaled, plan)


def make_dataset(
    data,
    lookback: int,
    horizon: int,
    batch_size: int = 256,
    stride: int = 1,
    scaler="standard",
    shuffle: bool = True,
    seed: int = 0,
    min_history: int | None = None,
    drop_remainder: bool = False,
):
    """A ``tf.data.Dataset`` of scaled training windows over many series, for Keras models.

    Parameters
    ----------
    data : pd.Series, pd.DataFrame or Panel
        Anything :func:`~forecastkit.data.to_panel` accepts (checked the same way: bad input
        raises a ForecastkitError naming the series).
    lookback, horizon : int
        History length and number of target steps of each window.
    batch_size : int
        Windows per batch.
    stride : int
        Step between window origins inside a series (windows are anchored at the series' end).
    scaler : {"standard", "minmax", "robust", "meanabs"}, SeriesScaler or None
        A method name fits a :class:`SeriesScaler` on ``data``; a fitted SeriesScaler (fitted
        on the training panel, in the same series order) is applied as it is; None leaves the
        values unscaled. The fitted scaler is at :func:`window_source`'s ``.scaler``.
    shuffle : bool
        Shuffle the windows, with a new order every epoch (repeatable: see ``seed``).
    seed : int
        Seed of the shuffle: the same seed gives the same batches, epoch after epoch.
    min_history : int, optional
        Shortest history of a window (default ``lookback``). With ``min_history < lookback``,
        windows with shorter histories are included, left-padded with zeros (the newest value
        stays at the last step), and the dataset yields a mask.
    drop_remainder : bool
        Drop the last, smaller batch of each epoch.

    Returns
    -------
    tf.data.Dataset
        Elements ``(X, Y)`` with ``X`` of shape (batch, lookback, 1) and ``Y`` of shape
        (batch, horizon), both float32 and scaled. When ``min_history < lookback`` the elements
        are ``({"history": X, "mask": M}, Y)`` with ``M`` of shape (batch, lookback), bool, True
        at observed steps; pass it to a recurrent layer as ``mask=``. Prefetched (AUTOTUNE).
    """
    import tensorflow as tf

    _check_batch_size(batch_size)
    src = window_source(data, lookback, horizon, stride, scaler, min_history)
    padded = min_history is not None and min_history < lookback
    ds = window_dataset(src.panel, src.plan, batch_size=batch_size, shuffle=shuffle, seed=seed,
                        values=src.values)
    if drop_remainder:
        ds = ds.filter(lambda x, y: tf.shape(y)[0] == batch_size)

    def keras_ready(inputs, targets):
        X = inputs["history"][:, :, None]
        if padded:
            return {"history": X, "mask": inputs["mask"] > 0}, targets
        return X, targets

    return ds.map(keras_ready)
