"""Classical baselines: one small class per method, all on :class:`BaseForecaster`.

Each series is fitted on its own (these are local models). The naive family runs in-process; the
statsmodels-backed methods spread series over processes with joblib (``n_jobs``, default all
cores). The classes share :class:`._local._LocalBaseline`; the maths lives in the kernel
modules :mod:`._kernels` (one function per method), :mod:`._classical`, :mod:`._autoselect`
and :mod:`._intervals`.

Definitions follow the M4 competition: Naive2, SES, Holt, Damped, Comb and Theta work on the
series deseasonalised as Naive2 does (M4's seasonality test, classical multiplicative
decomposition) and re-seasonalise the forecast; ETS and ARIMA model seasonality themselves.
A seasonal series that is not strictly positive is decomposed additively instead (a ratio to a
trend near zero is meaningless); ``fit`` emits one
:class:`~forecastkit.exceptions.ForecastkitWarning` naming those series.

Probabilistic forecasts
    Every baseline gives quantiles; all but Comb draw joint sample paths (each class' docstring
    says how: the textbook intervals of the naive family, FPP3 5.5; ETS(A,N,N)/(A,A,N)/(A,Ad,N)
    variances for the smoothing methods and Theta; statsmodels' ETS and SARIMAX for ETS and
    ARIMA). Gaussian quantiles come from the error standard deviations computed at fit time;
    multiplicative-error ETS quantiles from 2,000 simulated paths seeded by the series id. A
    series too short to estimate its error spread (one observation for Naive) has no
    quantiles: asking raises :class:`~forecastkit.exceptions.SeriesTooShortError` naming it.

Fallback
    A series a method cannot fit (too short for it, statsmodels raising, non-finite forecasts or
    variances) is forecast with Naive2 instead, intervals included; ``fit`` emits one
    :class:`~forecastkit.exceptions.ForecastkitWarning` naming those series, and records them
    in ``fallback_ids_``.

Fitted state
    ``fit`` computes each series' forecast for ``horizon`` steps (``forecasts_``), the standard
    deviation of its errors (``scales_``) and keeps the per-series fitted parameters
    (``params_``, JSON-able dicts, with the error model under ``"interval"``). ``predict(h)``
    slices the stored forecasts; a longer ``h`` refits the training series.
    :meth:`get_fitted_state` returns exactly this state (numpy arrays and a JSON string) and
    :meth:`set_fitted_state` restores it.
"""

from __future__ import annotations

from forecastkit.forecasters import _kernels as _k
from forecastkit.forecasters._local import _LocalBaseline, _ParallelBaseline

__all__ = [
    "Naive",
    "SeasonalNaive",
    "Drift",
    "Mean",
    "Naive2",
    "SES",
    "Holt",
    "Damped",
    "Comb",
    "ETS",
    "ARIMA",
    "Theta",
    "BASELINES",
]


_COMMON = """
    Parameters
    ----------
    season_length : int, default=1
        Length of the seasonal cycle ``m`` (12 for monthly data, 1 for none).
    horizon : int, optional
        Steps forecast at fit time; ``predict()`` defaults to it (two seasons, at least 8,
        when None).{extra}

    Attributes
    ----------
    forecasts_ : ndarray of shape (n_series, horizon)
    scales_ : ndarray of shape (n_series, horizon)
        Standard deviation of each forecast's error (NaN where simulated or not estimable).
    params_ : list of dict
        Fitted parameters per series (JSON-able); ``"interval"`` holds the error model.
    fallback_ids_ : ndarray of shape (n_fallback,)
        Ids of series forecast with Naive2 because this method could not be fitted to them.
"""
_N_JOBS = """
    n_jobs : int or None, default=-1
        Processes for fitting series in parallel (joblib; -1: all cores). Inside
        ``joblib.parallel_backend("dask")`` with a ``distributed.Client`` the chunks of series
        run on that Dask cluster instead, forecasts unchanged."""


def _doc(summary: str, parallel: bool = False) -> str:
    return summary + "\n" + _COMMON.format(extra=_N_JOBS if parallel else "")


# --------------------------------------------------------------------------- naive family


class Naive(_LocalBaseline):
    _kernel = staticmethod(_k.naive)
    __doc__ = _doc("Naive: every forecast equals the last observation. Intervals sigma sqrt(h) "
                    "(sigma from the residuals x_t - x_{t-1}); paths are Gaussian random walks.")


class SeasonalNaive(_LocalBaseline):
    _kernel = staticmethod(_k.seasonal_naive)
    __doc__ = _doc(
        "Seasonal naive: the last observed season repeated (series shorter than one season fall "
        "back to Naive2). Intervals sigma sqrt(floor((h-1)/m) + 1) (sigma from the residuals "
        "x_t - x_{t-m}); paths are seasonal random walks."
    )

    def _required_length(self) -> int:
        return self.season_length


class Drift(_LocalBaseline):
    _kernel = staticmethod(_k.drift)
    _min_length = 2
    __doc__ = _doc("Drift: the line through the first and last observations, extrapolated. "
                    "Intervals sigma sqrt(h (1 + h/T)): the random walk and the slope's error.")


class Mean(_LocalBaseline):
    _kernel = staticmethod(_k.mean)
    __doc__ = _doc("Mean: every forecast equals the mean of the training series. Intervals "
                    "sigma sqrt(1 + 1/T): a new draw and the mean's error.")


class Naive2(_LocalBaseline):
    _kernel = staticmethod(_k.naive2)
    __doc__ = _doc(
        "Naive2 (M4): naive on the series deseasonalised by classical multiplicative "
        "decomposition (additive for a series not strictly positive) when M4's 90% seasonality "
        "test finds a season; re-seasonalised. Intervals: Naive's on the deseasonalised series, "
        "scaled by the seasonal indices (unchanged for an additive season)."
    )


# --------------------------------------------------------------------------- statsmodels


class SES(_ParallelBaseline):
    _kernel = staticmethod(_k.ses)
    _min_length = 3
    __doc__ = _doc("Simple exponential smoothing on the deseasonalised series (M4). Intervals: "
                    "ETS(A,N,N)'s variance sigma^2 (1 + alpha^2 (h-1)).", True)


class Holt(_ParallelBaseline):
    _kernel = staticmethod(_k.holt)
    _min_length = 4
    __doc__ = _doc("Holt's linear trend on the deseasonalised series (M4). Intervals: "
                    "ETS(A,A,N)'s analytic variance.", True)


class Damped(_ParallelBaseline):
    _kernel = staticmethod(_k.damped)
    _min_length = 5
    __doc__ = _doc("Damped-trend exponential smoothing on the deseasonalised series (M4). "
                    "Intervals: ETS(A,Ad,N)'s analytic variance.", True)


class Comb(_ParallelBaseline):
    _kernel = staticmethod(_k.comb)
    _min_length = 5
    supports_paths = False  # averaged quantile functions are no joint model's marginals
    __doc__ = _doc(
        "Comb (M4): mean of SES, Holt and Damped on the deseasonalised series. Quantiles: the "
        "mean of the members' quantile functions, level by level (Gaussian, with the mean of "
        "the members' standard deviations); no sample paths.",
        True,
    )


class Theta(_ParallelBaseline):
    _kernel = staticmethod(_k.theta)
    _min_length = 3
    __doc__ = _doc(
        "Theta (M4 standard): on the deseasonalised series, the mean of the extrapolated linear "
        "trend and SES on the theta = 2 line; re-seasonalised. Intervals: SES with drift "
        "(Hyndman & Billah 2003), sigma^2 (1 + alpha^2 (h-1)) with the theta line's alpha and "
        "the method's one-step residuals; statsmodels' ThetaModel writes (1 + (alpha-1)^2) for "
        "alpha^2, wider for alpha < 1 and not the variance of the model it fits.",
        True,
    )


class ETS(_ParallelBaseline):
    _kernel = staticmethod(_k.ets)
    _min_length = 4
    __doc__ = _doc(
        "ETS: error/trend/damped/seasonal combinations of statsmodels' ETSModel (as R's "
        "``ets`` restricts them), the lowest AICc kept per series. Intervals: statsmodels' "
        "exact variance for additive errors, its simulation for multiplicative ones; paths by "
        "``simulate(anchor='end')``.",
        True,
    )


class ARIMA(_ParallelBaseline):
    _kernel = staticmethod(_k.arima)
    _min_length = 8
    __doc__ = _doc(
        "ARIMA: a reduced stepwise Hyndman-Khandakar order search by AICc (statsmodels SARIMAX),"
        " seasonal when season_length > 1; see ``_autoselect.arima_auto`` for the limits. "
        "Intervals: SARIMAX's forecast covariance of the differenced series, undifferenced; "
        "paths by ``simulate(anchor='end')``.",
        True,
    )


BASELINES: dict[str, type[_LocalBaseline]] = {
    "naive": Naive,
    "snaive": SeasonalNaive,
    "drift": Drift,
    "mean": Mean,
    "naive2": Naive2,
    "ses": SES,
    "holt": Holt,
    "damped": Damped,
    "comb": Comb,
    "ets": ETS,
    "arima": ARIMA,
    "theta": Theta,
}
