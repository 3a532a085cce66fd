"""Point-forecast accuracy of one series: sMAPE, MASE, OWA and their kin (M4's definitions;
conventions in :mod:`forecastkit.metrics`)."""

from __future__ import annotations

import numpy as np

from forecastkit.exceptions import InvalidInputError

__all__ = ["mae", "rmse", "mape", "smape", "mase", "mase_scale", "rmsse", "owa",
           "seasonal_scales"]


def _pair(y, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != y_pred.shape:
        raise InvalidInputError(f"y has {y.shape[0]} values but y_pred has {y_pred.shape[0]}")
    if y.size == 0:
        raise InvalidInputError("y is empty")
    return y, y_pred


def mae(y, y_pred) -> float:
    """Mean absolute error, ``mean |y - y_pred|``."""
    y, y_pred = _pair(y, y_pred)
    return float(np.mean(np.abs(y - y_pred)))


def rmse(y, y_pred) -> float:
    """Root mean squared error, ``sqrt(mean (y - y_pred)^2)``."""
    y, y_pred = _pair(y, y_pred)
    return float(np.sqrt(np.mean((y - y_pred) ** 2)))


def mape(y, y_pred) -> float:
    """Mean absolute percentage error in percent, ``100 mean |y - y_pred| / |y|``."""
    y, y_pred = _pair(y, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(100.0 * np.mean(np.abs(y - y_pred) / np.abs(y)))


def smape(y, y_pred) -> float:
    """Symmetric MAPE in percent (M4): ``mean 200 |y - y_pred| / (|y| + |y_pred|)``.

    A step where both values are exactly 0 counts as 0 error; a NaN in either input makes the
    result NaN (it is not a 0/0 step, and counting it as a perfect forecast would reward a
    model that failed).
    """
    y, y_pred = _pair(y, y_pred)
    num = 200.0 * np.abs(y - y_pred)
    den = np.abs(y) + np.abs(y_pred)
    # `where=den != 0` lets NaN through (NaN != 0 is True); only an exact 0/0 is set to 0.
    terms = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    return float(np.mean(terms))


def _seasonal_diff(y_train, season_length: int) -> np.ndarray:
    x = np.asarray(y_train, dtype=np.float64).ravel()
    if x.size < 2:
        raise InvalidInputError(
            f"the training series has {x.size} value(s); a scaled error needs at least 2"
        )
    if isinstance(season_length, bool) or int(season_length) < 1:
        raise InvalidInputError(f"season_length must be a positive integer, got {season_length!r}")
    m = int(season_length)
    if x.size <= m:
        m = 1  # no full season in-sample: scale by the one-step naive error instead
    return x[m:] - x[:-m]


def _scaled(num: float, scale: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(num) / np.float64(scale))


def mase(y, y_pred, y_train, season_length: int = 1) -> float:
    """Mean absolute scaled error (M4).

    Parameters
    ----------
    y, y_pred : array-like of shape (horizon,)
    y_train : array-like of shape (n,)
        The training series the forecast continues.
    season_length : int
        ``m``: the scale is ``mean |x_t - x_{t-m}|`` over the training series (m = 1 when the
        series has at most ``m`` points).
    """
    y, y_pred = _pair(y, y_pred)
    return _scaled(np.mean(np.abs(y - y_pred)), mase_scale(y_train, season_length))


def mase_scale(y_train, season_length: int = 1) -> float:
    """MASE's denominator: ``mean |x_t - x_{t-m}|`` over the training series ``y_train``
    (shape (n,), n >= 2; m = 1 when the series has at most ``m`` points). 0 for a series
    whose seasonal differences are all 0, where every scaled error is undefined."""
    return float(np.mean(np.abs(_seasonal_diff(y_train, season_length))))


def rmsse(y, y_pred, y_train, season_length: int = 1) -> float:
    """Root mean squared scaled error (M5).

    ``sqrt(mean (y - y_pred)^2 / mean (x_t - x_{t-m})^2)``; arguments as :func:`mase`.
    """
    y, y_pred = _pair(y, y_pred)
    scale = np.mean(_seasonal_diff(y_train, season_length) ** 2)
    return float(np.sqrt(_scaled(np.mean((y - y_pred) ** 2), scale)))


def owa(smape: float, mase: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average (M4): ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.

    Pass set-level means (M4 computes OWA once per set, not per series).
    """
    return float(0.5 * (smape / smape_naive2 + mase / mase_naive2))


def seasonal_scales(values, indptr, season_length: int = 1) -> np.ndarray:
    """MASE's scale of every series of a panel, vectorised.

    Parameters
    ----------
    values : array-like of shape (n_obs,)
        The series one after another.
    indptr : array-like of shape (n_series + 1,)
        Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``.
    season_length : int

    Returns
    -------
    ndarray of shape (n_series,)
        :func:`mase_scale` of each series: ``mean |x_t - x_{t-m}|`` (m = 1 for a series of at
        most ``m`` points); NaN for a series of fewer than 2 points or holding NaN.
    """
    _check_season_length(season_length)
    x = np.asarray(values, dtype=np.float64).ravel()
    indptr = np.asarray(indptr, dtype=np.int64).ravel()
    lengths = np.diff(indptr)
    n = len(lengths)
    lag_of = np.where(lengths > int(season_length), int(season_length), 1)
    series_of = np.repeat(np.arange(n), lengths)
    lag = lag_of[series_of]
    idx = np.flatnonzero(np.arange(x.size) - indptr[:-1][series_of] >= lag)
    sums = np.bincount(series_of[idx], weights=np.abs(x[idx] - x[idx - lag[idx]]), minlength=n)
    counts = lengths - lag_of
    out = np.full(n, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def _check_season_length(season_length) -> None:
    if (isinstance(season_length, bool) or not isinstance(season_length, int | np.integer)
            or season_length < 1):
        raise InvalidInputError(f"season_length must be a positive integer, got {season_length!r}")
