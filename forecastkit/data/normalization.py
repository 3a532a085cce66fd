"""Per-window normalisation, the step between raw windows and the network, as Keras layers.

One global network learns from many series of very different scales because it never sees a
scale: each window is put in log space (positive, multiplicative data), optionally stripped of its
seasonal component, and expressed relative to its own level. The same layer normalises the
training windows (a step of :func:`forecastkit.data.window_dataset`'s pipeline) and the serving
model's input, so training, ``predict`` and the SavedModel cannot disagree.

The seasonal component is estimated from the window alone, as the M4 Naive2 benchmark does from
a whole series: a seasonality test at the 90% level on the autocorrelation at lag
``season_length`` (needs ``3 * season_length`` observations), then a classical decomposition
(centred moving average, mean detrended value per season position), applied additively in log
space (multiplicatively in the original units). Unlike M4's R code, the test here does not stop
at R's default largest lag ``10 log10(n)``: that cap is an artefact of ``acf``'s default number of
lags, and it would switch deseasonalisation off for every hourly window shorter than 252 steps
(``tests/data/test_normalization.py`` holds the two tests equal where the cap does not bind).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from forecastkit.data.gap_filling import apply_gap_plan, gap_plan

__all__ = ["WindowNormalizer", "ForecastDenormalizer", "window_seasonality"]

_PACKAGE = "forecastkit"
# exp() of a normalised log forecast is clipped to this many e-folds around the window's level
# (a factor of 5e8): only a diverged network reaches it, and float32 would overflow to inf.
MAX_LOG_RATIO = 20.0
# A window's spread (mean absolute deviation) below this fraction of its level is round-off of a
# flat window (float32 carries about 7 digits), not a scale to divide by.
_RELATIVE_FLAT = 1e-6
# A centre of the seasonal decomposition's moving average whose span has missing values is used
# when at least this share of the average's weight is observed (at most 3 of 12 monthly values
# missing).
MIN_TREND_WEIGHT = 0.75
# Below float32's smallest normal number a level is zero for all purposes.
_TINY = 1e-37


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WindowNormalizer(keras.layers.Layer):
    """Normalise each history window by its own level (and scale), optionally deseasonalised.

    Call on ``[history, mask]``: history ``(batch, window)`` in original units, mask
    ``(batch, window)`` with 1 where observed (padding is on the left; a missing value inside
    the window is masked the same way, and every statistic skips it). Returns
    ``[z, level, scale, seasonal]``: ``z`` of shape ``(batch, window)`` (zero where padded),
    ``level`` and ``scale`` of shape ``(batch, 1)``, and ``seasonal`` of shape
    ``(batch, horizon)``, the seasonal component of the forecast steps (zero when the window is
    not seasonal).

    Parameters
    ----------
    log : bool
        Work on ``log(history)`` (positive, multiplicative data; ``scale`` is then 1). Observed
        values must be > 0: the forecasters check that before calling.
    level_window : int
        Number of most recent (deseasonalised) observed values whose mean is the level.
    season_length : int
        Seasonal period; 1 disables deseasonalisation.
    deseasonalize : bool
        Remove the window's seasonal component (when the window passes the test).
    horizon : int
        Number of forecast steps whose seasonal component is returned.
    normalize : bool
        Subtract the level and divide by the scale. False keeps the values as they are
        (``level`` 0, ``scale`` 1).
    interpolate_gaps : bool
        For data with missing values: the level, scale and seasonal component of a window
        with gaps (masked steps after its first observed one) are estimated from the window
        filled across them (in log space with ``log``) by
        :func:`~forecastkit.data.gap_filling.interpolate_gaps`: a gap shorter than half a
        season linearly, a longer one from the neighbouring cycles. ``z`` holds the filled
        values there, filled again after deseasonalising (a short gap's line then keeps the
        season's shape). Left padding stays out of every statistic. Without it the
        statistics skip the gaps, and the moving average of a span with a gap, renormalised
        over its observed values, lacks that season position, which leaks a strong season
        into the trend and the profile. A window without gaps gives the same result either
        way.
    """

    def __init__(
        self,
        log: bool = True,
        level_window: int = 1,
        season_length: int = 1,
        deseasonalize: bool = False,
        horizon: int = 1,
        normalize: bool = True,
        interpolate_gaps: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.normalize = bool(normalize)
        self.interpolate_gaps = bool(interpolate_gaps)
        self.log = bool(log)
        self.level_window = int(level_window)
        self.season_length = int(season_length)
        self.deseasonalize = bool(deseasonalize)
        self.horizon = int(horizon)

    def call(self, inputs):
        history, mask = inputs
        mask = ops.cast(mask, self.compute_dtype)
        x = ops.cast(history, self.compute_dtype)
        # Padded slots may hold anything (zeros, junk): replace them by 1 before the log.
        x = ops.where(mask > 0, x, ops.ones_like(x))
        if self.log:
            x = ops.log(x)
        if self.interpolate_gaps:
            # From the first observed step on, every step counts: the gaps are filled (a
            # short one by the line between its neighbours, one of half a season or more
            # from the neighbouring cycles); padding keeps 0 and stays masked.
            live = ops.cast(ops.cumsum(mask, axis=1) > 0, self.compute_dtype)
            gap = (live > 0) & (mask <= 0)
            # Where each gap's fill comes from, found once for both fills below.
            plan = gap_plan(mask, self.season_length, self.compute_dtype)
            x = ops.where(gap, apply_gap_plan(x, plan), x)
            mask = live
        window = x.shape[1]
        m = self.season_length
        if self.deseasonalize and m > 1 and window is not None and window > 2 * m:
            s_in, s_out = window_seasonality(x, mask, m, self.horizon)
            x = x - s_in
            if self.interpolate_gaps:
                # Fill again with the season taken out: a short gap's line then runs between
                # deseasonalised neighbours and keeps the season's shape inside the gap. A
                # long gap's fill is the same either way (the season is one value per
                # position).
                x = ops.where(gap, apply_gap_plan(x, plan), x)
        else:
            s_out = ops.zeros_like(x[:, :1]) * ops.zeros((1, self.horizon), dtype=x.dtype)
        k = min(self.level_window, window) if window is not None else self.level_window
        tail_x, tail_m = x[:, -k:], mask[:, -k:]
        tail_count = ops.sum(tail_m, axis=1, keepdims=True)
        level = ops.sum(tail_x * tail_m, axis=1, keepdims=True) / ops.maximum(tail_count, 1.0)
        # Every recent value missing (a gap at the end): the mean of all observed values.
        count = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
        level = ops.where(tail_count > 0, level,
                          ops.sum(x * mask, axis=1, keepdims=True) / count)
        if self.log:
            scale = ops.ones_like(level)
        else:
            scale = _spread(x, mask, level)
        if not self.normalize:
            level, scale = ops.zeros_like(level), ops.ones_like(level)
        z = (x - level) / scale * mask
        return [z, level, scale, s_out]

    def normalize_targets(self, future, level, scale, seasonal):
        """Targets ``(batch, horizon)`` in original units -> normalised space."""
        y = ops.cast(future, self.compute_dtype)
        if self.log:
            y = ops.log(y)
        return (y - seasonal[:, : y.shape[1]] - level) / scale

    def normalize_batch(self, inputs: dict, targets):
        """A tf.data step: raw windows -> what a network trains on.

        Parameters
        ----------
        inputs : dict
            ``history`` (batch, window) and ``mask`` (batch, window) as float32 (1 where
            observed), and optionally ``position`` (batch,) and the covariates
            (``past_cov``, ``future_cov``, ``static``), passed through.
        targets : tensor of shape (batch, horizon)
            Values after each window, original units.

        Returns
        -------
        tuple
            ``({"z", "mask", ["position"]}, normalised targets)`` with ``z`` of shape
            (batch, window).
        """
        z, level, scale, seasonal = self([inputs["history"], inputs["mask"]])
        out = {"z": z, "mask": inputs["mask"]}
        for key in ("position", "past_cov", "future_cov", "static"):
            if key in inputs:  # passed through: covariates are scaled in the network
                out[key] = inputs[key]
        return out, self.normalize_targets(targets, level, scale, seasonal)

    def compute_output_shape(self, input_shape):
        history_shape = input_shape[0]
        batch = history_shape[0]
        return [history_shape, (batch, 1), (batch, 1), (batch, self.horizon)]

    def get_config(self):
        return {
            **super().get_config(),
            "log": self.log,
            "level_window": self.level_window,
            "season_length": self.season_length,
            "deseasonalize": self.deseasonalize,
            "horizon": self.horizon,
            "normalize": self.normalize,
            "interpolate_gaps": self.interpolate_gaps,
        }


def _spread(x, mask, level):
    """Mean absolute deviation of each window from its level, shape (batch, 1).

    A flat window (spread below a millionth of the level: round-off) is scaled by the size of
    its level instead, so a series near 1e-9 is not divided by 1, and an all-zero window by 1.
    """
    n_obs = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
    mad = ops.sum(ops.abs(x - level) * mask, axis=1, keepdims=True) / n_obs
    size = ops.abs(level)
    fallback = ops.where(size > _TINY, size, ops.ones_like(level))
    return ops.where((mad > _RELATIVE_FLAT * size) & (mad > _TINY), mad, fallback)


def window_seasonality(x, mask, m: int, horizon: int):
    """Seasonal component of each window, for its own steps and the next ``horizon`` steps.

    Parameters
    ----------
    x : tensor of shape (batch, window)
        Values (log values for multiplicative data); anything at padded steps.
    mask : tensor of shape (batch, window)
        1 where observed.
    m : int
        Season length.
    horizon : int

    Returns
    -------
    s_in : tensor of shape (batch, window)
        Zero where padded, and for windows that fail the seasonality test.
    s_out : tensor of shape (batch, horizon)
    """
    window = x.shape[1]
    dtype = x.dtype
    # Centred moving average: 2 x m for even m (weights 1/2m at both ends), m for odd m.
    weights = np.ones(m + 1 if m % 2 == 0 else m) / m
    if m % 2 == 0:
        weights[0] = weights[-1] = 0.5 / m
    width, half = len(weights), len(weights) // 2
    kernel = ops.convert_to_tensor(weights[:, None, None], dtype=dtype)
    trend = ops.conv((x * mask)[..., None], kernel, padding="valid")[..., 0]
    ones = ops.convert_to_tensor(np.ones((width, 1, 1)), dtype=dtype)
    covered = ops.conv(mask[..., None], ones, padding="valid")[..., 0]
    valid = ops.cast(covered > width - 0.5, dtype)
    # Missing values inside the history (not padding): a centre whose span is all after the
    # first observation, with at least MIN_TREND_WEIGHT of the average's weight observed,
    # gets the average over its observed values (weights renormalised). Requiring a complete
    # span would leave a window with 10 % of its monthly values missing about a quarter of
    # its centres, too few for a seasonal profile. Complete spans keep the plain average.
    # (A renormalised average no longer cancels the season exactly: the phases it lacks leak
    # a little of the season into the trend, which the 75 % bar keeps small.)
    live = ops.cast(ops.cumsum(mask, axis=1) > 0, dtype)
    live_span = ops.conv(live[..., None], ones, padding="valid")[..., 0] > width - 0.5
    seen = ops.conv(mask[..., None], kernel, padding="valid")[..., 0]
    gappy = live_span & (seen >= MIN_TREND_WEIGHT) & (mask[:, half : window - half] > 0)
    trend = ops.where(valid > 0, trend, trend / ops.maximum(seen, MIN_TREND_WEIGHT))
    valid = ops.maximum(valid, ops.cast(gappy, dtype))
    detrended = (x[:, half : window - half] - trend) * valid
    # Season position of every step, counted back from the first forecast step (position 0).
    phase = (np.arange(window) - window) % m
    centre = ops.convert_to_tensor(np.eye(m)[phase[half : window - half]], dtype=dtype)
    sums = ops.matmul(detrended, centre)
    counts = ops.matmul(valid, centre)
    profile = sums / ops.maximum(counts, 1.0)
    profile = profile - ops.mean(profile, axis=1, keepdims=True)
    profile = profile * _passes_seasonality_test(x, mask, m, counts)
    s_in = ops.matmul(profile, ops.convert_to_tensor(np.eye(m)[phase].T, dtype=dtype))
    future = np.eye(m)[np.arange(horizon) % m]
    s_out = ops.matmul(profile, ops.convert_to_tensor(future.T, dtype=dtype))
    return s_in * mask, s_out


def _passes_seasonality_test(x, mask, m: int, counts):
    """1.0 for windows with ``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)`` and ``n >= 3m``
    (M4's test; autocorrelations as R's ``acf``), else 0.0. Shape (batch, 1)."""
    dtype = x.dtype
    n = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
    mean = ops.sum(x * mask, axis=1, keepdims=True) / n
    dev = (x - mean) * mask
    denom = ops.sum(dev * dev, axis=1, keepdims=True) + 1e-12
    acf_sq = ops.zeros_like(denom)

    def acf(k):
        r = ops.sum(dev[:, k:] * dev[:, :-k], axis=1, keepdims=True) / denom
        # A missing value drops its pairs from the sum: scale it up to the n - k pairs a
        # contiguous history has (a factor of exactly 1 without gaps).
        pairs = ops.sum(mask[:, k:] * mask[:, :-k], axis=1, keepdims=True)
        # Unclipped: with very few pairs left |r| may pass 1, which only makes the test
        # stricter through the r_k (k < m) and passes on r_m, as a strong autocorrelation would.
        return r * ops.where(pairs > 0, ops.maximum(n - k, 0.0) / ops.maximum(pairs, 1.0), 1.0)

    for k in range(1, m):
        r_k = acf(k)
        acf_sq = acf_sq + r_k * r_k
    r_m = acf(m)
    limit = 1.645 * ops.sqrt((1.0 + 2.0 * acf_sq) / n)
    return (
        ops.cast(ops.abs(r_m) > limit, dtype)
        * ops.cast(n >= 3 * m, dtype)
        * ops.cast(ops.min(counts, axis=1, keepdims=True) >= 1.0, dtype)
    )


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ForecastDenormalizer(keras.layers.Layer):
    """Undo :class:`WindowNormalizer`: ``[z_pred, level, scale, seasonal]`` -> original units.

    ``z_pred`` of shape (batch, horizon) or (batch, horizon, k) (k quantiles or samples per
    step); ``level``/``scale`` (batch, 1); ``seasonal`` (batch, >= horizon).
    """

    def __init__(self, log: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.log = bool(log)

    def call(self, inputs):
        z, level, scale, seasonal = inputs
        seasonal = seasonal[:, : z.shape[1]]
        if len(z.shape) == 3:
            level, scale, seasonal = level[..., None], scale[..., None], seasonal[..., None]
        y = z * scale + seasonal
        if self.log:
            y = ops.clip(y, -MAX_LOG_RATIO, MAX_LOG_RATIO)
        y = y + level
        return ops.exp(y) if self.log else y

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "log": self.log}
