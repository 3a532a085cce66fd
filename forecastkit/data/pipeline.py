"""tf.data pipelines that stream training windows from many series.

The panel's values are scaled once and held in **one** constant tensor. The windows are only
listed (:func:`~forecastkit.data.window_index`: the global position of each window's first
target); each batch gathers its histories and targets from the tensor with ``tf.gather``. No
tensor of all windows is ever built: memory is the series plus 8 bytes a window, not
``(lookback + horizon) * 4`` bytes a window.

Shuffling permutes the window list once per epoch with a stateless shuffle whose key comes from
``tf.data.Dataset.random(seed)``, so every epoch has a new order and the same ``seed`` gives the
same sequence of orders in every run. (tf.data's element-wise ``shuffle`` buffer would work too
but is several times slower on a million windows.)
"""

from __future__ import annotations

import numpy as np

from forecastkit.data.frames import to_panel
from forecastkit.data.scaling import SeriesScaler
from forecastkit.data.windowing import window_index
from forecastkit.exceptions import InvalidInputError

__all__ = ["make_dataset", "WindowSource", "window_source"]


class WindowSource:
    """What :func:`make_dataset` streams from, for callers that need the pieces.

    Attributes
    ----------
    panel : Panel
    scaler : SeriesScaler or None
        The fitted scaler (None when unscaled); invert forecasts with it.
    values : ndarray of shape (n_obs + 1,), float32
        Scaled values of all series, plus one trailing 0 that padded steps point to.
    index : ndarray of shape (n_windows, 2), int64
        ``(series, origin)`` of every window.
    starts : ndarray of shape (n_windows,), int64
        Global position in ``values`` of each window's first target.
    history : ndarray of shape (n_windows,), int64
        Observed history length of each window (``min(origin, lookback)``).
    """

    def __init__(self, panel, scaler, values, index, lookback):
        self.panel = panel
        self.scaler = scaler
        self.values = values
        self.index = index
        self.starts = panel.indptr[index[:, 0]] + index[:, 1]
        self.history = np.minimum(index[:, 1], lookback)

    @property
    def n_windows(self) -> int:
        return len(self.index)


def window_source(
    data,
    lookback: int,
    horizon: int,
    stride: int = 1,
    scaler="standard",
    min_history: int | None = None,
) -> WindowSource:
    """Check ``data``, fit/apply the scaler and list the windows (the NumPy half of make_dataset).

    Parameters are those of :func:`make_dataset`.
    """
    panel = to_panel(data)
    index = window_index(panel.lengths, lookback, horizon, stride, min_history, ids=panel.ids)
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
    values = np.concatenate([scaled, np.zeros(1, np.float32)])
    return WindowSource(panel, fitted, values, index, lookback)


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
    """A ``tf.data.Dataset`` of training windows over many series, streamed batch by batch.

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

    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    src = window_source(data, lookback, horizon, stride, scaler, min_history)
    padded = min_history is not None and min_history < lookback
    n = src.n_windows
    n_batches = n // batch_size if drop_remainder else -(-n // batch_size)

    values = tf.constant(src.values)
    sentinel = tf.constant(len(src.values) - 1, tf.int64)  # the trailing 0
    # One int64 pair per window: (first target position, observed history length).
    meta = tf.constant(np.stack([src.starts, src.history], axis=1).astype(np.int64))
    hist_steps = tf.range(-lookback, 0, dtype=tf.int64)[None, :]
    target_steps = tf.range(horizon, dtype=tf.int64)[None, :]

    def batches(order):
        def take(b):
            return tf.gather(order, tf.range(b * batch_size, tf.minimum((b + 1) * batch_size, n)))

        return tf.data.Dataset.range(n_batches).map(take)

    if shuffle:
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)

        def permuted(key):
            return tf.random.experimental.stateless_shuffle(
                tf.range(n, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), key])
            )

        ds = keys.map(permuted).flat_map(batches)
    else:
        ds = batches(tf.range(n, dtype=tf.int64))

    def gather(rows):
        m = tf.gather(meta, rows)
        start, hist = m[:, :1], m[:, 1:]
        mask = hist_steps >= -hist  # left padding: the last `hist` steps are observed
        pos = tf.where(mask, start + hist_steps, sentinel)
        X = tf.gather(values, pos)[:, :, None]
        Y = tf.gather(values, start + target_steps)
        if padded:
            return {"history": X, "mask": mask}, Y
        return X, Y

    ds = ds.map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
