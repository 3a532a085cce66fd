"""Classical baselines: one small class per method, all on :class:`BaseForecaster`.

Each series is fitted on its own (these are local models). The naive family runs in-process; the
statsmodels-backed methods spread series over processes with joblib (``n_jobs``, default all
cores). The maths lives in the kernel modules :mod:`._classical` and :mod:`._autoselect`.

Definitions follow the M4 competition: Naive2, SES, Holt, Damped, Comb and Theta work on the
series deseasonalised as Naive2 does (M4's seasonality test, classical multiplicative
decomposition) and re-seasonalise the forecast; ETS and ARIMA model seasonality themselves.
A seasonal series that is not strictly positive is decomposed additively instead (a ratio to a
trend near zero is meaningless); ``fit`` emits one
:class:`~forecastkit.exceptions.ForecastkitWarning` naming those series.

Fallback
    A series a method cannot fit (too short for it, statsmodels raising, non-finite forecasts) is
    forecast with Naive2 instead; ``fit`` emits one
    :class:`~forecastkit.exceptions.ForecastkitWarning` naming those series, and records them
    in ``fallback_ids_``.

Fitted state
    ``fit`` computes each series' forecast for ``horizon`` steps (``forecasts_``) and keeps the
    per-series fitted parameters (``params_``, JSON-able dicts). ``predict(h)`` slices the stored
    forecasts; a longer ``h`` refits the training series. :meth:`get_fitted_state` returns
    exactly this state (numpy arrays and a JSON string) and :meth:`set_fitted_state` restores it.
"""

from __future__ import annotations

import json
import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from threadpoolctl import threadpool_limits

from forecastkit._compat import Interval
from forecastkit.data.frames import Panel
from forecastkit.exceptions import ForecastkitWarning, InvalidInputError
from forecastkit.forecasters import _autoselect as _auto
from forecastkit.forecasters import _classical as _cl
from forecastkit.forecasters.base import BaseForecaster

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

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")


# --------------------------------------------------------------------------- kernels
# Module-level so joblib can send them to worker processes. Each takes one series and returns
# (forecast of shape (horizon,), params dict); raising means "fall back to Naive2".


def _k_naive(x, m, h):
    return np.full(h, x[-1]), {}


def _k_snaive(x, m, h):
    return x[-m:][np.arange(h) % m], {}


def _k_drift(x, m, h):
    slope = (x[-1] - x[0]) / (len(x) - 1)
    return x[-1] + slope * np.arange(1, h + 1), {"slope": float(slope)}


def _k_mean(x, m, h):
    return np.full(h, x.mean()), {}


def _season_params(des: _cl.Deseasonalised) -> dict:
    return {"seasonal_indices": des.figure.tolist(), "decomposition": des.kind}


def _k_naive2(x, m, h):
    des = _cl.deseasonalise(x, m)
    return des.reseasonalise(np.full(h, des.values[-1])), _season_params(des)


def _deseasonalised(inner):
    """Kernel running ``inner(values, h)`` on the M4-deseasonalised series."""

    def kernel(x, m, h):
        des = _cl.deseasonalise(x, m)
        fc, params = inner(des.values, h)
        return des.reseasonalise(fc), {**params, **_season_params(des)}

    return kernel


def _comb(x, h):
    ses, p1 = _cl.ses_forecast(x, h)
    holt, p2 = _cl.holt_forecast(x, h, damped=False)
    damped, p3 = _cl.holt_forecast(x, h, damped=True)
    return (ses + holt + damped) / 3.0, {"ses": p1, "holt": p2, "damped": p3}


_k_ses = _deseasonalised(_cl.ses_forecast)
_k_holt = _deseasonalised(lambda x, h: _cl.holt_forecast(x, h, damped=False))
_k_damped = _deseasonalised(lambda x, h: _cl.holt_forecast(x, h, damped=True))
_k_comb = _deseasonalised(_comb)
_k_theta = _deseasonalised(_cl.theta_forecast)


def _k_ets(x, m, h):
    return _auto.ets_auto(x, m, h)


def _k_arima(x, m, h):
    return _auto.arima_auto(x, m, h)


def _run_one(kernel, x, m, h, min_length):
    """Forecast one series; on failure the Naive2 forecast and the reason."""
    if len(x) < min_length:
        reason = f"{len(x)} observations, needs {min_length}"
    else:
        try:
            with _cl.quiet():
                fc, params = kernel(x, m, h)
            fc = np.asarray(fc, dtype=np.float64)
            if fc.shape == (h,) and np.all(np.isfinite(fc)):
                return fc, params, None
            reason = "non-finite forecasts"
        except Exception as err:  # noqa: BLE001 - any statsmodels failure means fall back
            reason = f"{type(err).__name__}: {err}"[:200]
    fc, params = _k_naive2(x, m, h)
    return fc, {"fallback": "naive2", **params}, reason


def _run_chunk(kernel, series, m, h, min_length):
    # One BLAS thread: statsmodels' small matrices get 10-30x slower when BLAS threads fight
    # over the cores with the joblib workers (measured on SARIMAX fits).
    with threadpool_limits(limits=1):
        return [_run_one(kernel, x, m, h, min_length) for x in series]


# --------------------------------------------------------------------------- base


class _LocalBaseline(BaseForecaster):
    """One model per series; see the module docstring for fallback and fitted state."""

    is_global: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "season_length": [_POSITIVE_INT],
        "horizon": [_POSITIVE_INT, None],
    }
    _kernel: ClassVar[Any] = None
    _min_length: ClassVar[int] = 1  # shorter series fall back to Naive2
    _parallel: ClassVar[bool] = False  # worth spreading over processes

    def __init__(self, season_length: int = 1, horizon: int | None = None):
        self.season_length = season_length
        self.horizon = horizon

    def _required_length(self) -> int:
        return self._min_length

    def _fit_horizon(self) -> int:
        # Without a horizon parameter, store two seasons (at least 8 steps) of forecasts.
        return self.horizon if self.horizon is not None else max(2 * self.season_length, 8)

    def _check_horizon(self, horizon: int | None) -> int:
        if horizon is None and self.horizon is None and hasattr(self, "forecasts_"):
            horizon = self.forecasts_.shape[1]  # what fit computed without a horizon
        return super()._check_horizon(horizon)

    def _run(self, panel: Panel, horizon: int) -> list:
        kernel, m, need = type(self)._kernel, self.season_length, self._required_length()
        series = [panel.series(i) for i in range(panel.n_series)]
        n_jobs = getattr(self, "n_jobs", 1)
        workers = effective_n_jobs(n_jobs)
        if not self._parallel or workers <= 1 or len(series) < 2 * workers:
            return _run_chunk(kernel, series, m, horizon, need)
        # A few chunks per worker: balanced load without one task per (millisecond) series.
        bounds = np.linspace(0, len(series), 4 * workers + 1).astype(int)
        chunks = Parallel(n_jobs=n_jobs)(
            delayed(_run_chunk)(kernel, series[a:b], m, horizon, need)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            if b > a
        )
        return [r for chunk in chunks for r in chunk]

    def _fit(self, panel: Panel) -> None:
        results = self._run(panel, self._fit_horizon())
        self.forecasts_ = np.stack([r[0] for r in results])
        self.params_ = [r[1] for r in results]
        failed = [(panel.ids[i], r[2]) for i, r in enumerate(results) if r[2] is not None]
        self.fallback_ids_ = np.array([sid for sid, _ in failed], dtype=object)
        if failed:
            shown = "; ".join(f"{sid!r} ({why})" for sid, why in failed[:10])
            more = f"; and {len(failed) - 10} more (see fallback_ids_)" if len(failed) > 10 else ""
            warnings.warn(
                f"{type(self).__name__} could not be fitted to {len(failed)} series, which fall "
                f"back to Naive2: {shown}{more}",
                ForecastkitWarning,
                stacklevel=3,
            )
        additive = [panel.ids[i] for i, p in enumerate(self.params_)
                    if p.get("decomposition") == "additive"]
        if additive:
            shown = ", ".join(repr(sid) for sid in additive[:10])
            more = f" and {len(additive) - 10} more" if len(additive) > 10 else ""
            warnings.warn(
                f"{type(self).__name__}: {len(additive)} seasonal series not strictly positive "
                f"({shown}{more}) were deseasonalised additively instead of by M4's "
                f"multiplicative decomposition (params_[i]['decomposition'] says which)",
                ForecastkitWarning,
                stacklevel=3,
            )

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        if horizon <= self.forecasts_.shape[1]:
            return self.forecasts_[:, :horizon]
        # Longer than fitted: refit the same series (fallbacks were already reported by fit).
        return np.stack([r[0] for r in self._run(panel, horizon)])

    # ------------------------------------------------------------------ persistence

    def get_fitted_state(self) -> dict:
        """Fitted state as numpy arrays and JSON text (what ``set_fitted_state`` needs).

        Returns
        -------
        dict
            ``forecasts``: float64 array (n_series, horizon); ``fallback``: bool array
            (n_series,); ``params``: JSON string of the per-series parameter dicts.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        fallback = np.isin(self.panel_.ids, self.fallback_ids_)
        return {
            "forecasts": np.asarray(self.forecasts_, dtype=np.float64),
            "fallback": fallback,
            "params": json.dumps(self.params_),
        }

    def set_fitted_state(self, state: dict, panel: Panel):
        """Restore :meth:`get_fitted_state` output for the training ``panel``; returns self."""
        forecasts = np.asarray(state["forecasts"], dtype=np.float64)
        if forecasts.ndim != 2 or forecasts.shape[0] != panel.n_series:
            raise InvalidInputError(
                f"fitted state holds forecasts of shape {forecasts.shape}; expected "
                f"({panel.n_series}, horizon) for the given panel"
            )
        self.forecasts_ = forecasts
        self.params_ = json.loads(str(state["params"]))
        self.fallback_ids_ = panel.ids[np.asarray(state["fallback"], dtype=bool)]
        self.panel_ = panel
        self.n_series_ = panel.n_series
        return self


class _ParallelBaseline(_LocalBaseline):
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_LocalBaseline._parameter_constraints,
        "n_jobs": [Integral, None],
    }
    _parallel: ClassVar[bool] = True

    def __init__(self, season_length: int = 1, horizon: int | None = None, n_jobs: int | None = -1):
        self.season_length = season_length
        self.horizon = horizon
        self.n_jobs = n_jobs


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
    params_ : list of dict
        Fitted parameters per series (JSON-able).
    fallback_ids_ : ndarray of shape (n_fallback,)
        Ids of series forecast with Naive2 because this method could not be fitted to them.
"""
_N_JOBS = """
    n_jobs : int or None, default=-1
        Processes for fitting series in parallel (joblib; -1: all cores)."""


def _doc(summary: str, parallel: bool = False) -> str:
    return summary + "\n" + _COMMON.format(extra=_N_JOBS if parallel else "")


# --------------------------------------------------------------------------- naive family


class Naive(_LocalBaseline):
    _kernel = staticmethod(_k_naive)
    __doc__ = _doc("Naive: every forecast equals the last observation.")


class SeasonalNaive(_LocalBaseline):
    _kernel = staticmethod(_k_snaive)
    __doc__ = _doc(
        "Seasonal naive: the last observed season repeated (series shorter than one season fall "
        "back to Naive2)."
    )

    def _required_length(self) -> int:
        return self.season_length


class Drift(_LocalBaseline):
    _kernel = staticmethod(_k_drift)
    _min_length = 2
    __doc__ = _doc("Drift: the line through the first and last observations, extrapolated.")


class Mean(_LocalBaseline):
    _kernel = staticmethod(_k_mean)
    __doc__ = _doc("Mean: every forecast equals the mean of the training series.")


class Naive2(_LocalBaseline):
    _kernel = staticmethod(_k_naive2)
    __doc__ = _doc(
        "Naive2 (M4): naive on the series deseasonalised by classical multiplicative "
        "decomposition (additive for a series not strictly positive) when M4's 90% seasonality "
        "test finds a season; re-seasonalised."
    )


# --------------------------------------------------------------------------- statsmodels


class SES(_ParallelBaseline):
    _kernel = staticmethod(_k_ses)
    _min_length = 3
    __doc__ = _doc("Simple exponential smoothing on the deseasonalised series (M4).", True)


class Holt(_ParallelBaseline):
    _kernel = staticmethod(_k_holt)
    _min_length = 4
    __doc__ = _doc("Holt's linear trend on the deseasonalised series (M4).", True)


class Damped(_ParallelBaseline):
    _kernel = staticmethod(_k_damped)
    _min_length = 5
    __doc__ = _doc("Damped-trend exponential smoothing on the deseasonalised series (M4).", True)


class Comb(_ParallelBaseline):
    _kernel = staticmethod(_k_comb)
    _min_length = 5
    __doc__ = _doc("Comb (M4): mean of SES, Holt and Damped on the deseasonalised series.", True)


class Theta(_ParallelBaseline):
    _kernel = staticmethod(_k_theta)
    _min_length = 3
    __doc__ = _doc(
        "Theta (M4 standard): on the deseasonalised series, the mean of the extrapolated linear "
        "trend and SES on the theta = 2 line; re-seasonalised.",
        True,
    )


class ETS(_ParallelBaseline):
    _kernel = staticmethod(_k_ets)
    _min_length = 4
    __doc__ = _doc(
        "ETS: error/trend/damped/seasonal combinations of statsmodels' ETSModel (as R's "
        "``ets`` restricts them), the lowest AICc kept per series.",
        True,
    )


class ARIMA(_ParallelBaseline):
    _kernel = staticmethod(_k_arima)
    _min_length = 8
    __doc__ = _doc(
        "ARIMA: a reduced stepwise Hyndman-Khandakar order search by AICc (statsmodels SARIMAX),"
        " seasonal when season_length > 1; see ``_autoselect.arima_auto`` for the limits.",
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
