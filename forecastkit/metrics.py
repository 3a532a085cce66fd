"""Forecast accuracy metrics, as the M4 competition defines them.

Every metric takes one series: ``y`` and ``y_pred`` of shape (horizon,), and for the scaled
metrics the training series ``y_train`` of shape (n,). :func:`score_forecasts` applies them to
every forecast of a long frame (:func:`evaluate`: a ``predict`` frame against the actuals) and
:func:`summarize` averages over series; OWA is computed once from the set-level means, as M4
does. This module sits below the forecasters: it needs only NumPy and pandas.

Conventions (documented where M4 is silent):

* sMAPE: a step where both ``y`` and ``y_pred`` are 0 counts as 0 error (0/0 otherwise); a
  NaN in either gives NaN, never 0.
* MASE/RMSSE: the scale is the in-sample mean (squared) seasonal difference
  ``|x_t - x_{t-m}|``. A training series of at most ``m`` points has no seasonal difference,
  so the non-seasonal difference (m = 1) is used instead. A zero scale (a constant training
  series) gives ``inf`` (``nan`` when the forecast is also perfect), as the M4 R code gives.
* MAPE: a zero actual gives ``inf``.
* Probabilistic scores (``msis``, ``pinball``, ``crps_*``) and ``coverage``: a NaN anywhere
  in their inputs gives NaN (a missing bound is neither a hit nor a miss); the scaled ones
  (``msis``, ``pinball`` with ``y_train``) follow MASE's scale and its zero-scale rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pandas as pd

from forecastkit.exceptions import InvalidInputError

__all__ = [
    "mae",
    "rmse",
    "mape",
    "smape",
    "mase",
    "mase_scale",
    "rmsse",
    "owa",
    "seasonal_scales",
    "coverage",
    "msis",
    "pinball",
    "crps",
    "crps_quantiles",
    "crps_samples",
    "check_finite_forecasts",
    "METRICS",
    "score_forecasts",
    "evaluate",
    "summarize",
    "summarize_by",
]


def _pair(y, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y.shape != y_pred.shape:
        raise InvalidInputError(f"y has {y.shape[0]} values but y_pred has {y_pred.shape[0]}")
    if y.size == 0:
        raise InvalidInputError("y is empty")
    return y, y_pred


def mae(y, y_pred) -> float:
    """Mean absolute error, ``mean |y - y_pred|``."""
    y, y_pred = _pair(y, y_pred)
    return float(np.mean(np.abs(y - y_pred)))


def rmse(y, y_pred) -> float:
    """Root mean squared error, ``sqrt(mean (y - y_pred)^2)``."""
    y, y_pred = _pair(y, y_pred)
    return float(np.sqrt(np.mean((y - y_pred) ** 2)))


def mape(y, y_pred) -> float:
    """Mean absolute percentage error in percent, ``100 mean |y - y_pred| / |y|``."""
    y, y_pred = _pair(y, y_pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(100.0 * np.mean(np.abs(y - y_pred) / np.abs(y)))


def smape(y, y_pred) -> float:
    """Symmetric MAPE in percent (M4): ``mean 200 |y - y_pred| / (|y| + |y_pred|)``.

    A step where both values are exactly 0 counts as 0 error; a NaN in either input makes the
    result NaN (it is not a 0/0 step, and counting it as a perfect forecast would reward a
    model that failed).
    """
    y, y_pred = _pair(y, y_pred)
    num = 200.0 * np.abs(y - y_pred)
    den = np.abs(y) + np.abs(y_pred)
    # `where=den != 0` lets NaN through (NaN != 0 is True); only an exact 0/0 is set to 0.
    terms = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    return float(np.mean(terms))


def _seasonal_diff(y_train, season_length: int) -> np.ndarray:
    x = np.asarray(y_train, dtype=np.float64).ravel()
    if x.size < 2:
        raise InvalidInputError(
            f"the training series has {x.size} value(s); a scaled error needs at least 2"
        )
    if isinstance(season_length, bool) or int(season_length) < 1:
        raise InvalidInputError(f"season_length must be a positive integer, got {season_length!r}")
    m = int(season_length)
    if x.size <= m:
        m = 1  # no full season in-sample: scale by the one-step naive error instead
    return x[m:] - x[:-m]


def _scaled(num: float, scale: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(num) / np.float64(scale))


def mase(y, y_pred, y_train, season_length: int = 1) -> float:
    """Mean absolute scaled error (M4).

    Parameters
    ----------
    y, y_pred : array-like of shape (horizon,)
    y_train : array-like of shape (n,)
        The training series the forecast continues.
    season_length : int
        ``m``: the scale is ``mean |x_t - x_{t-m}|`` over the training series (m = 1 when the
        series has at most ``m`` points).
    """
    y, y_pred = _pair(y, y_pred)
    return _scaled(np.mean(np.abs(y - y_pred)), mase_scale(y_train, season_length))


def mase_scale(y_train, season_length: int = 1) -> float:
    """MASE's denominator: ``mean |x_t - x_{t-m}|`` over the training series ``y_train``
    (shape (n,), n >= 2; m = 1 when the series has at most ``m`` points). 0 for a series
    whose seasonal differences are all 0, where every scaled error is undefined."""
    return float(np.mean(np.abs(_seasonal_diff(y_train, season_length))))


def rmsse(y, y_pred, y_train, season_length: int = 1) -> float:
    """Root mean squared scaled error (M5).

    ``sqrt(mean (y - y_pred)^2 / mean (x_t - x_{t-m})^2)``; arguments as :func:`mase`.
    """
    y, y_pred = _pair(y, y_pred)
    scale = np.mean(_seasonal_diff(y_train, season_length) ** 2)
    return float(np.sqrt(_scaled(np.mean((y - y_pred) ** 2), scale)))


def owa(smape: float, mase: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average (M4): ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.

    Pass set-level means (M4 computes OWA once per set, not per series).
    """
    return float(0.5 * (smape / smape_naive2 + mase / mase_naive2))


def seasonal_scales(values, indptr, season_length: int = 1) -> np.ndarray:
    """MASE's scale of every series of a panel, vectorised.

    Parameters
    ----------
    values : array-like of shape (n_obs,)
        The series one after another.
    indptr : array-like of shape (n_series + 1,)
        Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``.
    season_length : int

    Returns
    -------
    ndarray of shape (n_series,)
        :func:`mase_scale` of each series: ``mean |x_t - x_{t-m}|`` (m = 1 for a series of at
        most ``m`` points); NaN for a series of fewer than 2 points or holding NaN.
    """
    _check_season_length(season_length)
    x = np.asarray(values, dtype=np.float64).ravel()
    indptr = np.asarray(indptr, dtype=np.int64).ravel()
    lengths = np.diff(indptr)
    n = len(lengths)
    lag_of = np.where(lengths > int(season_length), int(season_length), 1)
    series_of = np.repeat(np.arange(n), lengths)
    lag = lag_of[series_of]
    idx = np.flatnonzero(np.arange(x.size) - indptr[:-1][series_of] >= lag)
    sums = np.bincount(series_of[idx], weights=np.abs(x[idx] - x[idx - lag[idx]]), minlength=n)
    counts = lengths - lag_of
    out = np.full(n, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def _check_season_length(season_length) -> None:
    if (isinstance(season_length, bool) or not isinstance(season_length, int | np.integer)
            or season_length < 1):
        raise InvalidInputError(f"season_length must be a positive integer, got {season_length!r}")


def coverage(y, lower, upper) -> float:
    """Share of actuals inside their prediction interval ``[lower, upper]`` (0..1).

    Parameters
    ----------
    y, lower, upper : array-like of shape (horizon,)

    Returns
    -------
    float
        NaN when any input holds NaN: a step without an actual or a bound is neither inside
        nor outside (counting it as a miss would blame the interval for missing data).
    """
    y, lower = _pair(y, lower)
    _, upper = _pair(y, upper)
    if np.isnan(y).any() or np.isnan(lower).any() or np.isnan(upper).any():
        return float("nan")
    return float(np.mean((y >= lower) & (y <= upper)))


def _check_fraction(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0 < v < 1:
        raise InvalidInputError(f"{name} must be in (0, 1), got {value!r}")
    return v


def msis(y, lower, upper, y_train, season_length: int = 1, alpha: float = 0.05) -> float:
    """Mean scaled interval score (M4) of a central ``1 - alpha`` prediction interval.

    ``mean over steps of (U - L) + 2/alpha (L - y) 1{y < L} + 2/alpha (y - U) 1{y > U}``,
    divided by the in-sample mean absolute seasonal difference of ``y_train`` (MASE's scale).
    Lower is better: a wide interval pays its width, a narrow one ``2/alpha`` times each miss.

    Parameters
    ----------
    y, lower, upper : array-like of shape (horizon,)
        Actuals and the interval's bounds.
    y_train : array-like of shape (n,)
        The training series the forecast continues (n >= 2).
    season_length : int
        ``m`` of the scale (m = 1 when the series has at most ``m`` points).
    alpha : float
        The interval's miscoverage: 0.05 for the 95% intervals M4 scored.

    Returns
    -------
    float
        ``inf`` for a constant training series (``nan`` when the score is also 0).

    Raises
    ------
    InvalidInputError
        Lengths differ, ``alpha`` outside (0, 1), or a lower bound above its upper bound.
    """
    y, lower = _pair(y, lower)
    _, upper = _pair(y, upper)
    alpha = _check_fraction(alpha, "alpha")
    crossed = np.flatnonzero(lower > upper)
    if len(crossed):
        i = crossed[0]
        raise InvalidInputError(
            f"the lower bound is above the upper bound at step {i} ({lower[i]} > {upper[i]}); "
            f"pass the bounds in the order (lower, upper)"
        )
    # np.maximum passes NaN through, where a comparison would treat it as "not a miss".
    penalty = np.maximum(lower - y, 0.0) + np.maximum(y - upper, 0.0)
    score = np.mean(upper - lower + (2.0 / alpha) * penalty)
    return _scaled(score, mase_scale(y_train, season_length))


def _quantile_inputs(y, q, levels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``y`` (h,), ``q`` (h, k) and ``levels`` (k,), checked."""
    levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0:
        raise InvalidInputError("levels must be a non-empty sequence of quantile levels")
    bad = levels[~((levels > 0) & (levels < 1))]
    if bad.size:
        raise InvalidInputError(f"quantile level {bad[0]!r} is outside (0, 1)")
    y = np.asarray(y, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 1 and levels.size == 1:
        q = q[:, None]
    if q.shape != (y.size, levels.size):
        raise InvalidInputError(
            f"q must have shape (horizon, n_levels) = ({y.size}, {levels.size}), one column "
            f"per level; got {q.shape}"
        )
    if y.size == 0:
        raise InvalidInputError("y is empty")
    return y, q, levels


def pinball(y, q, levels, y_train=None, season_length: int = 1) -> float:
    """Mean quantile (pinball) loss over steps and levels.

    The loss of quantile forecast ``q`` at level ``tau`` is ``tau (y - q)`` when ``y >= q``
    and ``(1 - tau)(q - y)`` otherwise.

    Parameters
    ----------
    y : array-like of shape (horizon,)
    q : array-like of shape (horizon, n_levels)
        Quantile forecasts, one column per level (shape (horizon,) with a single level).
    levels : array-like of shape (n_levels,)
        Levels in (0, 1).
    y_train : array-like of shape (n,), optional
        With it, the loss is divided by the in-sample seasonal-naive MAE of the training
        series (MASE's scale), so series of different sizes average.
    season_length : int
        ``m`` of that scale.

    Returns
    -------
    float
    """
    y, q, levels = _quantile_inputs(y, q, levels)
    diff = y[:, None] - q
    loss = np.mean(np.maximum(levels * diff, (levels - 1.0) * diff))
    if y_train is None:
        return float(loss)
    return _scaled(loss, mase_scale(y_train, season_length))


def crps_quantiles(y, q, levels) -> float:
    """CRPS approximated from quantile forecasts: twice the mean pinball loss over levels.

    The CRPS is ``2 * integral over tau in (0, 1) of the pinball loss at tau``; the mean over
    an evenly spaced grid of levels is that integral by the midpoint rule (levels
    ``(j - 0.5) / K``, j = 1..K, converge to the CRPS as K grows). A grid that leaves out
    the tails (e.g. 0.05..0.95) measures the central part of the distribution only.

    Parameters
    ----------
    y : array-like of shape (horizon,)
    q : array-like of shape (horizon, n_levels)
    levels : array-like of shape (n_levels,)

    Returns
    -------
    float
        Mean over steps.
    """
    return 2.0 * pinball(y, q, levels)


def crps_samples(y, samples) -> float:
    """CRPS of the empirical distribution of sample paths, ``E|X - y| - E|X - X'| / 2``.

    Exact for the sample (every pair of draws counted, the draw with itself included), which
    is the CRPS of the step function through the samples, computed from sorted samples in
    ``O(n log n)`` per step.

    Parameters
    ----------
    y : array-like of shape (horizon,)
    samples : array-like of shape (n_samples, horizon)
        Draws of the forecast distribution of each step (e.g. ``sample_paths(...)[i].T``
        transposed: one row per path).

    Returns
    -------
    float
        Mean over steps.
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1 and y.size == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != y.size or x.shape[0] == 0 or y.size == 0:
        raise InvalidInputError(
            f"samples must have shape (n_samples, horizon) with horizon = {y.size} and at "
            f"least one sample; got {x.shape}"
        )
    n = x.shape[0]
    x = np.sort(x, axis=0)
    spread_to_y = np.mean(np.abs(x - y), axis=0)
    # sum over pairs |x_i - x_j| = 2 sum_i (2i - n - 1) x_(i) for sorted x (i = 1..n)
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    pair_mean = 2.0 * (weights @ x) / n**2
    return float(np.mean(spread_to_y - 0.5 * pair_mean))


def crps(y, forecast, levels=None) -> float:
    """CRPS from samples (``levels=None``) or from quantiles at ``levels``.

    ``crps(y, samples)`` is :func:`crps_samples`; ``crps(y, q, levels)`` is
    :func:`crps_quantiles`.
    """
    if levels is None:
        return crps_samples(y, forecast)
    return crps_quantiles(y, forecast, levels)


# name -> (function, needs the training series)
METRICS: dict[str, tuple[Callable[..., float], bool]] = {
    "mae": (mae, False),
    "rmse": (rmse, False),
    "mape": (mape, False),
    "smape": (smape, False),
    "mase": (mase, True),
    "rmsse": (rmsse, True),
}


def check_finite_forecasts(frame: pd.DataFrame, pred_col: str = "y_pred",
                           id_col: str = "unique_id", time_col: str = "ds") -> None:
    """Raise if a forecast is NaN or infinite, naming the first such series and step.

    The set-level means skip NaN, so a series with a missing forecast would otherwise drop
    out of a model's score silently, flattering the model that failed on it.

    Raises
    ------
    InvalidInputError
    """
    values = frame[pred_col].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = frame.iloc[int(np.flatnonzero(bad)[0])]
        model = f"model {row['model']!r}, " if "model" in frame else ""
        raise InvalidInputError(
            f"{model}series {row[id_col]!r} has a non-finite forecast ({row[pred_col]}) at "
            f"{row[time_col]} ({int(bad.sum())} such values in all); a score would skip it"
        )


def score_forecasts(
    frame: pd.DataFrame,
    history: Callable[[tuple, int], np.ndarray] | None,
    season_length: int = 1,
    metrics: Sequence[str] = tuple(METRICS),
    by: Sequence[str] = ("unique_id",),
    id_col: str = "unique_id",
    time_col: str = "ds",
    pred_col: str = "y_pred",
    target_col: str = "y",
) -> pd.DataFrame:
    """Metrics of every forecast in a long frame: one per block of rows that share ``by``.

    :func:`evaluate` and :func:`forecastkit.evaluation.backtest_metrics` are this function
    applied to a forecast frame and to a backtest's frame.

    Parameters
    ----------
    frame : pd.DataFrame
        Columns ``by``, ``id_col``, ``time_col``, ``target_col`` (actuals) and ``pred_col``
        (forecasts); each block's rows in time order.
    history : callable or None
        ``history(key, row)``: the training series, shape (n,), that the block ``key`` (its
        tuple of ``by`` values) continues, ``row`` being the position of its first row. Needed
        by the scaled metrics (``mase``, ``rmsse``).
    season_length : int
    metrics : sequence of str
        Names from :data:`METRICS`.
    by : sequence of str
        Columns that tell one forecast from another (``unique_id``; ``model, window,
        unique_id`` for a backtest).

    Returns
    -------
    pd.DataFrame
        Columns ``by`` then one column per metric, one row per block, in the frame's order.

    Raises
    ------
    InvalidInputError
        An unknown metric, a non-finite forecast, a forecast without an actual, or a scaled
        metric without ``history``.
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise InvalidInputError(f"unknown metric(s) {unknown}; choose from {list(METRICS)}")
    check_finite_forecasts(frame, pred_col, id_col, time_col)
    y_true = frame[target_col].to_numpy(dtype=np.float64)
    missing = np.isnan(y_true)
    if missing.any():
        first = frame.iloc[int(np.flatnonzero(missing)[0])]
        raise InvalidInputError(
            f"series {first[id_col]!r} has a forecast at {first[time_col]} but no actual value "
            f"there"
        )
    needs_train = any(METRICS[m][1] for m in metrics)
    if needs_train and history is None:
        raise InvalidInputError(f"metrics {list(metrics)} need the training series (train=...)")
    y_pred = frame[pred_col].to_numpy(dtype=np.float64)
    by = list(by)
    rows = []
    for key, idx in frame.groupby(by, sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        y, p = y_true[idx], y_pred[idx]
        row = dict(zip(by, key, strict=True))
        train = history(key, int(idx[0])) if needs_train else None  # type: ignore[misc]
        for name in metrics:
            fn, scaled = METRICS[name]
            row[name] = fn(y, p, train, season_length) if scaled else fn(y, p)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, *metrics])


def evaluate(
    forecasts: pd.DataFrame,
    actuals: pd.DataFrame,
    train: pd.DataFrame | None = None,
    season_length: int = 1,
    metrics: Sequence[str] = ("smape", "mase"),
    id_col: str = "unique_id",
    time_col: str = "ds",
    pred_col: str = "y_pred",
    target_col: str = "y",
) -> pd.DataFrame:
    """Metrics of every series of long frames.

    Parameters
    ----------
    forecasts : pd.DataFrame
        Long frame ``id_col, time_col, pred_col`` (what ``predict`` returns).
    actuals : pd.DataFrame
        Long frame ``id_col, time_col, target_col`` with the actual values of the same steps.
    train : pd.DataFrame, optional
        Long training frame ``id_col, time_col, target_col``; needed by ``mase`` and ``rmsse``.
    season_length : int
    metrics : sequence of str
        Names from :data:`METRICS`.

    Returns
    -------
    pd.DataFrame
        One row per series (indexed by ``id_col``), one column per metric.

    Raises
    ------
    InvalidInputError
        Unknown metric, a forecast step without an actual, a non-finite forecast, or a series
        missing from ``train``.
    """
    merged = forecasts[[id_col, time_col, pred_col]].merge(
        actuals[[id_col, time_col, target_col]], on=[id_col, time_col], how="left"
    )
    merged = merged.sort_values([id_col, time_col], kind="stable")
    history = None
    if train is not None:
        ordered = train.sort_values([id_col, time_col], kind="stable")
        series = {k: g[target_col].to_numpy() for k, g in ordered.groupby(id_col, sort=False)}

        def history(key: tuple, row: int) -> np.ndarray:
            if key[0] not in series:
                raise InvalidInputError(f"series {key[0]!r} is not in the training frame")
            return series[key[0]]

    scores = score_forecasts(merged, history, season_length, metrics, by=[id_col],
                             id_col=id_col, time_col=time_col, pred_col=pred_col,
                             target_col=target_col)
    return scores.set_index(id_col)


def summarize(per_series: pd.DataFrame, naive2: pd.DataFrame | None = None) -> pd.Series:
    """Means over series, and OWA against Naive2 when its per-series metrics are given.

    Parameters
    ----------
    per_series : pd.DataFrame
        Output of :func:`evaluate`.
    naive2 : pd.DataFrame, optional
        Naive2's output of :func:`evaluate` on the same series, with ``smape`` and ``mase``.

    Returns
    -------
    pd.Series
        Mean of each metric (non-finite per-series values are kept, so an ``inf`` MASE shows),
        plus ``owa`` when ``naive2`` is given.
    """
    # One model and its Naive2 are summarised as two groups of one table.
    groups = {"model": per_series}
    if naive2 is not None:
        groups["naive2"] = naive2.loc[per_series.index]
    both = pd.concat(groups, names=["_group", None]).reset_index(level=0)
    row = summarize_by(both, "_group", naive2="naive2" if naive2 is not None else None)
    means = cast(pd.Series, row.loc["model"]).rename(None)
    return means if naive2 is not None else means.drop("owa")


def summarize_by(
    per_series: pd.DataFrame, by: str, naive2: str | None = "naive2"
) -> pd.DataFrame:
    """Means over series of each group (e.g. each model), and OWA against the Naive2 group
    from those means, as M4 computes it.

    Parameters
    ----------
    per_series : pd.DataFrame
        Column ``by`` and metric columns (names of :data:`METRICS`), one row per series (and
        window) of each group, e.g. the output of :func:`score_forecasts`.
    by : str
        The column that names the groups.
    naive2 : str or None
        The group that is Naive2; OWA is NaN when no group has that name.

    Returns
    -------
    pd.DataFrame
        One row per group (in order of appearance), the means of the metric columns and
        ``owa``.

    Raises
    ------
    InvalidInputError
        A Naive2 group without ``smape`` and ``mase`` columns.
    """
    cols = [c for c in METRICS if c in per_series]
    means = per_series.groupby(by, sort=False)[cols].mean()
    if naive2 is None or naive2 not in means.index:
        means["owa"] = np.nan
        return means
    if "smape" not in means or "mase" not in means:
        raise InvalidInputError("OWA needs 'smape' and 'mase' columns")
    ref = means.loc[[naive2], ["smape", "mase"]].to_numpy(dtype=np.float64)[0]
    means["owa"] = [owa(s, m, float(ref[0]), float(ref[1]))
                    for s, m in zip(means["smape"], means["mase"], strict=True)]
    return means
