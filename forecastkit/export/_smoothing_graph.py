"""Exponential smoothing fitted inside a TensorFlow graph: the search of
:mod:`forecastkit.forecasters._smoothing` (same model, bounds, grids and rounds, taken from that
module), so that a SavedModel fits SES, Holt and damped Holt to the histories a client sends as
``predict`` does.

The recursion over time is a TensorFlow loop, whose cost is mostly a fixed price per operation
and step, so several fits (Comb's SES, Holt and damped Holt) share one loop, their candidate
parameter points side by side (an SES point is a Holt point with ``beta = 0`` and ``phi = 1``
whose initial trend is held at 0). Each point's arithmetic is the NumPy search's, in the same
order, so the two agree to rounding (which the tests check).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from forecastkit.forecasters import _smoothing as _np

__all__ = ["smoothing_forecasts"]

_F64 = tf.float64


def _standardise(y, mask):
    def total(v):  # row sums in time order, as the NumPy search adds them
        return tf.math.cumsum(v, axis=1)[:, -1:]

    n = total(mask)
    mean = total(y * mask) / n
    scale = tf.sqrt(total(((y - mean) * mask) ** 2) / n)
    scale = tf.where(scale > 0, scale, tf.ones_like(scale))
    return (y - mean) / scale * mask, mean, scale


class _Lanes:
    """The static layout of one loop: which fit each parameter point belongs to."""

    def __init__(self, kinds: list[str], zoom: bool):
        self.kinds = kinds
        grids = [_np.zoom_offsets(k) if zoom else _np.coarse_grid(k)[0] for k in kinds]
        self.sizes = [len(g) for g in grids]
        self.starts = np.cumsum([0] + self.sizes)
        self.offsets = [tf.constant(g, _F64) for g in grids]
        self.fit = np.repeat(np.arange(len(kinds)), self.sizes)  # lane -> fit
        self.trend = tf.constant(np.repeat([k != "ses" for k in kinds], self.sizes))


def _sse_and_states(z, mask, points, lanes: _Lanes):
    """Error sums and final states of every point (:func:`forecastkit.forecasters._smoothing.
    profile_sse`, operation for operation): z (fits, batch, timesteps) standardised series,
    points (batch, lanes, 3) as (alpha, beta / alpha, phi). Returns sse, level, slope, each
    (batch, lanes)."""
    alpha, ratio, phi = points[..., 0], points[..., 1], points[..., 2]
    beta = alpha * ratio  # 0 on SES lanes (and phi 1): the recursion below is then SES's
    keep = 1.0 - alpha
    damp = (1.0 - beta) * phi
    zt = tf.gather(tf.transpose(z, [2, 1, 0]), lanes.fit, axis=2)  # (timesteps, batch, lanes)
    mt = tf.transpose(mask)[:, :, None]  # (timesteps, batch, 1)
    zero = tf.zeros_like(alpha)
    one = tf.ones_like(alpha)

    def step(t, *carry):
        # the NumPy search's step (holt_step), operation for operation
        m = mt[t]
        new, sums = _np.holt_step(zt[t], m, carry[:6], carry[6:], alpha, beta, phi, keep, damp)
        on = tf.broadcast_to(m > 0, tf.shape(alpha))  # the padding leaves the states as they are
        return (t + 1, *(tf.where(on, n, s) for n, s in zip(new, carry[:6], strict=True)), *sums)

    start = (tf.constant(0), zero, zero, one, zero, zero, one) + (zero,) * 6
    out = tf.while_loop(lambda t, *_: t < tf.shape(zt)[0], step, start)
    _, cl, cb, d00, d01, d10, d11, a00, a01, a11, q0, q1, rr = out
    # Holt lanes solve for (l0, b0); SES lanes for l0 alone, b0 = 0.
    ridge = _np.RIDGE * (a00 + a11)
    a00r = a00 + ridge
    a11r = a11 + ridge
    det = a00r * a11r - a01 * a01
    l0 = tf.where(lanes.trend, (a11r * q0 - a01 * q1) / det, q0 / a00)
    b0 = tf.where(lanes.trend, (a00r * q1 - a01 * q0) / det, zero)
    sse = tf.where(
        lanes.trend,
        rr - 2.0 * (l0 * q0 + b0 * q1) + (l0 * l0 * a00r + 2.0 * l0 * b0 * a01
                                         + b0 * b0 * a11r),
        rr - 2.0 * (l0 * q0) + l0 * l0 * a00,
    )
    sse = tf.where(tf.math.is_finite(sse), sse, tf.constant(np.inf, _F64))
    return sse, cl + d00 * l0 + d01 * b0, cb + d10 * l0 + d11 * b0


def _best(z, mask, points, lanes: _Lanes):
    """The best point of each fit: sse (batch, fits), point (batch, fits, 3), level, slope."""
    sse, level, slope = _sse_and_states(z, mask, points, lanes)
    picked = []
    for a, b in zip(lanes.starts[:-1], lanes.starts[1:], strict=True):
        i = tf.argmin(sse[:, a:b], axis=1, output_type=tf.int32)
        picked.append([tf.gather(v[:, a:b], i, axis=1, batch_dims=1)
                       for v in (sse, points, level, slope)])
    return [tf.stack(parts, axis=1) for parts in zip(*picked, strict=True)]


def smoothing_forecasts(series: list, kinds: list[str], mask, horizon: int) -> list:
    """Fit each ``kinds[i]`` ("ses", "holt" or "damped") to ``series[i]`` and forecast.

    Parameters
    ----------
    series : list of tf.Tensor of shape (batch, timesteps), float64
        Left-padded series (zero on the padding).
    kinds : list of str
    mask : tf.Tensor of shape (batch, timesteps), float64
    horizon : int

    Returns
    -------
    list of tf.Tensor of shape (batch, horizon), float64
        One forecast per fit.
    """
    standard = [_standardise(y, mask) for y in series]
    z = tf.stack([s[0] for s in standard])
    coarse, zoom = _Lanes(kinds, zoom=False), _Lanes(kinds, zoom=True)
    batch = tf.shape(mask)[0]
    grid = tf.concat(coarse.offsets, axis=0)
    points = tf.broadcast_to(grid[None], [batch, grid.shape[0], 3])
    best = _best(z, mask, points, coarse)
    lo = tf.constant(np.stack([_np.box(k)[0] for k in kinds]), _F64)  # (fits, 3)
    hi = tf.constant(np.stack([_np.box(k)[1] for k in kinds]), _F64)
    width = tf.constant(np.stack([_np.coarse_grid(k)[1] for k in kinds]), _F64)

    def refine(r, width, sse, point, level, slope):
        points = tf.concat([
            tf.clip_by_value(point[:, k, None, :] + zoom.offsets[k] * width[k], lo[k], hi[k])
            for k in range(len(kinds))], axis=1)
        found = _best(z, mask, points, zoom)
        better = found[0] < sse
        kept = [tf.where(better[..., None] if v.shape.rank == 3 else better, v, old)
                for v, old in zip(found, (sse, point, level, slope), strict=True)]
        return (r + 1, width / 2.0, *kept)

    out = tf.while_loop(lambda r, *_: r < _np.ZOOM_ROUNDS, refine,
                        (tf.constant(0), width, *best))
    point, level, slope = out[3], out[4], out[5]
    forecasts = []
    for k, kind in enumerate(kinds):
        _, mean, scale = standard[k]
        if kind == "ses":
            path = tf.repeat(level[:, k, None], horizon, axis=1)
        else:
            phi = point[:, k, 2]
            powers = tf.math.cumprod(tf.repeat(phi[:, None], horizon, axis=1), axis=1)
            path = level[:, k, None] + slope[:, k, None] * tf.math.cumsum(powers, axis=1)
        forecasts.append(mean + scale * path)
    return forecasts


def smoothing_forecast(y, mask, kind: str, horizon: int):
    """One fit: :func:`smoothing_forecasts` of ``[y]``, shape (batch, horizon)."""
    return smoothing_forecasts([y], [kind], mask, horizon)[0]
