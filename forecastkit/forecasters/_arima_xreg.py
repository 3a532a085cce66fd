"""ARIMA with regressors for one series: regression with ARIMA errors, as R's
``auto.arima(x, xreg=...)`` fits it (:func:`arima_xreg_fit`), forecast by
:func:`arima_xreg_forecast` once the regressors of the horizon are known. The order search and
the differencing are :mod:`forecastkit.forecasters._autoselect`'s.
"""

from __future__ import annotations

import numpy as np

from forecastkit.forecasters._autoselect import (
    _arima_search,
    _difference,
    _difference_columns,
    _integrated_sd,
    _n_diffs,
    _n_seasonal_diffs,
    _seasonality,
    _xreg_model,
    undifference,
)

__all__ = ["arima_xreg_fit", "arima_xreg_forecast"]


def _any_constant(X: np.ndarray) -> bool:
    return bool(X.shape[1]) and bool(np.any(np.ptp(X, axis=0) == 0))


def _independent_columns(X: np.ndarray, intercept: bool, rtol: float = 1e-9) -> list[int]:
    """Columns of ``X`` kept left to right while each adds to the rank of those kept before
    it (and of a column of ones, with ``intercept``).

    A column constant over the series (a calendar dummy that never changes in a short series,
    a holiday flag that is always 0) or one that the others reproduce (the last dummy of a
    full one-hot set, beside the intercept) would make the regression singular. Columns are
    scaled to a largest absolute value of 1 and a singular value below ``rtol`` times the
    largest counts as zero.
    """
    n = len(X)
    basis: list[np.ndarray] = [np.ones(n)] if intercept else []
    keep: list[int] = []
    for j in range(X.shape[1]):
        col = X[:, j]
        scale = float(np.max(np.abs(col))) if n else 0.0
        if not (scale > 0 and np.isfinite(scale)):
            continue
        cand = np.column_stack([*basis, col / scale])
        sv = np.linalg.svd(cand, compute_uv=False)
        if len(sv) == cand.shape[1] and sv[-1] > rtol * sv[0]:
            basis.append(col / scale)
            keep.append(j)
    return keep


def arima_xreg_fit(x: np.ndarray, exog: np.ndarray, m: int, horizon: int, max_pq: int = 3,
                   max_models: int = 12, maxiter: int = 50) -> tuple[np.ndarray, dict]:
    """Regression with ARIMA errors: the order search of :func:`arima_auto` with regressors.

    As R's ``auto.arima(x, xreg=exog)``: the regressors that are constant over the series, or
    that the others (with the intercept) reproduce, are dropped first (the regression would be
    singular); ``D`` and ``d`` are chosen by the tests of :func:`arima_auto` on the residuals
    of the least-squares regression of ``x`` on the regressors, lowered by one (as R does) when
    that differencing would make a regressor constant; the series and the regressors are then
    differenced alike, so the regression is on the same scale, and every candidate ARMA is a
    SARIMAX with the differenced regressors as ``exog`` (their coefficients estimated by
    maximum likelihood with the ARMA terms). Regressors that the differencing makes
    dependent (on each other, or on the constant when one is kept) are dropped too.

    Nothing is forecast here: the forecast needs the regressors of the horizon
    (:func:`arima_xreg_forecast`).

    Parameters
    ----------
    x : ndarray of shape (n,)
    exog : ndarray of shape (n, k)
        The regressors over the history, row by row with ``x``.

    Returns
    -------
    sd : ndarray of shape (horizon,)
        Forecast standard deviations (those of :func:`arima_auto`: the regressors of the
        horizon are known, their coefficients taken as exact, as statsmodels does).
    params : dict
        :func:`arima_auto`'s, with ``"xreg": {"columns": [...], "dropped": [...], "coef":
        [...]}``: the positions of the regressors kept and dropped (in ``exog``'s columns) and
        the coefficients of those kept, in the differenced regression.
    """
    x = np.asarray(x, dtype=np.float64)
    exog = np.asarray(exog, dtype=np.float64)
    if exog.ndim != 2 or len(exog) != len(x):
        raise ValueError(f"exog has shape {exog.shape}; expected ({len(x)}, k)")
    if not np.all(np.isfinite(exog)):
        raise ValueError("exog holds non-finite values")
    cols = _independent_columns(exog, intercept=True)
    X = exog[:, cols]
    z = x
    if cols:  # the differencing tests read the regression's residuals (auto.arima's xx)
        design = np.column_stack([np.ones(len(x)), X])
        z = x - design @ np.linalg.lstsq(design, x, rcond=None)[0]
    seasonal = m > 1 and len(x) >= 3 * m
    D = _n_seasonal_diffs(z, m) if seasonal else 0
    if D and _any_constant(_difference_columns(X, 0, D, m)):
        D = 0
    d = _n_diffs(z[m:] - z[:-m] if D else z)
    if d and _any_constant(_difference_columns(X, d, D, m)):
        d -= 1
    stages = _difference(x, d, D, m)
    trend = "c" if d + D <= 1 else "n"
    W = _difference_columns(X, d, D, m)
    keep = _independent_columns(W, intercept=trend == "c")
    cols = [cols[j] for j in keep]
    (p, q, P, Q), aicc, res, n_models = _arima_search(
        stages[-1], m, seasonal, trend, len(x), max_pq, max_models, maxiter,
        W[:, keep] if keep else None)
    sd = _integrated_sd(res, stages, d, D, m, horizon)
    values = np.asarray(res.params, dtype=np.float64)
    if not (np.all(np.isfinite(sd)) and np.all(np.isfinite(values))):
        raise RuntimeError("ARIMA parameters or forecast variances are not finite")
    k_trend = res.model.k_trend
    return sd, {
        "order": [p, d, q],
        "seasonal_order": [P, D, Q, m if seasonal else 0],
        "aicc": aicc,
        "n_models": n_models,
        "xreg": {"columns": cols, "dropped": [j for j in range(exog.shape[1]) if j not in cols],
                 "coef": [float(v) for v in values[k_trend:k_trend + len(cols)]]},
        "interval": {"kind": "arima", "trend": trend, "params": [float(v) for v in values],
                     "normal": True},
    }


def arima_xreg_forecast(x: np.ndarray, params: dict, horizon: int, exog: np.ndarray,
                        exog_future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and its standard deviations, each of shape (horizon,), of a model fitted by
    :func:`arima_xreg_fit` on ``x`` and ``exog``, given the regressors of the horizon
    ``exog_future`` (horizon, k): the differenced series' SARIMAX forecast with the
    differenced regressors of the horizon, undifferenced."""
    res, stages, future = _xreg_model(x, params, exog, exog_future[:horizon])
    _, d, _, _, D, _, _, m = _seasonality(params)
    w = res.forecast(horizon) if future is None else res.forecast(horizon, exog=future)
    fc = undifference(stages, np.asarray(w), d, D, m)
    return fc, _integrated_sd(res, stages, d, D, m, horizon)
