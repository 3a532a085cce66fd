"""Metrics of every forecast in a long frame, and their summaries per model (OWA from the
set-level means, as M4 computes it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pandas as pd

from forecastkit.exceptions import InvalidInputError
from forecastkit.metrics.point import mae, mape, mase, owa, rmse, rmsse, smape

__all__ = ["check_finite_forecasts", "METRICS", "score_forecasts", "evaluate", "summarize",
           "summarize_by"]

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
