"""Exponential smoothing (SES, Holt, damped Holt) fitted by one deterministic search.

The model is statsmodels' ``Holt``/``SimpleExpSmoothing`` with ``initialization_method=
"estimated"``: the same recursions, the same bounds (``alpha`` in ``[sqrt(eps), 1 - sqrt(eps)]``,
``beta`` in ``[0, alpha]``, ``phi`` in ``[0.8, 0.995]``) and the same objective, the sum of
squared one-step errors. Only the optimiser differs, and on purpose:

* the initial level and trend are not searched: for given smoothing parameters the one-step
  forecasts are linear in them, so their least-squares values are solved in closed form (the
  recursion carries the forecasts' dependence on them beside the forecasts themselves);
* the smoothing parameters are searched over a fixed grid of the whole box, then by
  ``ZOOM_ROUNDS`` rounds of a ``ZOOM_POINTS``-per-axis grid centred on the best point so far,
  halving its width each round.

Every step is a fixed sequence of array operations with no data-dependent stopping rule, so the
same code written with TensorFlow operations (:mod:`forecastkit.export._smoothing_graph`, which
takes its constants from here) computes the same forecasts inside a SavedModel. statsmodels'
L-BFGS-B over the joint parameters, by contrast, stops where its tolerances say, often far from
the least-squares optimum on badly scaled initial states.

Arrays are batches of left-padded series: ``y`` and ``mask`` of shape (batch, timesteps), with
``mask`` 1 on observed steps and 0 on the padding before each series starts. Every series' fit
is the same, bit for bit, whatever it is batched with, so many series are best fitted in one
call (:func:`forecast_many`): the time loop then costs the same Python steps for all of them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "LOWER_BOUND",
    "PHI_BOUNDS",
    "COARSE_POINTS",
    "ZOOM_POINTS",
    "ZOOM_ROUNDS",
    "KINDS",
    "SmoothingFit",
    "fit_smoothing",
    "smoothing_forecast",
    "forecast_many",
    "ses_forecast",
    "holt_forecast",
]

LOWER_BOUND = float(np.sqrt(np.finfo(np.float64).eps))  # statsmodels' bound on alpha
PHI_BOUNDS = (0.8, 0.995)  # statsmodels' bounds on the damping factor
# Coarse grid per kind: points along (alpha, beta / alpha, phi).
COARSE_POINTS = {"ses": (65,), "holt": (33, 9), "damped": (33, 9, 6)}
ZOOM_POINTS = 5
ZOOM_ROUNDS = 20
KINDS = tuple(COARSE_POINTS)
# Relative ridge on the 2x2 normal equations of the initial states: only there to keep them
# solvable when a parameter corner makes them singular.
RIDGE = 1e-12
# Entries of the (series, points) arrays one evaluation works on at once: small enough for the
# CPU caches, large enough that numpy's per-call overhead is small beside the arithmetic.
BLOCK_ENTRIES = 1 << 15
# What each kind reports (forecast_many), in this order.
PARAMS = {"ses": ("alpha", "sigma"), "holt": ("alpha", "beta", "sigma"),
          "damped": ("alpha", "beta", "sigma", "phi")}


class SmoothingFit(NamedTuple):
    """Fitted parameters and final states, each of shape (batch,)."""

    alpha: np.ndarray
    beta: np.ndarray
    phi: np.ndarray
    level: np.ndarray  # level after the last observation
    slope: np.ndarray  # trend after the last observation (0 for SES)
    initial: np.ndarray  # (batch, 2): initial level and trend
    sse: np.ndarray
    # level, slope, initial and sse are in the standardised units of fit_smoothing's input


def box(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of (alpha, beta / alpha, phi) for ``kind``, each shape (3,)."""
    lo = np.array([LOWER_BOUND, 0.0, 1.0])
    hi = np.array([1.0 - LOWER_BOUND, 0.0, 1.0])
    if kind != "ses":
        hi[1] = 1.0
    if kind == "damped":
        lo[2], hi[2] = PHI_BOUNDS
    return lo, hi


def coarse_grid(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """The coarse grid, shape (points, 3), and its spacing along each axis, shape (3,)."""
    lo, hi = box(kind)
    counts = list(COARSE_POINTS[kind]) + [1] * (3 - len(COARSE_POINTS[kind]))
    axes = [lo[d] + (hi[d] - lo[d]) * np.linspace(0.0, 1.0, counts[d]) for d in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    spacing = np.array([(hi[d] - lo[d]) / (counts[d] - 1) if counts[d] > 1 else 0.0
                        for d in range(3)])
    return grid, spacing


def zoom_offsets(kind: str) -> np.ndarray:
    """Offsets of a zoom grid in units of its half-width, shape (points, 3)."""
    dims = len(COARSE_POINTS[kind])
    axes = [np.linspace(-1.0, 1.0, ZOOM_POINTS) if d < dims else np.zeros(1) for d in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def standardise(y: np.ndarray, mask: np.ndarray):
    """``(z, mean, scale)``: each series centred and scaled over its observed steps (a
    constant series gets scale 1), zero on the padding; mean and scale of shape (batch, 1).
    The smoothing parameters that minimise the errors do not change under this."""
    n = _total(mask)
    mean = _total(y * mask) / n
    scale = np.sqrt(_total(((y - mean) * mask) ** 2) / n)
    scale = np.where(scale > 0, scale, 1.0)
    return (y - mean) / scale * mask, mean, scale


def _total(v: np.ndarray) -> np.ndarray:
    """Row sums added in time order, shape (batch, 1): the zeros of the padding then add
    exactly nothing, so a series' fit does not depend on what it is batched with."""
    return np.cumsum(v, axis=1)[:, -1:]


def profile_sse(z, mask, alpha, beta, phi, trend: bool):
    """Sum of squared one-step errors with the initial states at their least-squares values.

    Parameters
    ----------
    z, mask : ndarray of shape (batch, timesteps)
    alpha, beta, phi : ndarray of shape (batch, points)
    trend : bool
        Holt (level and trend) or SES (level only; ``beta`` and ``phi`` unused).

    Returns
    -------
    sse, level, slope, l0, b0 : ndarray of shape (batch, points)
        The error sum, the states after the last observation and the initial states.
    """
    if not trend:
        return _profile_level(z, mask, alpha)
    zero = np.zeros_like(alpha)
    one = np.ones_like(alpha)
    padded = not np.all(mask == 1.0)
    # States as c + D @ (l0, b0): c from the data, D the dependence on the initial states.
    states = (zero, zero, one, zero, zero, one)
    sums = (zero,) * 6
    keep = 1.0 - alpha
    damp = (1.0 - beta) * phi
    for t in range(z.shape[1]):
        m = mask[:, t : t + 1]
        new, sums = holt_step(z[:, t : t + 1], m, states, sums, alpha, beta, phi, keep, damp)
        if padded:  # the padding before a series starts leaves the states as they are
            new = tuple(np.where(m > 0, n, s) for n, s in zip(new, states, strict=True))
        states = new
    cl, cb, d00, d01, d10, d11 = states
    a00, a01, a11, q0, q1, rr = sums
    ridge = RIDGE * (a00 + a11)
    a00 = a00 + ridge
    a11 = a11 + ridge
    det = a00 * a11 - a01 * a01
    l0 = (a11 * q0 - a01 * q1) / det
    b0 = (a00 * q1 - a01 * q0) / det
    sse = rr - 2.0 * (l0 * q0 + b0 * q1) + (l0 * l0 * a00 + 2.0 * l0 * b0 * a01
                                            + b0 * b0 * a11)
    sse = np.where(np.isfinite(sse), sse, np.inf)
    return sse, cl + d00 * l0 + d01 * b0, cb + d10 * l0 + d11 * b0, l0, b0


def holt_step(yt, m, states, sums, alpha, beta, phi, keep, damp):
    """One step of the Holt recursion with zero initial states, and of its error sums.

    The states are kept as ``c + D @ (l0, b0)``: ``c`` from the data, ``D`` the dependence on
    the initial states, so that the least-squares ``(l0, b0)`` can be solved for after the
    loop. Only ``+``, ``-`` and ``*`` are used, so the same function steps NumPy arrays here
    and TensorFlow tensors in the SavedModel's search
    (:mod:`forecastkit.export._smoothing_graph`), operation for operation.

    Parameters
    ----------
    yt, m : arrays of shape (batch, 1) or broadcastable to the states
        The step's standardised value and its mask (1 observed, 0 padding).
    states : tuple of 6 arrays of shape (batch, points)
        ``(cl, cb, d00, d01, d10, d11)``: level and slope with zero initial states, and the
        2 x 2 dependence on the initial ones.
    sums : tuple of 6 arrays of shape (batch, points)
        ``(a00, a01, a11, q0, q1, rr)``: the normal equations' sums and the squared errors.
    alpha, beta, phi, keep, damp : arrays of shape (batch, points)
        Parameters, ``keep = 1 - alpha`` and ``damp = (1 - beta) * phi``.

    Returns
    -------
    states, sums : tuples as given, one step on (masked steps not yet held: the caller's
        ``where``, NumPy's or TensorFlow's, keeps the states through padding)
    """
    cl, cb, d00, d01, d10, d11 = states
    a00, a01, a11, q0, q1, rr = sums
    u = cl + phi * cb  # one-step forecast with zero initial states
    v0 = d00 + phi * d10
    v1 = d01 + phi * d11
    r = (yt - u) * m
    v0m = v0 * m
    v1m = v1 * m
    a00 = a00 + v0m * v0
    a01 = a01 + v0m * v1
    a11 = a11 + v1m * v1
    q0 = q0 + v0m * r
    q1 = q1 + v1m * r
    rr = rr + r * r
    nl = alpha * yt + keep * u
    n00 = keep * v0
    n01 = keep * v1
    nb = beta * (nl - cl) + damp * cb
    n10 = beta * (n00 - d00) + damp * d10
    n11 = beta * (n01 - d01) + damp * d11
    return (nl, nb, n00, n01, n10, n11), (a00, a01, a11, q0, q1, rr)


def _profile_level(z, mask, alpha):
    """:func:`profile_sse` of SES: the level alone."""
    zero = np.zeros_like(alpha)
    padded = not np.all(mask == 1.0)
    cl, d00 = zero, np.ones_like(alpha)
    a00 = q0 = rr = zero
    keep = 1.0 - alpha
    for t in range(z.shape[1]):
        yt = z[:, t : t + 1]
        m = mask[:, t : t + 1]
        r = (yt - cl) * m
        v0m = d00 * m
        a00 = a00 + v0m * d00
        q0 = q0 + v0m * r
        rr = rr + r * r
        nl = alpha * yt + keep * cl
        n00 = keep * d00
        if padded:
            on = m > 0
            nl, n00 = np.where(on, nl, cl), np.where(on, n00, d00)
        cl, d00 = nl, n00
    l0 = q0 / a00
    sse = rr - 2.0 * (l0 * q0) + l0 * l0 * a00
    sse = np.where(np.isfinite(sse), sse, np.inf)
    return sse, cl + d00 * l0, zero, l0, zero


def fit_smoothing(z, mask, kind: str) -> SmoothingFit:
    """Search the smoothing parameters of ``kind`` ("ses", "holt" or "damped") for each
    standardised series of ``z`` (see :func:`standardise`)."""
    lo, hi = box(kind)
    grid, width = coarse_grid(kind)
    offsets = zoom_offsets(kind)
    # Series of similar lengths side by side, so each block of them starts late (_profile).
    order = np.argsort(np.argmax(mask > 0, axis=1), kind="stable")
    z, mask = z[order], mask[order]
    rows = np.arange(z.shape[0])
    points = np.broadcast_to(grid, (z.shape[0],) + grid.shape)

    def evaluate(points):
        """The best of ``points`` (batch, n, 3) per series: sse, point, level, slope, initial
        states."""
        alpha, ratio, phi = points[..., 0], points[..., 1], points[..., 2]
        sse, level, slope, l0, b0 = _profile(z, mask, alpha, alpha * ratio, phi, kind != "ses")
        i = np.argmin(sse, axis=1)
        return (sse[rows, i], points[rows, i], level[rows, i], slope[rows, i],
                np.stack([l0[rows, i], b0[rows, i]], axis=1))

    best = evaluate(points)
    for _ in range(ZOOM_ROUNDS):
        points = np.clip(best[1][:, None, :] + offsets[None] * width, lo, hi)
        width = width / 2.0
        found = evaluate(points)
        better = found[0] < best[0]
        best = tuple(np.where(better if new.ndim == 1 else better[:, None], new, old)
                     for new, old in zip(found, best, strict=True))
    back = np.argsort(order)
    sse, point, level, slope, initial = (part[back] for part in best)
    return SmoothingFit(point[:, 0], point[:, 0] * point[:, 1], point[:, 2], level, slope,
                        initial, sse)


def _profile(z, mask, alpha, beta, phi, trend: bool):
    """:func:`profile_sse` over blocks of about ``BLOCK_ENTRIES`` (series, point) pairs, each
    block's time loop starting at its earliest observation (the padding before it changes
    nothing, exactly: see :func:`profile_sse`)."""
    size = max(1, BLOCK_ENTRIES // alpha.shape[1])
    parts = []
    for a in range(0, z.shape[0], size):
        b = a + size
        start = int(np.argmax(mask[a:b].any(axis=0)))
        parts.append(profile_sse(z[a:b, start:], mask[a:b, start:], alpha[a:b], beta[a:b],
                                 phi[a:b], trend))
    if len(parts) == 1:
        return parts[0]
    return tuple(np.concatenate(part) for part in zip(*parts, strict=True))


def trend_multipliers(phi: np.ndarray, horizon: int) -> np.ndarray:
    """``phi + phi^2 + ... + phi^h`` for h = 1..horizon, shape (batch, horizon)."""
    return np.cumsum(np.cumprod(np.repeat(phi[:, None], horizon, axis=1), axis=1), axis=1)


def smoothing_forecast(y, mask, kind: str, horizon: int) -> tuple[np.ndarray, SmoothingFit]:
    """Fit ``kind`` to each series of ``y`` and forecast ``horizon`` steps.

    Returns
    -------
    forecast : ndarray of shape (batch, horizon)
        In the units of ``y``.
    fit : SmoothingFit
        Parameters, and states in standardised units.
    """
    y = np.asarray(y, dtype=np.float64)
    mask = np.asarray(mask, dtype=np.float64)
    z, mean, scale = standardise(y, mask)
    fit = fit_smoothing(z, mask, kind)
    if kind == "ses":
        path = np.repeat(fit.level[:, None], horizon, axis=1)
    else:
        path = fit.level[:, None] + fit.slope[:, None] * trend_multipliers(fit.phi, horizon)
    return mean + scale * path, fit


def forecast_many(xs, kind: str, horizon: int) -> list[tuple[np.ndarray, dict]]:
    """Fit ``kind`` to each series of ``xs`` in one batch and forecast ``horizon`` steps.

    Parameters
    ----------
    xs : sequence of ndarray of shape (timesteps_i,)
        The series, of any lengths (left-padded to the longest here).
    kind : {"ses", "holt", "damped"}
    horizon : int

    Returns
    -------
    list of (ndarray of shape (horizon,), dict)
        Per series, its forecast and parameters (``PARAMS[kind]``): ``alpha``, ``beta`` (the
        error-correction form's ``beta*``, as statsmodels' ``smoothing_trend``), ``phi`` and
        ``sigma`` (root mean squared in-sample one-step error). Each equals, bit for bit, what
        the series fitted alone gets.
    """
    if len(xs) == 0:
        return []
    width = max(len(x) for x in xs)
    y = np.zeros((len(xs), width))
    mask = np.zeros((len(xs), width))
    for i, x in enumerate(xs):
        y[i, width - len(x):] = x
        mask[i, width - len(x):] = 1.0
    forecast, fit = smoothing_forecast(y, mask, kind, horizon)
    scale = standardise(y, mask)[2][:, 0]
    out = []
    for i, x in enumerate(xs):
        params = {"alpha": float(fit.alpha[i]), "beta": float(fit.beta[i]),
                  "sigma": float(scale[i] * np.sqrt(max(fit.sse[i], 0.0) / len(x))),
                  "phi": float(fit.phi[i])}
        out.append((forecast[i], {k: params[k] for k in PARAMS[kind]}))
    return out


def ses_forecast(x: np.ndarray, horizon: int) -> tuple[np.ndarray, dict]:
    """Simple exponential smoothing of one series: forecast of shape (horizon,) and
    ``{"alpha", "sigma"}`` (a drop-in for :func:`forecastkit.forecasters._classical.
    ses_forecast`)."""
    return forecast_many([np.asarray(x, dtype=np.float64)], "ses", horizon)[0]


def holt_forecast(x: np.ndarray, horizon: int, damped: bool) -> tuple[np.ndarray, dict]:
    """Holt's linear trend of one series, optionally damped: forecast of shape (horizon,) and
    ``{"alpha", "beta", "sigma"[, "phi"]}`` (a drop-in for ``_classical.holt_forecast``)."""
    kind = "damped" if damped else "holt"
    return forecast_many([np.asarray(x, dtype=np.float64)], kind, horizon)[0]
