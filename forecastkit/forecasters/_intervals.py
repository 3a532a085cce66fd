"""Forecast-error distributions of the classical baselines: the linear Gaussian kernels.

The naive family, Naive2, SES, Holt, damped Holt and Theta all forecast with errors that are a
linear combination of future Gaussian innovations (Hyndman et al., *Forecasting with
Exponential Smoothing*, 2008, ch. 6, "class 1"; Hyndman & Athanasopoulos, *FPP3*, 5.5):

    y_{n+h} - yhat_{n+h} = sigma * ( sum_{j=0}^{h-1} c_j e_{n+h-j}  +  k_h xi ),

with ``e`` and ``xi`` independent standard normals, ``c_0 = 1`` and ``xi`` a shock common to
every step (the estimation error of a drift or a mean). A method is described by a small JSON
*spec* (``{"kind": ..., "sigma": ..., parameters}``), from which this module gives the
weights, the standard deviation of the error at each step, Gaussian quantiles and joint paths.
A deseasonalised method's spec lives on the deseasonalised scale; re-seasonalising multiplies
the standard deviations by the seasonal indices (or leaves them, for an additive season).

``sigma`` is the standard deviation of the method's in-sample one-step residuals, divided by
``T - K - M`` as FPP3 5.5 does (``K`` estimated parameters, ``M`` residuals a method cannot
have) for the naive family, and by ``T`` for the smoothing methods (statsmodels' ETSModel
``mse``, so our intervals equal its ``get_prediction`` ones).
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.special import ndtri

__all__ = [
    "LINEAR_KINDS",
    "residual_sigma",
    "random_walk",
    "seasonal_random_walk",
    "drift",
    "mean",
    "smoothing",
    "comb",
    "error_weights",
    "error_sd",
    "min_length",
    "normal_quantiles",
    "linear_paths",
    "quantile_seed",
]

LINEAR_KINDS = frozenset(
    {"random_walk", "seasonal_random_walk", "drift", "mean", "exponential_smoothing"}
)


def residual_sigma(residuals: np.ndarray, n_params: int = 0) -> float:
    """``sqrt(sum e^2 / (len(e) - n_params))``; NaN when no degree of freedom is left."""
    dof = len(residuals) - n_params
    if dof <= 0:
        return float("nan")
    return float(np.sqrt(np.sum(np.square(residuals)) / dof))


# --------------------------------------------------------------------------- specs


def random_walk(x: np.ndarray) -> dict:
    """Naive: residuals ``x_t - x_{t-1}``; the error is a random walk."""
    return {"kind": "random_walk", "sigma": residual_sigma(np.diff(x))}


def seasonal_random_walk(x: np.ndarray, m: int) -> dict:
    """Seasonal naive: residuals ``x_t - x_{t-m}``; step h carries floor((h-1)/m) + 1 shocks."""
    return {"kind": "seasonal_random_walk", "sigma": residual_sigma(x[m:] - x[:-m]), "m": int(m)}


def drift(x: np.ndarray) -> dict:
    """Drift: residuals ``x_t - x_{t-1} - slope`` (one parameter); variance ``h (1 + h/T)``."""
    d = np.diff(x)
    slope = (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else 0.0
    return {"kind": "drift", "sigma": residual_sigma(d - slope, n_params=1), "n": len(x)}


def mean(x: np.ndarray) -> dict:
    """Mean: residuals ``x_t - mean`` (one parameter); variance ``1 + 1/T``."""
    return {"kind": "mean", "sigma": residual_sigma(x - x.mean(), n_params=1), "n": len(x)}


def smoothing(sigma: float, alpha: float, beta: float = 0.0, phi: float = 1.0) -> dict:
    """ETS(A,N,N), (A,A,N) or (A,Ad,N) in innovations form: ``beta`` is the ETS trend
    parameter (``alpha * beta*`` of statsmodels' Holt), ``phi`` the damping (1: none)."""
    return {"kind": "exponential_smoothing", "sigma": float(sigma), "alpha": float(alpha),
            "beta": float(beta), "phi": float(phi)}


def comb(members: list[dict]) -> dict:
    """Comb: the mean of its members' quantile functions (no joint paths)."""
    return {"kind": "comb", "members": members}


# --------------------------------------------------------------------------- maths


def error_weights(spec: dict, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Innovation weights ``c`` (c_0 = 1) and common-shock loadings ``k`` of a linear spec.

    Returns
    -------
    c, k : ndarray of shape (horizon,)
    """
    kind = spec["kind"]
    j = np.arange(horizon, dtype=np.float64)
    k = np.zeros(horizon)
    if kind == "random_walk":
        c = np.ones(horizon)
    elif kind == "seasonal_random_walk":
        c = (np.arange(horizon) % spec["m"] == 0).astype(np.float64)
    elif kind == "drift":
        c = np.ones(horizon)
        k = (j + 1) / np.sqrt(spec["n"])  # the slope's error, h * N(0, sigma^2 / T)
    elif kind == "mean":
        c = (j == 0).astype(np.float64)
        k = np.full(horizon, 1.0 / np.sqrt(spec["n"]))
    elif kind == "exponential_smoothing":
        # c_j = alpha + beta (phi + ... + phi^j) for j >= 1 (Hyndman et al. 2008, table 6.1)
        phi = spec["phi"]
        damped_steps = j if phi == 1.0 else phi * (1.0 - phi**j) / (1.0 - phi)
        c = spec["alpha"] + spec["beta"] * damped_steps
        c[0] = 1.0
    else:
        raise ValueError(f"no linear error model for kind {kind!r}")
    return c, k


def error_sd(spec: dict, horizon: int) -> np.ndarray:
    """Standard deviation of the forecast error at steps 1..horizon, shape (horizon,).

    ``sigma * sqrt(sum_{j<h} c_j^2 + k_h^2)`` for a linear spec; for Comb the mean of its
    members' (a mean of Gaussian quantile functions is Gaussian with the mean scale).
    """
    if spec["kind"] == "comb":
        return np.mean([error_sd(s, horizon) for s in spec["members"]], axis=0)
    c, k = error_weights(spec, horizon)
    return spec["sigma"] * np.sqrt(np.cumsum(c**2) + k**2)


def min_length(spec: dict) -> int:
    """Fewest observations that leave ``spec``'s sigma a degree of freedom."""
    return {"seasonal_random_walk": spec.get("m", 1) + 1, "drift": 3}.get(spec["kind"], 2)


def normal_quantiles(mean: np.ndarray, sd: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Gaussian quantiles ``mean + sd * Phi^-1(level)``.

    Parameters
    ----------
    mean, sd : ndarray of shape (n_series, horizon)
    levels : ndarray of shape (n_levels,)

    Returns
    -------
    ndarray of shape (n_series, horizon, n_levels)
    """
    z = ndtri(np.asarray(levels, dtype=np.float64))
    return mean[:, :, None] + sd[:, :, None] * z[None, None, :]


def linear_paths(mean: np.ndarray, sd: np.ndarray, spec: dict, n_paths: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Joint sample paths of a linear spec around its point forecast.

    Parameters
    ----------
    mean, sd : ndarray of shape (horizon,)
        Point forecast and error standard deviations on the series' own scale (``sd`` already
        re-seasonalised; the paths are scaled to it step by step).
    spec : dict
    n_paths : int
    rng : numpy Generator

    Returns
    -------
    ndarray of shape (n_paths, horizon)
        Each path's errors are the random walk, seasonal random walk or smoothing recursion of
        ``spec`` driven by Gaussian innovations, so every step's marginal is N(mean, sd^2).
    """
    horizon = len(mean)
    c, k = error_weights(spec, horizon)
    steps = np.arange(horizon)
    lag = steps[:, None] - steps[None, :]
    weights = np.where(lag >= 0, c[np.clip(lag, 0, None)], 0.0)  # (horizon, horizon)
    eps = rng.standard_normal((n_paths, horizon))
    xi = rng.standard_normal((n_paths, 1))
    noise = eps @ weights.T + xi * k[None, :]
    unit = np.sqrt(np.cumsum(c**2) + k**2)
    return mean[None, :] + noise * (sd / unit)[None, :]


def quantile_seed(series_id) -> int:
    """Seed of the paths a simulated model's quantiles come from: fixed per series id, so a
    series gets the same quantiles whatever panel, order or process it is forecast in."""
    return zlib.crc32(str(series_id).encode("utf-8"))
