"""Per-series kernels of the classical baselines: forecast, error spread and parameters.

Module-level functions so joblib can send them to worker processes. A kernel takes one series
``x`` (1-D float array), the season length ``m`` and a horizon ``h`` and returns

``(forecast (h,), sd (h,), params)``
    ``sd`` is the standard deviation of the forecast error at each step (Gaussian errors), NaN
    where the method's distribution is simulated instead (multiplicative-error ETS) or cannot
    be estimated (too few residuals for the naive family); ``params`` is a JSON-able dict whose
    ``"interval"`` entry describes the error distribution (:mod:`._intervals` specs, or the
    fitted ETS/ARIMA model for :mod:`._autoselect` to rebuild).

Raising means "fall back to Naive2" (:func:`run_one`).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from forecastkit.forecasters import _autoselect as _auto
from forecastkit.forecasters import _classical as _cl
from forecastkit.forecasters import _intervals as _iv

__all__ = ["naive", "seasonal_naive", "drift", "mean", "naive2", "ses", "holt", "damped", "comb",
           "theta", "ets", "arima", "deseasonalised", "run_one", "run_chunk", "model_paths"]


def _linear(fc, spec, h):
    return fc, _iv.error_sd(spec, h), {"interval": spec}


def naive(x, m, h):
    return _linear(np.full(h, x[-1]), _iv.random_walk(x), h)


def seasonal_naive(x, m, h):
    return _linear(x[-m:][np.arange(h) % m], _iv.seasonal_random_walk(x, m), h)


def drift(x, m, h):
    slope = (x[-1] - x[0]) / (len(x) - 1)
    fc, sd, params = _linear(x[-1] + slope * np.arange(1, h + 1), _iv.drift(x), h)
    return fc, sd, {"slope": float(slope), **params}


def mean(x, m, h):
    return _linear(np.full(h, x.mean()), _iv.mean(x), h)


def _season_params(des: _cl.Deseasonalised) -> dict:
    return {"seasonal_indices": des.figure.tolist(), "decomposition": des.kind}


def naive2(x, m, h):
    des = _cl.deseasonalise(x, m)
    spec = _iv.random_walk(des.values)
    fc = des.reseasonalise(np.full(h, des.values[-1]))
    return fc, des.rescale(_iv.error_sd(spec, h)), {**_season_params(des), "interval": spec}


def deseasonalised(inner):
    """Kernel running ``inner(values, h) -> (forecast, params, spec)`` on the M4-deseasonalised
    series; the error spec is on the deseasonalised scale and the sd re-seasonalised."""

    def kernel(x, m, h):
        des = _cl.deseasonalise(x, m)
        fc, params, spec = inner(des.values, h)
        sd = des.rescale(_iv.error_sd(spec, h))
        if not np.all(np.isfinite(sd)):
            raise RuntimeError("forecast error variances are not finite")
        return des.reseasonalise(fc), sd, {**params, **_season_params(des), "interval": spec}

    return kernel


def _ses(x, h):
    fc, p = _cl.ses_forecast(x, h)
    return fc, p, _iv.smoothing(p["sigma"], p["alpha"])


def _holt(x, h, damped=False):
    fc, p = _cl.holt_forecast(x, h, damped=damped)
    # statsmodels' Holt gives beta* (error-correction form); the ETS trend parameter is alpha beta*
    spec = _iv.smoothing(p["sigma"], p["alpha"], p["alpha"] * p["beta"], p.get("phi", 1.0))
    return fc, p, spec


def _comb(x, h):
    members = [_ses(x, h), _holt(x, h), _holt(x, h, damped=True)]
    fc = np.mean([f for f, _, _ in members], axis=0)
    params = {name: p for name, (_, p, _) in zip(("ses", "holt", "damped"), members, strict=True)}
    return fc, params, _iv.comb([s for _, _, s in members])


def _theta(x, h):
    fc, p = _cl.theta_forecast(x, h)
    # SES with drift on x, the same alpha as the theta line's SES (Hyndman & Billah, 2003)
    return fc, p, _iv.smoothing(p["sigma"], p["alpha"])


ses = deseasonalised(_ses)
holt = deseasonalised(_holt)
damped = deseasonalised(lambda x, h: _holt(x, h, damped=True))
comb = deseasonalised(_comb)
theta = deseasonalised(_theta)


def ets(x, m, h):
    return _auto.ets_auto(x, m, h)


def arima(x, m, h):
    return _auto.arima_auto(x, m, h)


# --------------------------------------------------------------------------- running


def run_one(kernel, x, m, h, min_length):
    """Forecast one series: ``(forecast, sd, params, None)``, or on failure Naive2's forecast
    and intervals with ``params["fallback"] = "naive2"`` and the reason last."""
    if len(x) < min_length:
        reason = f"{len(x)} observations, needs {min_length}"
    else:
        try:
            with _cl.quiet():
                fc, sd, params = kernel(x, m, h)
            fc = np.asarray(fc, dtype=np.float64)
            if fc.shape == (h,) and np.all(np.isfinite(fc)):
                return fc, np.asarray(sd, dtype=np.float64), params, None
            reason = "non-finite forecasts"
        except Exception as err:  # noqa: BLE001 - any statsmodels failure means fall back
            reason = f"{type(err).__name__}: {err}"[:200]
    fc, sd, params = naive2(x, m, h)
    return fc, sd, {"fallback": "naive2", **params}, reason


def model_paths(x, params, h, n_paths, seed):
    """Sample paths (n_paths, h) of a series whose fitted ETS or ARIMA model is in ``params``,
    from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    with _cl.quiet():
        if params["interval"]["kind"] == "ets":
            return _auto.ets_paths(x, params["interval"], h, n_paths, rng)
        return _auto.arima_paths(x, params, h, n_paths, rng)


def run_chunk(func, jobs):
    """``[func(*args) for args in jobs]`` with one BLAS thread."""
    # statsmodels' small matrices get 10-30x slower when BLAS threads fight over the cores with
    # the joblib workers (measured on SARIMAX fits).
    with threadpool_limits(limits=1):
        return [func(*args) for args in jobs]
