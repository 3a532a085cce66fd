"""Automatic model selection for one series: ETS by AICc and a small stepwise ARIMA search.

Both follow the shape of R's ``forecast::ets`` and ``forecast::auto.arima`` (Hyndman &
Khandakar, 2008) with statsmodels doing the fitting, but with a smaller search so that 1,428
monthly series fit in minutes rather than hours (see the limits in each function).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ets_auto", "arima_auto", "undifference"]


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


def ets_auto(x: np.ndarray, m: int, horizon: int) -> tuple[np.ndarray, dict]:
    """Fit the ETS candidates with statsmodels' ``ETSModel`` and keep the lowest AICc.

    A candidate with ``n <= n_params + 4`` is skipped (R's rule); a candidate whose fit raises or
    gives non-finite AICc/forecasts is skipped. Raises ``RuntimeError`` when none is left.

    Returns
    -------
    forecast : ndarray of shape (horizon,)
    params : dict
        ``{"model": "ETS(M,Ad,M)", "aicc": ..., fitted smoothing parameters}``.
    """
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    best = None
    n = len(x)
    for error, trend, damped, season in _ets_candidates(x, m):
        if n <= _ets_n_params(trend, damped, season, m) + 4:
            continue
        try:
            model = ETSModel(
                x,
                error=error,
                trend=trend,
                damped_trend=damped,
                seasonal=season,
                seasonal_periods=m if season else None,
            )
            res = model.fit(disp=False)
            aicc = float(res.aicc)
            fc = np.asarray(res.forecast(horizon), dtype=np.float64)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            continue
        if not (np.isfinite(aicc) and np.all(np.isfinite(fc))):
            continue
        if best is None or aicc < best[0]:
            name = "ETS({},{},{})".format(
                error[0].upper(),
                "N" if trend is None else ("Ad" if damped else "A"),
                "N" if season is None else season[0].upper(),
            )
            params = {k: float(v) for k, v in zip(res.param_names, res.params, strict=True)}
            best = (aicc, fc, {"model": name, "aicc": aicc, **_smoothing(params)})
    if best is None:
        raise RuntimeError(f"no ETS model could be fitted to a series of {n} observations")
    return best[1], best[2]


def _smoothing(params: dict) -> dict:
    keep = ("smoothing_level", "smoothing_trend", "smoothing_seasonal", "damping_trend")
    return {k: v for k, v in params.items() if k in keep}


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
    forecast : ndarray of shape (horizon,)
        Forecasts of ``stages[-1]``.
    """
    lags = [m] * D + [1] * d
    fc = np.asarray(forecast, dtype=np.float64)
    for stage, lag in zip(reversed(stages[:-1]), reversed(lags), strict=True):
        ext = np.concatenate([stage, np.zeros(len(fc))])
        n = len(stage)
        for i in range(len(fc)):
            ext[n + i] = fc[i] + ext[n + i - lag]
        fc = ext[n:]
    return fc


def arima_auto(
    x: np.ndarray, m: int, horizon: int, max_pq: int = 3, max_models: int = 12, maxiter: int = 50
) -> tuple[np.ndarray, dict]:
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
    params : dict
        ``{"order": [p, d, q], "seasonal_order": [P, D, Q, m], "aicc": ...}``.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    seasonal = m > 1 and len(x) >= 3 * m
    D = _n_seasonal_diffs(x, m) if seasonal else 0
    d = _n_diffs(x[m:] - x[:-m] if D else x)
    stages = _difference(x, d, D, m)
    w = stages[-1]
    trend = "c" if d + D <= 1 else "n"
    cache: dict[tuple[int, int, int, int], tuple[float, object] | None] = {}

    def fit(order):
        if order in cache:
            return cache[order]
        p, q, P, Q = order
        n_par = p + q + P + Q + (trend == "c") + 1
        if len(w) <= n_par + 2 or len(cache) >= max_models:
            cache[order] = None
            return None
        try:
            res = SARIMAX(
                w,
                order=(p, 0, q),
                seasonal_order=(P, 0, Q, m) if seasonal else (0, 0, 0, 0),
                trend=trend,
                concentrate_scale=True,
            ).fit(disp=False, maxiter=maxiter)
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
        raise RuntimeError(f"no ARIMA model could be fitted to a series of {len(x)} observations")
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
    (p, q, P, Q), (aicc, res) = best
    fc = undifference(stages, np.asarray(res.forecast(horizon)), d, D, m)
    if not np.all(np.isfinite(fc)):
        raise RuntimeError("ARIMA forecasts are not finite")
    return fc, {
        "order": [p, d, q],
        "seasonal_order": [P, D, Q, m if seasonal else 0],
        "aicc": aicc,
        "n_models": len(cache),
    }
