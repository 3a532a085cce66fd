"""Probabilistic-forecast scores of one series: interval coverage, M4's MSIS, the pinball loss
and the CRPS (from quantiles or from samples); conventions in :mod:`forecastkit.metrics`."""

from __future__ import annotations

import numpy as np

from forecastkit.exceptions import InvalidInputError
from forecastkit.metrics.point import _pair, _scaled, mase_scale

__all__ = ["coverage", "msis", "pinball", "crps", "crps_quantiles", "crps_samples"]


def coverage(y, lower, upper) -> float:
    """Share of actuals inside their prediction interval ``[lower, upper]`` (0..1).

    Parameters
    ----------
    y, lower, upper : array-like of shape (horizon,)

    Returns
    -------
    float
        NaN when any input holds NaN: a step without an actual or a bound is neither inside
        nor outside (counting it as a miss would blame the interval for missing data).
    """
    y, lower = _pair(y, lower)
    _, upper = _pair(y, upper)
    if np.isnan(y).any() or np.isnan(lower).any() or np.isnan(upper).any():
        return float("nan")
    return float(np.mean((y >= lower) & (y <= upper)))


def _check_fraction(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0 < v < 1:
        raise InvalidInputError(f"{name} must be in (0, 1), got {value!r}")
    return v


def msis(y, lower, upper, y_train, season_length: int = 1, alpha: float = 0.05) -> float:
    """Mean scaled interval score (M4) of a central ``1 - alpha`` prediction interval.

    ``mean over steps of (U - L) + 2/alpha (L - y) 1{y < L} + 2/alpha (y - U) 1{y > U}``,
    divided by the in-sample mean absolute seasonal difference of ``y_train`` (MASE's scale).
    Lower is better: a wide interval pays its width, a narrow one ``2/alpha`` times each miss.

    Parameters
    ----------
    y, lower, upper : array-like of shape (horizon,)
        Actuals and the interval's bounds.
    y_train : array-like of shape (n,)
        The training series the forecast continues (n >= 2).
    season_length : int
        ``m`` of the scale (m = 1 when the series has at most ``m`` points).
    alpha : float
        The interval's miscoverage: 0.05 for the 95% intervals M4 scored.

    Returns
    -------
    float
        ``inf`` for a constant training series (``nan`` when the score is also 0).

    Raises
    ------
    InvalidInputError
        Lengths differ, ``alpha`` outside (0, 1), or a lower bound above its upper bound.
    """
    y, lower = _pair(y, lower)
    _, upper = _pair(y, upper)
    alpha = _check_fraction(alpha, "alpha")
    crossed = np.flatnonzero(lower > upper)
    if len(crossed):
        i = crossed[0]
        raise InvalidInputError(
            f"the lower bound is above the upper bound at step {i} ({lower[i]} > {upper[i]}); "
            f"pass the bounds in the order (lower, upper)"
        )
    # np.maximum passes NaN through, where a comparison would treat it as "not a miss".
    penalty = np.maximum(lower - y, 0.0) + np.maximum(y - upper, 0.0)
    score = np.mean(upper - lower + (2.0 / alpha) * penalty)
    return _scaled(score, mase_scale(y_train, season_length))


def _quantile_inputs(y, q, levels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``y`` (h,), ``q`` (h, k) and ``levels`` (k,), checked."""
    levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0:
        raise InvalidInputError("levels must be a non-empty sequence of quantile levels")
    bad = levels[~((levels > 0) & (levels < 1))]
    if bad.size:
        raise InvalidInputError(f"quantile level {bad[0]!r} is outside (0, 1)")
    y = np.asarray(y, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 1 and levels.size == 1:
        q = q[:, None]
    if q.shape != (y.size, levels.size):
        raise InvalidInputError(
            f"q must have shape (horizon, n_levels) = ({y.size}, {levels.size}), one column "
            f"per level; got {q.shape}"
        )
    if y.size == 0:
        raise InvalidInputError("y is empty")
    return y, q, levels


def pinball(y, q, levels, y_train=None, season_length: int = 1) -> float:
    """Mean quantile (pinball) loss over steps and levels.

    The loss of quantile forecast ``q`` at level ``tau`` is ``tau (y - q)`` when ``y >= q``
    and ``(1 - tau)(q - y)`` otherwise.

    Parameters
    ----------
    y : array-like of shape (horizon,)
    q : array-like of shape (horizon, n_levels)
        Quantile forecasts, one column per level (shape (horizon,) with a single level).
    levels : array-like of shape (n_levels,)
        Levels in (0, 1).
    y_train : array-like of shape (n,), optional
        With it, the loss is divided by the in-sample seasonal-naive MAE of the training
        series (MASE's scale), so series of different sizes average.
    season_length : int
        ``m`` of that scale.

    Returns
    -------
    float
    """
    y, q, levels = _quantile_inputs(y, q, levels)
    diff = y[:, None] - q
    loss = np.mean(np.maximum(levels * diff, (levels - 1.0) * diff))
    if y_train is None:
        return float(loss)
    return _scaled(loss, mase_scale(y_train, season_length))


def crps_quantiles(y, q, levels) -> float:
    """CRPS approximated from quantile forecasts: twice the mean pinball loss over levels.

    The CRPS is ``2 * integral over tau in (0, 1) of the pinball loss at tau``; the mean over
    an evenly spaced grid of levels is that integral by the midpoint rule (levels
    ``(j - 0.5) / K``, j = 1..K, converge to the CRPS as K grows). A grid that leaves out
    the tails (e.g. 0.05..0.95) measures the central part of the distribution only.

    Parameters
    ----------
    y : array-like of shape (horizon,)
    q : array-like of shape (horizon, n_levels)
    levels : array-like of shape (n_levels,)

    Returns
    -------
    float
        Mean over steps.
    """
    return 2.0 * pinball(y, q, levels)


def crps_samples(y, samples) -> float:
    """CRPS of the empirical distribution of sample paths, ``E|X - y| - E|X - X'| / 2``.

    Exact for the sample (every pair of draws counted, the draw with itself included), which
    is the CRPS of the step function through the samples, computed from sorted samples in
    ``O(n log n)`` per step.

    Parameters
    ----------
    y : array-like of shape (horizon,)
    samples : array-like of shape (n_samples, horizon)
        Draws of the forecast distribution of each step (e.g. ``sample_paths(...)[i].T``
        transposed: one row per path).

    Returns
    -------
    float
        Mean over steps.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1 and y.size == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != y.size or x.shape[0] == 0 or y.size == 0:
        raise InvalidInputError(
            f"samples must have shape (n_samples, horizon) with horizon = {y.size} and at "
            f"least one sample; got {x.shape}"
        )
    n = x.shape[0]
    x = np.sort(x, axis=0)
    spread_to_y = np.mean(np.abs(x - y), axis=0)
    # sum over pairs |x_i - x_j| = 2 sum_i (2i - n - 1) x_(i) for sorted x (i = 1..n)
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    pair_mean = 2.0 * (weights @ x) / n**2
    return float(np.mean(spread_to_y - 0.5 * pair_mean))


def crps(y, forecast, levels=None) -> float:
    """CRPS from samples (``levels=None``) or from quantiles at ``levels``.

    ``crps(y, samples)`` is :func:`crps_samples`; ``crps(y, q, levels)`` is
    :func:`crps_quantiles`.
    """
    if levels is None:
        return crps_samples(y, forecast)
    return crps_quantiles(y, forecast, levels)
