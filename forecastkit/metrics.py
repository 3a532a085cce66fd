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
    "coverage",
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


def coverage(y, lower, upper) -> float:
    """Share of actuals inside their prediction interval ``[lower, upper]`` (0..1)."""
    y, lower = _pair(y, lower)
    _, upper = _pair(y, upper)
    return float(np.mean((y >= lower) & (y <= upper)))


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
