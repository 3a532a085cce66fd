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

Covariates
    ARIMA alone takes future-known covariates (``fit(X=...)``, ``calendar``, ``holidays``): a
    regression with ARIMA errors whose forecasts wait for the regressors of the horizon, so
    ``predict`` forecasts from the fitted parameters in ``params_`` (regression coefficients
    included) and the history's covariates, which the saved panel keeps. The other baselines
    refuse ``X`` and ``static``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from forecastkit.data.frames import Panel
from forecastkit.exceptions import CovariateError
from forecastkit.forecasters import _kernels as _k
from forecastkit.forecasters._local import _LocalBaseline, _ParallelBaseline

if TYPE_CHECKING:
    from forecastkit.data.covariates import Covariates

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
        Ids of series forecast with Naive2 because this method could not be fitted to them.\
{attributes}
"""
_N_JOBS = """
    n_jobs : int or None, default=-1
        Processes for fitting series in parallel (joblib; -1: all cores). Inside
        ``joblib.parallel_backend("dask")`` with a ``distributed.Client`` the chunks of series
        run on that Dask cluster instead, forecasts unchanged."""


def _doc(summary: str, parallel: bool = False, parameters: str = "", attributes: str = "") -> str:
    return summary + "\n" + _COMMON.format(extra=(_N_JOBS if parallel else "") + parameters,
                                           attributes=attributes)


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


_XREG_PARAMETERS = """
    futr_exog : list of str or None
        Columns of ``fit(X=...)``, all future-known: ``X`` must cover the history at ``fit``
        and the horizon at ``predict`` (``predict(X=...)``). None: every column of ``X``.
        ARIMA reads no past-only columns (a column of ``X`` that ``futr_exog`` leaves out is
        an error) and no ``static`` covariates (constant within a series, they are its level,
        which the model already has); see :mod:`forecastkit.data.covariates`.
    calendar : list of str or None
        Calendar regressors made from the time stamps, future-known: ``"hour"``,
        ``"dayofweek"``, ``"month"``, ``"quarter"`` (one-hot), ``"dayofmonth"``,
        ``"dayofyear"``, ``"weekofyear"`` (sine and cosine).
    holidays : str or None
        Country code (``"US"``, ``"GB"``, ``"DE"``...): a 0/1 public-holiday regressor from
        the `holidays` package (extra ``forecastkit[holidays]``), future-known."""

_XREG_ATTRIBUTES = """
    covariate_spec_ : forecastkit.data.covariates.CovariateSpec or None
        The regressors read (None without): ``X``'s columns, then the calendar and holiday
        ones. With them, ``forecasts_`` is NaN for the series ARIMA fits (their forecasts
        depend on the regressors of the horizon, given to ``predict``) and each
        ``params_[i]["xreg"]`` holds the regressors kept (``"names"``) and dropped
        (``"dropped_names"``) for that series and their coefficients (``"coef"``)."""


class ARIMA(_ParallelBaseline):
    _kernel = staticmethod(_k.arima)
    _min_length = 8
    supports_covariates = True
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_ParallelBaseline._parameter_constraints,
        "futr_exog": [list, tuple, str, None],
        "calendar": [list, tuple, str, None],
        "holidays": [str, None],
    }
    # Added after stored runs; at None ARIMA fits exactly as before (no regressors).
    _identity_defaults: ClassVar[dict[str, Any]] = {"futr_exog": None, "calendar": None,
                                                    "holidays": None}
    __doc__ = _doc(
        "ARIMA: a reduced stepwise Hyndman-Khandakar order search by AICc (statsmodels SARIMAX),"
        " seasonal when season_length > 1; see ``_autoselect.arima_auto`` for the limits. "
        "Intervals: SARIMAX's forecast covariance of the differenced series, undifferenced; "
        "paths by ``simulate(anchor='end')``.\n\n"
        "    With future-known covariates (``fit(X=...)``, ``calendar``, ``holidays``) it is a "
        "regression with ARIMA errors, as R's ``auto.arima(y, xreg=...)``: the differencing is "
        "chosen on the residuals of the least-squares regression, the series and the "
        "regressors are differenced alike and every candidate is a SARIMAX with the differenced "
        "regressors as ``exog`` (``_arima_xreg.arima_xreg_fit``). A regressor constant within a "
        "series, or reproduced by the others (the last dummy of a one-hot set), is dropped for "
        "that series (``params_[i]['xreg']``). Forecasts, quantiles and paths read the "
        "regressors of the horizon, so ``predict`` needs ``X`` covering it (calendar and "
        "holiday columns are made from the time stamps). A series that falls back to Naive2 "
        "ignores them.",
        True,
        _XREG_PARAMETERS,
        _XREG_ATTRIBUTES,
    )

    def __init__(self, season_length: int = 1, horizon: int | None = None,
                 n_jobs: int | None = -1, futr_exog=None, calendar=None, holidays=None):
        super().__init__(season_length, horizon, n_jobs)
        self.futr_exog = futr_exog
        self.calendar = calendar
        self.holidays = holidays

    # ------------------------------------------------------------------ covariates

    def _with_fit_covariates(self, panel: Panel, X, static):
        if static is not None:
            raise CovariateError(_NO_STATIC)
        panel = super()._with_fit_covariates(panel, X, static)
        spec = self.covariate_spec_
        if spec is not None and (spec.hist or spec.needs_static):  # pragma: no cover - guard
            raise CovariateError("ARIMA reads only future-known covariates")
        return panel

    def _covariates_request(self, X, static, horizon: int):
        if static is not None:
            raise CovariateError(_NO_STATIC)
        return super()._covariates_request(X, static, horizon)

    @staticmethod
    def _past_exog(panel: Panel, i: int) -> np.ndarray:
        """The regressors over series ``i``'s history, (length, n_future), float64."""
        cov = cast("Covariates", panel.covariates)
        rows = cov.past[panel.indptr[i]:panel.indptr[i + 1]]
        return np.asarray(rows[:, cov.spec.future_in_past], dtype=np.float64)

    @staticmethod
    def _future_exog(panel: Panel, horizon: int) -> np.ndarray:
        """The regressors of the horizon, (n_series, horizon, n_future), float64."""
        cov = cast("Covariates | None", panel.covariates)
        if cov is None or cov.future is None or cov.future.shape[1] < horizon:
            raise CovariateError("this ARIMA was fitted with regressors: forecast it through "
                                 "predict, predict_interval or sample_paths with X covering "
                                 "the horizon")
        return np.asarray(cov.future[:, :horizon], dtype=np.float64)

    # ------------------------------------------------------------------ fitting, forecasting

    def _run(self, panel: Panel, horizon: int) -> list:
        if not self._reads_covariates:
            return super()._run(panel, horizon)
        jobs = [(panel.series(i), self._past_exog(panel, i)) for i in range(panel.n_series)]
        results = self._map(_k.run_xreg, jobs, self.season_length, horizon,
                            self._required_length())
        names = self.covariate_spec_.future_names
        for _, _, params, _ in results:
            if "xreg" in params:
                xreg = params["xreg"]
                xreg["names"] = [names[j] for j in xreg["columns"]]
                xreg["dropped_names"] = [names[j] for j in xreg["dropped"]]
        return results

    def _state(self, panel: Panel, horizon: int):
        if not self._reads_covariates:
            return super()._state(panel, horizon)
        # Forecasts with regressors are made when those of the horizon are known: now.
        future = self._future_exog(panel, horizon)
        jobs = [(panel.series(i), p, horizon, self.season_length, self._past_exog(panel, i),
                 future[i]) for i, p in enumerate(self.params_)]
        results = self._map(_k.run_each, jobs, _k.xreg_forecast)
        return (np.stack([r[0] for r in results]), np.stack([r[1] for r in results]),
                self.params_)

    def _model_paths(self, panel, rows, params, horizon, n_paths, seeds) -> np.ndarray:
        if not self._reads_covariates:
            return super()._model_paths(panel, rows, params, horizon, n_paths, seeds)
        future = self._future_exog(panel, horizon)
        jobs = [(panel.series(i), params[i], horizon, n_paths, int(seed),
                 self._past_exog(panel, i), future[i])
                for i, seed in zip(rows, seeds, strict=True)]
        return np.stack(self._map(_k.run_each, jobs, _k.model_paths))


_NO_STATIC = ("ARIMA fits one model per series; static covariates are constant within a series, "
              "so its regression cannot tell them from the series' own level: pass static=None "
              "(a global model such as RNNForecaster reads them)")


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
