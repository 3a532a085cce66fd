"""The classical baselines computed inside a TensorFlow graph, from the histories a client sends.

Each function mirrors a kernel of :mod:`forecastkit.forecasters.baselines` and
:mod:`forecastkit.forecasters._classical` on a batch of left-padded series (``x`` and ``mask``
float64 of shape (batch, timesteps), the last step observed): M4's seasonality test (with R's
lag cap) and multiplicative decomposition, Naive2, Theta, Comb and the smoothing methods (fitted
by :mod:`._smoothing_graph`; a seasonal series that is not strictly positive is decomposed
additively, as the baselines do), and the fallback to Naive2 for series a method cannot take (too
short, or non-finite forecasts). Only the methods listed in :data:`GRAPH_METHODS` can go into a
graph; ETS and ARIMA (statsmodels' model selection) cannot.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from forecastkit.export._smoothing_graph import smoothing_forecast, smoothing_forecasts
from forecastkit.forecasters import baselines as _b

__all__ = ["GRAPH_METHODS", "classical_forecast"]

_F64 = tf.float64


class _Series:
    """Per-series facts of a left-padded batch that every method needs."""

    def __init__(self, x, mask):
        self.x = x * mask  # padding exactly 0
        self.mask = mask
        self.width = tf.shape(x)[1]
        self.n = tf.reduce_sum(mask, axis=1)  # (batch,) float64
        n_int = tf.cast(self.n, tf.int32)
        # Steps since each series' first observation (negative on the padding).
        self.t_rel = tf.range(self.width)[None, :] - (self.width - n_int)[:, None]
        self.n_int = n_int
        self.last = x[:, -1]
        self.first = tf.gather(x, self.width - n_int, axis=1, batch_dims=1)


def _lag_cap_length(m: int) -> float:
    """Fewest observations for which R's default ``acf`` reaches lag ``m``
    (``m <= min(floor(10 log10 n), n - 1)``, as :func:`._classical.seasonality_test` checks)."""
    start = 10.0 ** (m / 10.0)
    if start > 1e15:
        return math.inf
    n = max(1, int(start) - 2)
    while min(int(math.floor(10 * math.log10(n))), n - 1) < m:
        n += 1
    return float(n)


def _seasonal(s: _Series, m: int):
    """M4's 90% seasonality test at lag ``m`` (with R's lag cap), (batch,) bool."""
    mean = tf.reduce_sum(s.x, axis=1, keepdims=True) / s.n[:, None]
    d = (s.x - mean) * s.mask
    denom = tf.reduce_sum(d * d, axis=1)
    r = tf.stack([tf.reduce_sum(d[:, :-k] * d[:, k:], axis=1) for k in range(1, m + 1)],
                 axis=1) / denom[:, None]
    limit = 1.645 * tf.sqrt((1.0 + 2.0 * tf.reduce_sum(r[:, : m - 1] ** 2, axis=1)) / s.n)
    long_enough = (s.n >= 3 * m) & (s.n >= _lag_cap_length(m))
    return long_enough & (denom > 0) & (tf.abs(r[:, m - 1]) > limit)


def _figures(s: _Series, m: int):
    """Seasonal figures of R's ``decompose``, each (batch, m), position 0 being each series'
    first observation: the multiplicative indices (mean ratio to the centred moving average,
    normalised to mean 1) and the additive components (mean difference, normalised to mean 0)."""
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(w) // 2
    valid_width = s.width - len(w) + 1
    trend = tf.add_n([float(w[j]) * s.x[:, j : j + valid_width] for j in range(len(w))])
    trend = tf.pad(trend, [[0, 0], [half, half]])
    valid = (s.t_rel >= half) & (tf.range(s.width)[None, :] < s.width - half)
    zeros = tf.zeros_like(trend)
    ratio = tf.where(valid, s.x / tf.where(valid, trend, tf.ones_like(trend)), zeros)
    difference = tf.where(valid, s.x - trend, zeros)
    hot = tf.one_hot(tf.math.floormod(s.t_rel, m), m, dtype=_F64) * tf.cast(valid, _F64)[..., None]
    count = tf.reduce_sum(hot, axis=1)
    indices = tf.reduce_sum(ratio[..., None] * hot, axis=1) / count
    components = tf.reduce_sum(difference[..., None] * hot, axis=1) / count
    return (indices / tf.reduce_mean(indices, axis=1, keepdims=True),
            components - tf.reduce_mean(components, axis=1, keepdims=True))


def _deseasonalise(s: _Series, m: int, horizon: int):
    """``(values, reseasonalise)``: the series with its season taken out where M4's test finds
    one (divided by the multiplicative indices, or, for a series not strictly positive, less
    the additive components), and the function that puts the season of the next ``horizon``
    steps back into a forecast of shape (batch, horizon)."""
    if m <= 1 or (s.x.shape[1] is not None and s.x.shape[1] < 3 * m):
        return s.x, lambda forecast: forecast  # nothing that short can pass the test
    seasonal = _seasonal(s, m)[:, None]
    unobserved = tf.fill(tf.shape(s.x), tf.constant(np.inf, _F64))
    positive = tf.reduce_min(tf.where(s.mask > 0, s.x, unobserved), axis=1)[:, None] > 0
    indices, components = _figures(s, m)
    indices = tf.where(seasonal & positive, indices, tf.ones_like(indices))
    components = tf.where(seasonal & ~positive, components, tf.zeros_like(components))
    pos = tf.math.floormod(tf.maximum(s.t_rel, 0), m)
    at = lambda figure, where: tf.gather(figure, where, axis=1, batch_dims=1)  # noqa: E731
    values = tf.where(positive, s.x / at(indices, pos), s.x - at(components, pos)) * s.mask
    ahead = tf.math.floormod(s.n_int[:, None] + tf.range(horizon)[None, :], m)

    def reseasonalise(forecast):
        return tf.where(positive, forecast * at(indices, ahead), forecast + at(components, ahead))

    return values, reseasonalise


def _theta(values, s: _Series, horizon: int):
    t = tf.cast(s.t_rel + 1, _F64) * s.mask
    t_mean = tf.reduce_sum(t, axis=1, keepdims=True) / s.n[:, None]
    y_mean = tf.reduce_sum(values, axis=1, keepdims=True) / s.n[:, None]
    dt = (t - t_mean) * s.mask
    sxx = tf.reduce_sum(dt * dt, axis=1, keepdims=True)
    sxx = tf.where(sxx > 0, sxx, tf.ones_like(sxx))
    slope = tf.reduce_sum(dt * (values - y_mean), axis=1, keepdims=True) / sxx
    intercept = y_mean - slope * t_mean
    line = (2.0 * values - (intercept + slope * t)) * s.mask
    ses = smoothing_forecast(line, s.mask, "ses", horizon)
    ahead = s.n[:, None] + tf.range(1, horizon + 1, dtype=_F64)[None, :]
    return 0.5 * ses + 0.5 * (intercept + slope * ahead)


def _comb(values, s: _Series, horizon: int):
    ses, holt, damped = smoothing_forecasts([values] * 3, ["ses", "holt", "damped"], s.mask,
                                            horizon)
    return (ses + holt + damped) / 3.0


def _on_deseasonalised(kind):
    def method(values, s, horizon):
        return smoothing_forecast(values, s.mask, kind, horizon)

    return method


def _steps(horizon: int):
    return tf.range(1, horizon + 1, dtype=_F64)[None, :]


def _naive(s, m, horizon):
    return tf.repeat(s.last[:, None], horizon, axis=1)


def _snaive(s, m, horizon):
    # The last season repeated: step h is the value m - (h mod m) steps before the end.
    back = [m - (h % m) for h in range(horizon)]
    padded = tf.pad(s.x, [[0, 0], [max(m - 1, 0), 0]])
    return tf.stack([padded[:, -b] for b in back], axis=1)


def _drift(s, m, horizon):
    slope = (s.last - s.first) / tf.maximum(s.n - 1.0, 1.0)
    return s.last[:, None] + slope[:, None] * _steps(horizon)


def _mean(s, m, horizon):
    return tf.repeat((tf.reduce_sum(s.x, axis=1) / s.n)[:, None], horizon, axis=1)


# class -> (direct method on the series, or method on the deseasonalised series)
GRAPH_METHODS = {
    _b.Naive: ("direct", _naive),
    _b.SeasonalNaive: ("direct", _snaive),
    _b.Drift: ("direct", _drift),
    _b.Mean: ("direct", _mean),
    _b.Naive2: ("deseasonalised", lambda values, s, horizon: tf.repeat(
        values[:, -1:], horizon, axis=1)),
    _b.SES: ("deseasonalised", _on_deseasonalised("ses")),
    _b.Holt: ("deseasonalised", _on_deseasonalised("holt")),
    _b.Damped: ("deseasonalised", _on_deseasonalised("damped")),
    _b.Comb: ("deseasonalised", _comb),
    _b.Theta: ("deseasonalised", _theta),
}


def classical_forecast(forecaster, x, mask, horizon: int):
    """``forecaster.predict_array(horizon, y=histories)`` for a fitted baseline of
    :data:`GRAPH_METHODS`, inside the graph.

    Parameters
    ----------
    forecaster : baseline
        Its ``season_length`` and minimum length are read; nothing fitted is used (a local
        model is fitted anew on the histories, as ``predict(y=...)`` does).
    x, mask : tf.Tensor of shape (batch, timesteps), float64
        Left-padded histories; the last step observed.
    horizon : int

    Returns
    -------
    tf.Tensor of shape (batch, horizon), float64
    """
    kind, method = GRAPH_METHODS[type(forecaster)]
    m = int(forecaster.season_length)
    s = _Series(x, mask)
    values, reseasonalise = _deseasonalise(s, m, horizon)
    naive2 = reseasonalise(tf.repeat(values[:, -1:], horizon, axis=1))
    if kind == "direct":
        forecast = method(s, m, horizon)
    else:
        forecast = reseasonalise(method(values, s, horizon))
    too_short = s.n < float(forecaster._required_length())
    failed = ~tf.reduce_all(tf.math.is_finite(forecast), axis=1)
    return tf.where((too_short | failed)[:, None], naive2, forecast)
