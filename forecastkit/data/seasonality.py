"""M4's seasonality test: is a series' autocorrelation at its seasonal lag significant?

Used by the classical baselines (whether to deseasonalise,
:mod:`forecastkit.forecasters._classical`) and by :func:`forecastkit.data.fill_missing`'s
``"auto"`` (whether a series' gaps are filled around its season). Plain numpy, one series at a
time, following the M4 competition's R code (``Benchmarks and Evaluation.R`` in
Mcompetitions/M4-methods): autocorrelations as R's ``acf`` and a 90% one-sided test on lag
``m``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["acf_r", "seasonality_test"]


def acf_r(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelations at lags 1..max_lag exactly as R's ``acf`` computes them.

    Parameters
    ----------
    x : ndarray of shape (n,)
    max_lag : int

    Returns
    -------
    ndarray of shape (max_lag,)
        ``r_k = sum_t (x_t - mean)(x_{t+k} - mean) / sum_t (x_t - mean)^2`` (biased, divided by
        the full-length sum of squares); NaN for a constant series.
    """
    d = x - x.mean()
    denom = float(d @ d)
    n = len(x)
    out = np.array([float(d[: n - k] @ d[k:]) for k in range(1, max_lag + 1)])
    if denom == 0.0:
        return np.full(max_lag, np.nan)
    return out / denom


def seasonality_test(x: np.ndarray, m: int, *, lag_cap: bool = True) -> bool:
    """M4's 90% test: is lag ``m`` autocorrelation significant?

    Seasonal when ``m > 1``, ``n >= 3m`` and ``|r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n)``.
    R's ``acf`` stops at lag ``floor(10 log10 n)`` by default, so (as in the M4 code) a lag ``m``
    beyond that is NA and the series counts as not seasonal; ``lag_cap=False`` drops that
    artefact of R's defaults (the RNN's in-graph test,
    :func:`forecastkit.data.normalization.window_seasonality`, is this test without the cap).
    """
    n = len(x)
    if m <= 1 or n < 3 * m:
        return False
    if lag_cap and m > min(int(math.floor(10 * math.log10(n))), n - 1):
        return False
    r = acf_r(x, m)
    if not np.all(np.isfinite(r)):
        return False
    limit = 1.645 * math.sqrt((1.0 + 2.0 * float(np.sum(r[: m - 1] ** 2))) / n)
    return bool(abs(r[m - 1]) > limit)
