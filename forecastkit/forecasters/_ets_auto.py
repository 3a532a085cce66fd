"""ETS by AICc for one series: error/trend/damped/seasonal combinations of statsmodels'
ETSModel, as R's ``forecast::ets`` restricts them (the ETS part of
:mod:`forecastkit.forecasters._autoselect`'s automatic selection).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ets_auto", "ets_paths"]


def _ets_candidates(x: np.ndarray, m: int):
    """(error, trend, damped, seasonal) combinations R's ``ets`` tries with ``restrict=TRUE``.

    Multiplicative error and season only for strictly positive data; additive error with a
    multiplicative season is left out as numerically unstable; no multiplicative trend (R's
    default); no season beyond m = 24 (R's limit) or with fewer than two full seasons.
    """
    positive = bool(np.min(x) > 0)
    errors = ["add", "mul"] if positive else ["add"]
    seasons: list[str | None] = [None]
    if 1 < m <= 24 and len(x) >= 2 * m:
        seasons += ["add", "mul"] if positive else ["add"]
    for error in errors:
        for trend, damped in ((None, False), ("add", False), ("add", True)):
            for season in seasons:
                if error == "add" and season == "mul":
                    continue
                yield error, trend, damped, season


def _ets_n_params(trend, damped, season, m) -> int:
    # alpha + initial level, beta + initial slope, phi, gamma + m - 1 free initial seasonals
    return 2 + 2 * (trend is not None) + int(damped) + (m if season else 0)


def _ets_model(x, spec: dict):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    return ETSModel(x, error=spec["error"], trend=spec["trend"], damped_trend=spec["damped"],
                    seasonal=spec["seasonal"], seasonal_periods=spec["m"] if spec["seasonal"]
                    else None)


def ets_auto(x: np.ndarray, m: int, horizon: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Fit the ETS candidates with statsmodels' ``ETSModel`` and keep the lowest AICc.

    A candidate with ``n <= n_params + 4`` is skipped (R's rule); a candidate whose fit raises or
    gives non-finite AICc/forecasts is skipped. Raises ``RuntimeError`` when none is left.

    Returns
    -------
    forecast : ndarray of shape (horizon,)
    sd : ndarray of shape (horizon,)
        statsmodels' exact forecast standard deviation for an additive-error model
        (``get_prediction(...).var_pred_mean``, class 1 of Hyndman et al. 2008); NaN for a
        multiplicative-error one, whose quantiles are simulated (:func:`ets_paths`) as
        statsmodels' ``get_prediction`` does.
    params : dict
        ``{"model": "ETS(M,Ad,M)", "aicc": ..., fitted smoothing parameters, "interval": ...}``.
    """
    best = None
    n = len(x)
    for error, trend, damped, season in _ets_candidates(x, m):
        if n <= _ets_n_params(trend, damped, season, m) + 4:
            continue
        spec = {"error": error, "trend": trend, "damped": damped, "seasonal": season, "m": m}
        try:
            res = _ets_model(x, spec).fit(disp=False)
            aicc = float(res.aicc)
            fc = np.asarray(res.forecast(horizon), dtype=np.float64)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        if not (np.isfinite(aicc) and np.all(np.isfinite(fc))):
            continue
        if best is None or aicc < best[0]:
            best = (aicc, fc, spec, res)
    if best is None:
        raise RuntimeError(f"no ETS model could be fitted to a series of {n} observations")
    aicc, fc, spec, res = best
    name = "ETS({},{},{})".format(
        spec["error"][0].upper(),
        "N" if spec["trend"] is None else ("Ad" if spec["damped"] else "A"),
        "N" if spec["seasonal"] is None else spec["seasonal"][0].upper(),
    )
    params = {k: float(v) for k, v in zip(res.param_names, res.params, strict=True)}
    normal = spec["error"] == "add"
    interval = {"kind": "ets", **spec, "params": [float(v) for v in res.params],
                "normal": normal}
    sd = _ets_sd(x, interval, horizon) if normal else np.full(horizon, np.nan)
    if normal and not np.all(np.isfinite(sd)):
        raise RuntimeError("ETS forecast variances are not finite")
    return fc, sd, {"model": name, "aicc": aicc, **_smoothing(params), "interval": interval}


def _ets_sd(x: np.ndarray, interval: dict, horizon: int) -> np.ndarray:
    import pandas as pd

    # get_prediction needs pandas data (it labels its rows from the data's index)
    res = _ets_model(pd.Series(x), interval).smooth(np.asarray(interval["params"]))
    pred = res.get_prediction(start=len(x), end=len(x) + horizon - 1, method="exact")
    return np.sqrt(np.asarray(pred.var_pred_mean, dtype=np.float64))


def ets_paths(x: np.ndarray, interval: dict, horizon: int, n_paths: int,
              rng: np.random.Generator) -> np.ndarray:
    """Sample paths of a fitted ETS model, shape (n_paths, horizon).

    The model is rebuilt from ``params["interval"]`` of :func:`ets_auto` by smoothing with the
    fitted parameters (no refit) and simulated from the end of the sample with statsmodels'
    ``simulate(anchor="end")``: Gaussian innovations of the in-sample variance, additive or
    multiplicative as the model's error.
    """
    res = _ets_model(x, interval).smooth(np.asarray(interval["params"]))
    sim = res.simulate(horizon, anchor="end", repetitions=n_paths, rng=rng)
    return np.asarray(sim, dtype=np.float64).reshape(horizon, n_paths).T


def _smoothing(params: dict) -> dict:
    keep = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
    return {k: v for k, v in params.items() if k in keep}
