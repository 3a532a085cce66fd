"""Per-series kernels of the classical baselines: forecast, error spread and parameters.

Module-level functions so joblib can send them to worker processes. A kernel takes one series
``x`` (1-D float array), the season length ``m`` and a horizon ``h`` and returns

``(forecast (h,), sd (h,), params)``
    ``sd`` is the standard deviation of the forecast error at each step (Gaussian errors), NaN
    where the method's distribution is simulated instead (multiplicative-error ETS) or cannot
    be estimated (too few residuals for the naive family); ``params`` is a JSON-able dict whose
    ``"interval"`` entry describes the error distribution (:mod:`._intervals` specs, or the
    fitted ETS/ARIMA model for :mod:`._autoselect` to rebuild).

ARIMA with regressors cannot forecast at fit time (its forecast needs the regressors of the
horizon): :func:`run_xreg` fits it and :func:`xreg_forecast` forecasts it once they are known.

Raising means "fall back to Naive2" (:func:`run_one`). A kernel may also have a ``batch``
method taking a list of series and returning, per series, that tuple or the exception it raised:
:func:`run_series` then hands it a whole chunk of series at once (:class:`SmoothingKernel`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from forecastkit.forecasters import _arima_xreg as _xreg
from forecastkit.forecasters import _autoselect as _auto
from forecastkit.forecasters import _classical as _cl
from forecastkit.forecasters import _ets_auto as _ets
from forecastkit.forecasters import _intervals as _iv
from forecastkit.forecasters import _smoothing as _sm

__all__ = ["naive", "seasonal_naive", "drift", "mean", "naive2", "ses", "holt", "damped", "comb",
           "theta", "ets", "arima", "SmoothingKernel", "run_one", "run_series", "run_each",
           "run_xreg", "xreg_forecast", "model_paths"]


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


@dataclass(frozen=True)
class SmoothingKernel:
    """A method on the M4-deseasonalised series built on smoothing searches (SES, Holt,
    Damped, Comb, Theta): a kernel for one series, and :meth:`batch` for many, which runs
    one search per smoothing kind for all of them (the per-step Python of the search is then
    shared; every series' result is the same, bit for bit, as alone).

    ``prepare(values, h) -> (lines, extra)`` gives the series to smooth, ``{kind: (n,)}``, and
    what ``finish(fits, extra, h) -> (forecast, params, spec)`` needs beside the searches'
    ``{kind: (forecast, params)}``; ``spec`` is the error model on the deseasonalised scale.
    """

    kinds: tuple[str, ...]
    finish: Callable
    prepare: Callable | None = None  # None: smooth the deseasonalised series itself

    def __call__(self, x, m, h):
        (outcome,) = self.batch([x], m, h)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def batch(self, xs, m, h) -> list:
        """The kernel's ``(forecast, sd, params)`` for each series of ``xs``, or the exception
        that series raised."""
        prepared = [_attempt(self._prepare, x, m, h) for x in xs]
        ready = [p for p in prepared if not isinstance(p, Exception)]
        searches = {kind: iter(_sm.forecast_many([p[1][kind] for p in ready], kind, h))
                    for kind in self.kinds}
        return [p if isinstance(p, Exception)
                else _attempt(self._finish, p, {k: next(searches[k]) for k in self.kinds}, h)
                for p in prepared]

    def _prepare(self, x, m, h):
        des = _cl.deseasonalise(x, m)
        if self.prepare is None:
            return des, dict.fromkeys(self.kinds, des.values), None
        lines, extra = self.prepare(des.values, h)
        return des, lines, extra

    def _finish(self, prepared, fits, h):
        des, _, extra = prepared
        fc, params, spec = self.finish(fits, extra, h)
        sd = des.rescale(_iv.error_sd(spec, h))
        if not np.all(np.isfinite(sd)):
            raise RuntimeError("forecast error variances are not finite")
        return des.reseasonalise(fc), sd, {**params, **_season_params(des), "interval": spec}


def _attempt(func, *args):
    """``func(*args)``, or the exception it raised (one series' failure is its own)."""
    try:
        return func(*args)
    except Exception as err:  # noqa: BLE001 - any failure means that series falls back
        return err


def _spec(p: dict) -> dict:
    # The search gives Holt's beta* (error-correction form); the ETS trend parameter is alpha beta*
    if "beta" not in p:
        return _iv.smoothing(p["sigma"], p["alpha"])
    return _iv.smoothing(p["sigma"], p["alpha"], p["alpha"] * p["beta"], p.get("phi", 1.0))


def _single(fits, extra, h):
    ((fc, p),) = fits.values()
    return fc, p, _spec(p)


def _comb(fits, extra, h):
    members = [fits[kind] for kind in ("ses", "holt", "damped")]
    fc = np.mean([f for f, _ in members], axis=0)
    params = dict(zip(("ses", "holt", "damped"), (p for _, p in members), strict=True))
    return fc, params, _iv.comb([_spec(p) for _, p in members])


def _theta_prepare(values, h):
    line, trend = _cl.theta_line(values, h)
    return {"ses": line}, trend


def _theta(fits, trend, h):
    fc, p = _cl.theta_combine(*fits["ses"], trend)
    # SES with drift on x, the same alpha as the theta line's SES (Hyndman & Billah, 2003)
    return fc, p, _iv.smoothing(p["sigma"], p["alpha"])


ses = SmoothingKernel(("ses",), _single)
holt = SmoothingKernel(("holt",), _single)
damped = SmoothingKernel(("damped",), _single)
comb = SmoothingKernel(("ses", "holt", "damped"), _comb)
theta = SmoothingKernel(("ses",), _theta, _theta_prepare)


def ets(x, m, h):
    return _ets.ets_auto(x, m, h)


def arima(x, m, h):
    return _auto.arima_auto(x, m, h)


# --------------------------------------------------------------------------- running


def run_one(kernel, x, m, h, min_length):
    """Forecast one series: ``(forecast, sd, params, None)``, or on failure Naive2's forecast
    and intervals with ``params["fallback"] = "naive2"`` and the reason last."""
    if len(x) < min_length:
        return _fallback(x, m, h, _too_short(x, min_length))
    with _cl.quiet():
        outcome = _attempt(kernel, x, m, h)
    return _settle(outcome, x, m, h)


def run_series(xs, kernel, m, h, min_length) -> list:
    """:func:`run_one` for every series of ``xs``, with one BLAS thread; a kernel with a
    ``batch`` method gets all the series long enough for it in one call."""
    # statsmodels' small matrices get 10-30x slower when BLAS threads fight over the cores with
    # the joblib workers (measured on SARIMAX fits).
    with threadpool_limits(limits=1):
        if not hasattr(kernel, "batch"):
            return [run_one(kernel, x, m, h, min_length) for x in xs]
        fit = [i for i, x in enumerate(xs) if len(x) >= min_length]
        with _cl.quiet():
            try:
                outcomes = kernel.batch([xs[i] for i in fit], m, h)
            except Exception:  # noqa: BLE001 - the shared search failed: try each series alone
                outcomes = [_attempt(kernel, xs[i], m, h) for i in fit]
        settled = dict(zip(fit, outcomes, strict=True))
        return [_settle(settled[i], x, m, h) if i in settled
                else _fallback(x, m, h, _too_short(x, min_length)) for i, x in enumerate(xs)]


def run_xreg(jobs, m, h, min_length) -> list:
    """ARIMA with regressors fitted to each ``(x, exog)`` of ``jobs`` (:func:`run_one`'s
    answers, one BLAS thread): ``(NaN forecast (h,), sd, params, None)`` (the forecast waits
    for the regressors of the horizon, :func:`xreg_forecast`), or Naive2's fallback."""
    out = []
    with threadpool_limits(limits=1):
        for x, exog in jobs:
            if len(x) < min_length:
                out.append(_fallback(x, m, h, _too_short(x, min_length)))
                continue
            with _cl.quiet():
                outcome = _attempt(_xreg.arima_xreg_fit, x, exog, m, h)
            if isinstance(outcome, Exception):
                out.append(_fallback(x, m, h, f"{type(outcome).__name__}: {outcome}"[:200]))
                continue
            sd, params = outcome
            out.append((np.full(h, np.nan), np.asarray(sd, dtype=np.float64), params, None))
    return out


def xreg_forecast(x, params, h, m, exog, exog_future):
    """``(forecast, sd)`` of a series fitted by :func:`run_xreg`, given the regressors of the
    horizon ``exog_future`` (h, k): its regression with ARIMA errors, or Naive2's for a
    series that fell back."""
    with _cl.quiet():
        if "fallback" in params:
            fc, sd, _ = naive2(x, m, h)
            return fc, sd
        return _xreg.arima_xreg_forecast(x, params, h, exog, exog_future)


def _too_short(x, min_length) -> str:
    return f"{len(x)} observations, needs {min_length}"


def _settle(outcome, x, m, h):
    """:func:`run_one`'s answer from a kernel's ``(forecast, sd, params)`` or exception."""
    if isinstance(outcome, Exception):
        return _fallback(x, m, h, f"{type(outcome).__name__}: {outcome}"[:200])
    fc, sd, params = outcome
    fc = np.asarray(fc, dtype=np.float64)
    if fc.shape == (h,) and np.all(np.isfinite(fc)):
        return fc, np.asarray(sd, dtype=np.float64), params, None
    return _fallback(x, m, h, "non-finite forecasts")


def _fallback(x, m, h, reason):
    fc, sd, params = naive2(x, m, h)
    return fc, sd, {"fallback": "naive2", **params}, reason


def model_paths(x, params, h, n_paths, seed, exog=None, exog_future=None):
    """Sample paths (n_paths, h) of a series whose fitted ETS or ARIMA model is in ``params``,
    from ``numpy.random.default_rng(seed)`` (an ARIMA with regressors needs them over the
    history, ``exog``, and the horizon, ``exog_future``)."""
    rng = np.random.default_rng(seed)
    with _cl.quiet():
        if params["interval"]["kind"] == "ets":
            return _ets.ets_paths(x, params["interval"], h, n_paths, rng)
        if "xreg" in params:
            return _auto.arima_paths(x, params, h, n_paths, rng, exog, exog_future)
        return _auto.arima_paths(x, params, h, n_paths, rng)


def run_each(jobs, func) -> list:
    """``[func(*args) for args in jobs]`` with one BLAS thread (see :func:`run_series`)."""
    with threadpool_limits(limits=1):
        return [func(*args) for args in jobs]
