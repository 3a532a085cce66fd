"""Automatic model selection for one series: ETS by AICc and a small stepwise ARIMA search.

Both follow the shape of R's ``forecast::ets`` and ``forecast::auto.arima`` (Hyndman &
Khandakar, 2008) with statsmodels doing the fitting, but with a smaller search so that 1,428
monthly series fit in minutes rather than hours (see the limits in each function).

Each returns the point forecast, the standard deviation of its error at every step (NaN where
the distribution is not Gaussian and is simulated instead) and JSON-able parameters whose
``"interval"`` entry holds what ``_ets_auto.ets_paths`` and :func:`arima_paths` need to rebuild the
fitted model (no refitting) and draw joint sample paths from it.

ETS lives in :mod:`forecastkit.forecasters._ets_auto`; the ARIMA search with regressors in
:mod:`forecastkit.forecasters._arima_xreg`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["arima_auto", "arima_paths", "forecast_covariance", "simulate_forecasts",
           "undifference"]


# --------------------------------------------------------------------------- ARIMA


def _n_seasonal_diffs(x: np.ndarray, m: int) -> int:
    """1 when STL's seasonal strength exceeds 0.64 (auto.arima's default ``seas`` test), else 0."""
    if m <= 1 or len(x) < 3 * m:
        return 0
    from statsmodels.tsa.seasonal import STL

    res = STL(x, period=m).fit()
    denom = np.var(res.resid + res.seasonal)
    strength = 0.0 if denom == 0 else max(0.0, 1.0 - np.var(res.resid) / denom)
    return int(strength > 0.64)


def _n_diffs(z: np.ndarray, max_d: int = 2) -> int:
    """Differences needed until the KPSS test (5%) no longer rejects level stationarity."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < max_d and len(z) > 3 and np.ptp(z) > 0:
        pvalue = kpss(z, regression="c", nlags="auto")[1]
        if pvalue >= 0.05:
            break
        z = np.diff(z)
        d += 1
    return d


def _difference(x: np.ndarray, d: int, D: int, m: int) -> list[np.ndarray]:
    """The series after each differencing stage: seasonal first, then ``d`` ordinary ones."""
    stages = [np.asarray(x, dtype=np.float64)]
    for _ in range(D):
        s = stages[-1]
        stages.append(s[m:] - s[:-m])
    for _ in range(d):
        stages.append(np.diff(stages[-1]))
    return stages


def undifference(stages: list[np.ndarray], forecast: np.ndarray, d: int, D: int, m: int):
    """Integrate forecasts of the fully differenced series back to the original scale.

    Parameters
    ----------
    stages : list of ndarray
        Output of :func:`_difference` (original series first).
    forecast : ndarray of shape (horizon,) or (n_paths, horizon)
        Forecasts (or sample paths) of ``stages[-1]``.

    Returns
    -------
    ndarray of the shape of ``forecast``
    """
    lags = [m] * D + [1] * d
    fc = np.asarray(forecast, dtype=np.float64)
    for stage, lag in zip(reversed(stages[:-1]), reversed(lags), strict=True):
        # each step adds the value one lag back: from the stage while the lag reaches into the
        # sample, from the integrated forecast after
        ext = np.concatenate([np.broadcast_to(stage, fc.shape[:-1] + stage.shape), fc], axis=-1)
        n = len(stage)
        for i in range(fc.shape[-1]):
            ext[..., n + i] += ext[..., n + i - lag]
        fc = ext[..., n:]
    return fc


def forecast_covariance(res, horizon: int) -> np.ndarray:
    """Joint covariance of the next ``horizon`` observations of a fitted state-space model.

    From the predicted state after the sample (mean ``a``, covariance ``P``) of a
    time-invariant model ``y_t = Z a_t + e_t``, ``a_{t+1} = T a_t + R eta_t``:
    ``cov(y_{n+i}, y_{n+j}) = Z T^(j-i) V_i Z'`` (+ ``H`` on the diagonal) with
    ``V_1 = P``, ``V_{i+1} = T V_i T' + R Q R'``. Its diagonal is what statsmodels'
    ``get_forecast(horizon).var_pred_mean`` returns; the off-diagonal terms are what the
    variance of a sum of forecasts (an integrated model's) needs.

    Returns
    -------
    ndarray of shape (horizon, horizon)
    """
    fr = res.filter_results
    z = fr.design[0, :, -1]
    T = fr.transition[:, :, -1]
    R = fr.selection[:, :, -1]
    RQR = R @ fr.state_cov[:, :, -1] @ R.T
    V = fr.predicted_state_cov[:, :, -1]
    cov = np.empty((horizon, horizon))
    for i in range(horizon):
        g = V @ z
        for j in range(i, horizon):
            cov[i, j] = cov[j, i] = z @ g
            g = T @ g
        V = T @ V @ T.T + RQR
    return cov + fr.obs_cov[0, 0, -1] * np.eye(horizon)


def simulate_forecasts(res, horizon: int, n_paths: int, rng: np.random.Generator,
                       intercept: np.ndarray | None = None) -> np.ndarray:
    """Joint sample paths of the next ``horizon`` observations of a fitted state-space model.

    What statsmodels' ``simulate(anchor="end")`` draws (the state after the sample from its
    predicted distribution, then Gaussian state and observation shocks through the model's
    matrices), vectorised over the paths: statsmodels loops over repetitions in Python, about
    5 ms each for a seasonal ARIMA (10 s for 2,000 paths of one series).

    Parameters
    ----------
    intercept : ndarray of shape (horizon,), optional
        The observation intercept of each forecast step: a regression's ``exog @ beta`` over
        the horizon (SARIMAX puts its regression there). Default: the model's last one, right
        for a model without regressors (its intercept does not change with time).

    Returns
    -------
    ndarray of shape (n_paths, horizon)
    """
    fr = res.filter_results
    z, d, h = fr.design[0, :, -1], fr.obs_intercept[0, -1], fr.obs_cov[0, 0, -1]
    T, c, R = fr.transition[:, :, -1], fr.state_intercept[:, -1], fr.selection[:, :, -1]
    shocks = _gaussian_factor(fr.state_cov[:, :, -1]) @ R.T  # (r, k): standard normals -> R eta
    state = fr.predicted_state[:, -1] + rng.standard_normal((n_paths, len(c))) @ \
        _gaussian_factor(fr.predicted_state_cov[:, :, -1])
    out = np.empty((n_paths, horizon))
    for t in range(horizon):
        out[:, t] = state @ z + (d if intercept is None else intercept[t])
        if h > 0:
            out[:, t] += np.sqrt(h) * rng.standard_normal(n_paths)
        state = state @ T.T + c + rng.standard_normal((n_paths, shocks.shape[0])) @ shocks
    return out


def _gaussian_factor(cov: np.ndarray) -> np.ndarray:
    """``F`` with ``F' F = cov`` for a symmetric positive semi-definite (possibly singular)
    ``cov``: standard normal rows times ``F`` have covariance ``cov``."""
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))).T


def _integrated_sd(res, stages, d: int, D: int, m: int, horizon: int) -> np.ndarray:
    """Forecast standard deviations of the undifferenced series: ``y = base + U' w`` with
    ``U`` the undifferencing of unit forecasts, so ``var(y) = diag(U' S U)``."""
    cov = forecast_covariance(res, horizon)
    unit = undifference(stages, np.eye(horizon), d, D, m)
    unit = unit - undifference(stages, np.zeros(horizon), d, D, m)
    return np.sqrt(np.einsum("ki,kl,li->i", unit, cov, unit))


def _sarimax(w: np.ndarray, order, m: int, seasonal: bool, trend: str,
             exog: np.ndarray | None = None):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    p, q, P, Q = order
    return SARIMAX(w, exog=exog, order=(p, 0, q),
                   seasonal_order=(P, 0, Q, m) if seasonal else (0, 0, 0, 0),
                   trend=trend, concentrate_scale=True)


def _arima_search(w: np.ndarray, m: int, seasonal: bool, trend: str, n_obs: int, max_pq: int,
                  max_models: int, maxiter: int, exog: np.ndarray | None = None):
    """The stepwise search of :func:`arima_auto` on the differenced series ``w`` (and
    regressors ``exog``, differenced alike, in every candidate): ``((p, q, P, Q), aicc,
    SARIMAX results, number of models tried)``."""
    k_exog = 0 if exog is None else exog.shape[1]
    cache: dict[tuple[int, int, int, int], tuple[float, object] | None] = {}

    def fit(order):
        if order in cache:
            return cache[order]
        p, q, P, Q = order
        n_par = p + q + P + Q + (trend == "c") + 1 + k_exog
        if len(w) <= n_par + 2 or len(cache) >= max_models:
            cache[order] = None
            return None
        try:
            res = _sarimax(w, order, m, seasonal, trend, exog).fit(disp=False, maxiter=maxiter)
            aicc = float(res.aicc)
            out = (aicc, res) if np.isfinite(aicc) else None
        except (ValueError, np.linalg.LinAlgError):
            out = None
        cache[order] = out
        return out

    starts = [(1, 1, 0, 0), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]
    if not seasonal:
        starts = [(p, q, 0, 0) for p, q, _, _ in starts]
    best = None
    for order in starts:
        r = fit(order)
        if r is not None and (best is None or r[0] < best[1][0]):
            best = (order, r)
    if best is None:
        raise RuntimeError(f"no ARIMA model could be fitted to a series of {n_obs} observations")
    improved = True
    while improved:
        improved = False
        p, q, P, Q = best[0]
        moves = [(1, 0, 0, 0), (-1, 0, 0, 0), (0, 1, 0, 0), (0, -1, 0, 0)]
        moves += [(1, 1, 0, 0), (-1, -1, 0, 0)]
        if seasonal:
            moves += [(0, 0, 1, 0), (0, 0, -1, 0), (0, 0, 0, 1), (0, 0, 0, -1)]
        for dp, dq, dP, dQ in moves:
            cand = (p + dp, q + dq, P + dP, Q + dQ)
            if min(cand) < 0 or max(cand[:2]) > max_pq or max(cand[2:]) > 1:
                continue
            r = fit(cand)
            if r is not None and r[0] < best[1][0]:
                best = (cand, r)
                improved = True
                break
    order, (aicc, res) = best
    return order, aicc, res, len(cache)


def arima_auto(
    x: np.ndarray, m: int, horizon: int, max_pq: int = 3, max_models: int = 12, maxiter: int = 50
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Stepwise (S)ARIMA order search by AICc, a reduced Hyndman-Khandakar algorithm.

    ``D`` (0 or 1) from STL seasonal strength, ``d`` (0..2) from repeated KPSS tests; the data
    are differenced once up front, so every candidate is an ARMA fitted by statsmodels' SARIMAX
    on the same differenced series (comparable AICc, and a smaller state space than letting
    SARIMAX difference). A constant (drift after one difference) is kept when ``d + D <= 1``.
    The search starts from auto.arima's starting models (0,0)(0,0), (1,0)(1,0) and (0,1)(0,1),
    with (1,1)(0,0) in place of auto.arima's (2,2)(1,1) (that one model took most of the time),
    then moves p, q, P, Q by one while AICc improves; ``p, q <= max_pq``, ``P, Q <= 1``, at
    most ``max_models`` fits per series and ``maxiter`` L-BFGS iterations per fit (auto.arima
    allows p, q <= 5, P, Q <= 2 and 94 models: ours is a deliberately smaller search for
    speed). Seasonal terms only when m > 1 and the series holds at least three seasons.

    Returns
    -------
    forecast : ndarray of shape (horizon,)
    sd : ndarray of shape (horizon,)
        Forecast standard deviations: statsmodels' state-space forecast covariance of the
        differenced series (:func:`forecast_covariance`, whose diagonal is SARIMAX's
        ``get_forecast(h).var_pred_mean``) carried through the undifferencing.
    params : dict
        ``{"order": [p, d, q], "seasonal_order": [P, D, Q, m], "aicc": ..., "interval": ...}``.
    """
    seasonal = m > 1 and len(x) >= 3 * m
    D = _n_seasonal_diffs(x, m) if seasonal else 0
    d = _n_diffs(x[m:] - x[:-m] if D else x)
    stages = _difference(x, d, D, m)
    w = stages[-1]
    trend = "c" if d + D <= 1 else "n"
    (p, q, P, Q), aicc, res, n_models = _arima_search(w, m, seasonal, trend, len(x), max_pq,
                                                      max_models, maxiter)
    fc = undifference(stages, np.asarray(res.forecast(horizon)), d, D, m)
    sd = _integrated_sd(res, stages, d, D, m, horizon)
    if not (np.all(np.isfinite(fc)) and np.all(np.isfinite(sd))):
        raise RuntimeError("ARIMA forecasts or their variances are not finite")
    return fc, sd, {
        "order": [p, d, q],
        "seasonal_order": [P, D, Q, m if seasonal else 0],
        "aicc": aicc,
        "n_models": n_models,
        "interval": {"kind": "arima", "trend": trend, "params": [float(v) for v in res.params],
                     "normal": True},
    }


def _seasonality(params: dict) -> tuple[int, int, int, int, int, int, bool, int]:
    """``(p, d, q, P, D, Q, seasonal, m)`` of a fitted model's parameters (m is 1 when it is
    not seasonal, as the differencing helpers take it)."""
    p, d, q = params["order"]
    P, D, Q, m = params["seasonal_order"]
    seasonal = m > 0
    return p, d, q, P, D, Q, seasonal, m if seasonal else 1


def arima_paths(x: np.ndarray, params: dict, horizon: int, n_paths: int,
                rng: np.random.Generator, exog: np.ndarray | None = None,
                exog_future: np.ndarray | None = None) -> np.ndarray:
    """Sample paths of a model fitted by :func:`arima_auto`, shape (n_paths, horizon).

    The differenced series' SARIMAX is rebuilt with the fitted parameters (``smooth``, no
    refit), simulated from the end of the sample as statsmodels' ``simulate(anchor="end")``
    does (:func:`simulate_forecasts`: the state drawn from its predicted distribution,
    Gaussian shocks) and every path undifferenced.

    A model of :func:`arima_xreg_fit` needs its regressors: ``exog`` (n, k) over the
    history and ``exog_future`` (horizon, k) over the horizon; each path then carries the
    regression on the horizon's regressors.
    """
    if "xreg" in params:
        if exog is None or exog_future is None:
            raise ValueError("this ARIMA has regressors: pass exog and exog_future")
        res, stages, future = _xreg_model(x, params, exog, exog_future[:horizon])
        intercept = None
        if future is not None:
            k_trend, k_exog = res.model.k_trend, res.model.k_exog
            beta = np.asarray(params["interval"]["params"])[k_trend:k_trend + k_exog]
            intercept = future @ beta
        _, d, _, _, D, _, _, m = _seasonality(params)
        return undifference(stages, simulate_forecasts(res, horizon, n_paths, rng, intercept),
                            d, D, m)
    p, d, q = params["order"]
    P, D, Q, m = params["seasonal_order"]
    seasonal = m > 0
    m = m if seasonal else 1
    stages = _difference(x, d, D, m)
    interval = params["interval"]
    res = _sarimax(stages[-1], (p, q, P, Q), m, seasonal, interval["trend"]).smooth(
        np.asarray(interval["params"]))
    return undifference(stages, simulate_forecasts(res, horizon, n_paths, rng), d, D, m)


def _difference_columns(X: np.ndarray, d: int, D: int, m: int) -> np.ndarray:
    """The columns of ``X`` differenced as :func:`_difference` differences a series."""
    for _ in range(D):
        X = X[m:] - X[:-m]
    for _ in range(d):
        X = np.diff(X, axis=0)
    return X


def _xreg_model(x: np.ndarray, params: dict, exog: np.ndarray, exog_future: np.ndarray):
    """The model of :func:`arima_xreg_fit` rebuilt on ``x`` (``smooth`` with its parameters,
    no refit): ``(results, stages of x, differenced regressors of the horizon or None)``."""
    p, d, q, P, D, Q, seasonal, m = _seasonality(params)
    x = np.asarray(x, dtype=np.float64)
    exog = np.asarray(exog, dtype=np.float64)
    exog_future = np.asarray(exog_future, dtype=np.float64)
    if exog.shape[0] != len(x) or exog_future.ndim != 2 or exog_future.shape[1] != exog.shape[1]:
        raise ValueError(f"regressors of shapes {exog.shape} and {exog_future.shape} do not fit "
                         f"a series of {len(x)} observations")
    cols = list(params["xreg"]["columns"])
    stages = _difference(x, d, D, m)
    W = future = None
    if cols:
        both = _difference_columns(np.concatenate([exog[:, cols], exog_future[:, cols]]), d, D,
                                   m)
        W, future = both[:-len(exog_future)], both[-len(exog_future):]
    interval = params["interval"]
    res = _sarimax(stages[-1], (p, q, P, Q), m, seasonal, interval["trend"], W).smooth(
        np.asarray(interval["params"]))
    return res, stages, future
