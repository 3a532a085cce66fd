"""Per-series kernels of the classical baselines (M4 definitions).

Every function here takes one series as a 1-D float array and returns plain numpy values, so the
forecaster classes in :mod:`forecastkit.forecasters.baselines` stay thin and the kernels can run
in joblib workers. The seasonality test and the decomposition follow the M4 competition's R code
(``Benchmarks and Evaluation.R`` in Mcompetitions/M4-methods): autocorrelations as R's ``acf``,
a 90% one-sided test on lag ``m``, and R's ``decompose(type="multiplicative")``.

A multiplicative decomposition means nothing for a series that is not strictly positive (a
ratio to a trend that crosses zero can be anything), so such a series is decomposed additively
instead, with the same moving-average trend (R's ``decompose(type="additive")``); the forecaster
classes warn about the series this happens to.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# The M4 seasonality test lives in the data layer (gap filling needs it too); the baselines
# use it from here.
from forecastkit.data.seasonality import acf_r, seasonality_test

__all__ = [
    "acf_r",
    "seasonality_test",
    "seasonal_indices",
    "seasonal_differences",
    "Deseasonalised",
    "deseasonalise",
    "naive2_forecast",
    "ses_forecast",
    "holt_forecast",
    "theta_forecast",
    "theta_line",
    "theta_combine",
    "ThetaTrend",
    "quiet",
]


@contextmanager
def quiet():
    """Silence statsmodels' convergence and numpy's runtime warnings inside a per-series fit.

    Over thousands of series these warnings are noise; a fit that really fails raises or gives
    non-finite forecasts, which the caller turns into a Naive2 fallback with its own warning.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------------------- seasonality


def _centred_trend(x: np.ndarray, m: int) -> np.ndarray:
    """Centred moving average of R's ``decompose`` (2 x m for even ``m``, m for odd), shape (n,);
    NaN where the window does not fit."""
    n = len(x)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    half = len(w) // 2
    trend = np.full(n, np.nan)
    trend[half : n - half] = np.convolve(x, w, mode="valid")
    return trend


def seasonal_indices(x: np.ndarray, m: int) -> np.ndarray:
    """Seasonal figure of R's ``decompose(x, type="multiplicative")``.

    The trend is a centred moving average (2 x m for even ``m``, m for odd); the figure is the
    mean ratio ``x / trend`` per position in the cycle, normalised to mean 1.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Needs ``n >= 2m`` (R's requirement).
    m : int

    Returns
    -------
    ndarray of shape (m,)
        Index of cycle position ``t % m`` (the series' first observation is position 0).
    """
    trend = _centred_trend(x, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / trend
    figure = np.array([np.nanmean(ratio[i::m]) for i in range(m)])
    return figure / figure.mean()


def seasonal_differences(x: np.ndarray, m: int) -> np.ndarray:
    """Seasonal figure of R's ``decompose(x, type="additive")``.

    The same trend as :func:`seasonal_indices`; the figure is the mean difference
    ``x - trend`` per position in the cycle, normalised to mean 0.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Needs ``n >= 2m``.
    m : int

    Returns
    -------
    ndarray of shape (m,)
        Component of cycle position ``t % m`` (the series' first observation is position 0).
    """
    detrended = x - _centred_trend(x, m)
    figure = np.array([np.nanmean(detrended[i::m]) for i in range(m)])
    return figure - figure.mean()


@dataclass
class Deseasonalised:
    """A series with its seasonality taken out, and how to put it back.

    ``kind`` says how: ``"multiplicative"`` (divided by seasonal indices), ``"additive"``
    (seasonal components subtracted; series that are not strictly positive) or ``"none"``
    (not seasonal: ``figure`` is all ones and nothing changes).
    """

    values: np.ndarray  # (n,) deseasonalised series
    figure: np.ndarray  # (m,) seasonal indices or components
    n: int  # training length: step h ahead has figure[(n + h - 1) % m]
    kind: str = "multiplicative"

    @property
    def seasonal(self) -> bool:
        return self.kind != "none"

    def future(self, horizon: int) -> np.ndarray:
        """Seasonal figure of the ``horizon`` steps after the series, shape (horizon,)."""
        pos = (self.n + np.arange(horizon)) % len(self.figure)
        return self.figure[pos]

    def reseasonalise(self, forecast: np.ndarray) -> np.ndarray:
        """Put the season back into a forecast of the deseasonalised series, shape (horizon,)."""
        forecast = np.asarray(forecast)
        if self.kind == "additive":
            return forecast + self.future(len(forecast))
        return forecast * self.future(len(forecast))

    def rescale(self, sd: np.ndarray) -> np.ndarray:
        """Standard deviations of forecast errors on the deseasonalised scale to the series'
        scale, shape (horizon,): times the seasonal indices (positive, as the series is) for
        a multiplicative season, unchanged for an additive one or none."""
        sd = np.asarray(sd, dtype=np.float64)
        return sd * self.future(len(sd)) if self.kind == "multiplicative" else sd


def deseasonalise(x: np.ndarray, m: int) -> Deseasonalised:
    """Take out the decomposition's season when M4's seasonality test says there is one.

    Multiplicative (M4's choice) for a strictly positive series, additive otherwise.
    """
    if m > 1 and seasonality_test(x, m):
        pos = np.arange(len(x)) % m
        if np.min(x) > 0:
            figure = seasonal_indices(x, m)
            return Deseasonalised(x / figure[pos], figure, len(x), "multiplicative")
        figure = seasonal_differences(x, m)
        return Deseasonalised(x - figure[pos], figure, len(x), "additive")
    return Deseasonalised(np.asarray(x, dtype=np.float64), np.ones(max(m, 1)), len(x), "none")


def naive2_forecast(x: np.ndarray, m: int, horizon: int) -> np.ndarray:
    """M4's Naive2: naive on the deseasonalised series, re-seasonalised. Shape (horizon,)."""
    des = deseasonalise(x, m)
    return des.reseasonalise(np.full(horizon, des.values[-1]))


# --------------------------------------------------------------------------- smoothing


def ses_forecast(x: np.ndarray, horizon: int) -> tuple[np.ndarray, dict]:
    """Simple exponential smoothing, alpha and initial level estimated by least squares.

    statsmodels' model, recursions, bounds and objective, minimised by the deterministic
    search of :mod:`forecastkit.forecasters._smoothing` rather than statsmodels' L-BFGS (which
    stops short of the optimum on some series): the exported SavedModel runs the same search
    in its graph, so served forecasts equal ``predict``'s.

    Returns the forecast, shape (horizon,), and ``{"alpha", "sigma"}``: ``sigma`` is the
    root mean squared in-sample one-step error.
    """
    from forecastkit.forecasters import _smoothing

    return _smoothing.ses_forecast(x, horizon)


def holt_forecast(x: np.ndarray, horizon: int, damped: bool) -> tuple[np.ndarray, dict]:
    """Holt's linear trend, optionally damped, all parameters estimated by least squares (the
    search of :func:`ses_forecast`).

    Returns the forecast, shape (horizon,), and ``{"alpha", "beta"[, "phi"], "sigma"}``:
    ``beta`` is ``beta*`` of the error-correction form (statsmodels' ``smoothing_trend``; the
    ETS trend parameter is ``alpha * beta``), ``sigma`` as in :func:`ses_forecast`.
    """
    from forecastkit.forecasters import _smoothing

    return _smoothing.holt_forecast(x, horizon, damped)


class ThetaTrend(NamedTuple):
    """The theta = 0 line of a series: a least-squares line in time 1..n, and its values at
    the ``horizon`` steps after the series, shape (horizon,)."""

    intercept: float
    slope: float
    future: np.ndarray


def theta_line(x: np.ndarray, horizon: int) -> tuple[np.ndarray, ThetaTrend]:
    """The theta = 2 line ``2 x - trend`` of :func:`theta_forecast` (shape (n,)), which SES
    forecasts, and the trend line."""
    n = len(x)
    t = np.arange(1, n + 1, dtype=np.float64)
    slope, intercept = np.polyfit(t, x, 1)
    trend_in = intercept + slope * t
    future = intercept + slope * np.arange(n + 1, n + horizon + 1)
    return 2.0 * x - trend_in, ThetaTrend(float(intercept), float(slope), future)


def theta_combine(ses_out: np.ndarray, ses_params: dict,
                  trend: ThetaTrend) -> tuple[np.ndarray, dict]:
    """:func:`theta_forecast` from SES's forecast and parameters on the theta line."""
    fc = 0.5 * ses_out + 0.5 * trend.future
    return fc, {"alpha": ses_params["alpha"], "intercept": trend.intercept,
                "slope": trend.slope, "sigma": 0.5 * ses_params["sigma"]}


def theta_forecast(x: np.ndarray, horizon: int) -> tuple[np.ndarray, dict]:
    """The classic Theta method as M4's benchmark code computes it.

    Equal-weight mean of the linear trend line (theta = 0) extrapolated, and SES on the
    theta = 2 line ``2 x - trend``. The method's in-sample one-step error is half the SES
    error on the theta line, so ``sigma`` (in the params) is half that SES fit's; the method
    is SES with drift on ``x`` with the same ``alpha`` (Hyndman & Billah, 2003). The
    baselines fit many series' SES at once from :func:`theta_line` and :func:`theta_combine`.
    """
    line, trend = theta_line(x, horizon)
    return theta_combine(*ses_forecast(line, horizon), trend)
