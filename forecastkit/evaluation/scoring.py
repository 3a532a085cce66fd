"""Scores of backtest forecasts: point accuracy and, when the forecasts carry quantiles,
interval coverage, MSIS, pinball loss, CRPS and calibration.

A backtest or compare frame carries quantile forecasts in columns ``q<level>`` (``q0.025``,
``q0.5``, ...) beside ``y_pred``. The point metrics score ``y_pred`` whatever else is there;
the probabilistic ones score the quantiles:

* ``coverage_95``, ``msis_95`` from the levels 0.025 and 0.975, when both are present (the M4
  competition's 95% interval); ``coverage_80``, ``msis_80`` from 0.1 and 0.9 likewise.
* ``acd_95``/``acd_80``: the absolute coverage difference ``|coverage - nominal|``. Per series
  it is that series' own; a model's is computed from its mean coverage, as M4 computes it
  (and as OWA is computed from the mean sMAPE and MASE), not as a mean of the series' ACD.
* ``pinball``: the mean quantile loss over all levels, scaled by the in-sample seasonal-naive
  MAE as MASE is; ``crps``: the CRPS approximated from the quantiles (in the data's units).

A model without quantiles (run with ``skip_unsupported=True``) has NaN in the quantile
columns, and NaN in its probabilistic scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forecastkit.data.frames import to_panel
from forecastkit.exceptions import InvalidInputError
from forecastkit.forecasters._probabilistic import quantile_name
from forecastkit.metrics import (
    coverage,
    crps_quantiles,
    msis,
    pinball,
    score_forecasts,
    summarize_by,
)

__all__ = [
    "ForecastScorer",
    "backtest_metrics",
    "quantile_columns",
    "score_quantiles",
    "summarize_quantile_scores",
    "calibration",
    "summarize_models",
    "NAIVE2",
    "INTERVALS",
    "PROBABILISTIC_METRICS",
]

# Central intervals scored when both their levels were forecast: coverage in percent -> levels.
INTERVALS: dict[int, tuple[float, float]] = {95: (0.025, 0.975), 80: (0.1, 0.9)}

PROBABILISTIC_METRICS = ("coverage_95", "acd_95", "msis_95", "coverage_80", "acd_80", "msis_80",
                         "pinball", "crps")

KEYS = ["model", "window", "unique_id"]

NAIVE2 = "naive2"  # the name OWA is computed against


def backtest_metrics(cv: pd.DataFrame, y, season_length: int) -> pd.DataFrame:
    """Accuracy of each series in each window for each model.

    Parameters
    ----------
    cv : pd.DataFrame
        The output of :func:`~forecastkit.evaluation.backtest.backtest`.
    y : pd.Series, pd.DataFrame or Panel
        The same history the backtest ran on; the scaled metrics (MASE, RMSSE, MSIS, pinball)
        scale each window's errors by the in-sample errors of the data up to its cutoff.
    season_length : int
        Seasonal period of the seasonal-naive scale.

    Returns
    -------
    pd.DataFrame
        Columns ``model, window, unique_id, cutoff, n_windows`` (the windows that series was
        scored in, for that model), one column per metric of
        :data:`forecastkit.metrics.METRICS` (``mae, rmse, mape, smape, mase, rmsse``) computed
        on ``y_pred``, and, when ``cv`` has quantile columns, the probabilistic scores
        present among :data:`PROBABILISTIC_METRICS` (see the module's docstring).

    Raises
    ------
    InvalidInputError
        A forecast or quantile is NaN or infinite (named by model, series and step), or a
        series of the backtest is not in ``y``.
    """
    history = _histories(cv, y)
    out = score_forecasts(cv, history, season_length, by=KEYS)
    first = cv.groupby(KEYS, sort=False).head(1)
    out.insert(3, "cutoff", first["cutoff"].reset_index(drop=True))
    # Windows this series was scored in: fewer than the backtest's for a series too short for
    # the earlier windows of a ragged split.
    out.insert(4, "n_windows", out.groupby(["model", "unique_id"], sort=False)["window"]
               .transform("size").astype(np.int64))
    if quantile_columns(cv):
        prob = score_quantiles(cv, history, season_length, by=KEYS)
        out = out.merge(prob, on=KEYS, how="left", validate="one_to_one")
    return out


class ForecastScorer:
    """A scikit-learn scorer (``scoring=`` of ``GridSearchCV``, ``cross_validate``) that calls
    a forecaster's :meth:`~forecastkit.forecasters.base.BaseForecaster.score` with a metric.

    Parameters
    ----------
    metric : {"mase", "smape", "owa"}, default="mase"
    season_length : int, optional
        Passed to ``score`` (default: the forecaster's own).

    Examples
    --------
    >>> GridSearchCV(f, grid, cv=fk.data.RollingOriginCV(horizon=6),
    ...              scoring=ForecastScorer("smape"))  # doctest: +SKIP
    """

    def __init__(self, metric: str = "mase", season_length: int | None = None):
        self.metric = metric
        self.season_length = season_length

    def __call__(self, estimator, X, y=None) -> float:
        """``estimator.score(X, metric=..., season_length=...)``; ``y`` is ignored (the
        target is a column of ``X``)."""
        return float(estimator.score(X, metric=self.metric, season_length=self.season_length))

    def __repr__(self) -> str:
        return f"ForecastScorer(metric={self.metric!r}, season_length={self.season_length!r})"


def _histories(cv: pd.DataFrame, y):
    """``history(key, row)``: the series of block ``key`` up to the cutoff of ``cv``'s row."""
    panel = to_panel(y)
    position = {sid: i for i, sid in enumerate(panel.ids)}
    cutoffs = panel.from_time_values(cv["cutoff"])
    cache: dict[tuple[int, Any], np.ndarray] = {}  # one slice per series and cutoff, not model

    def history(key: tuple, row: int) -> np.ndarray:
        sid = key[-1]
        if sid not in position:
            raise InvalidInputError(f"series {sid!r} of the backtest is not in y")
        i, cut = position[sid], cutoffs[row]
        if (i, cut) not in cache:
            end = np.searchsorted(panel.series_times(i), cut, side="right")
            cache[i, cut] = panel.series(i)[:end]
        return cache[i, cut]

    return history


def quantile_columns(frame: pd.DataFrame) -> dict[float, str]:
    """Level -> column name of every quantile column ``q<level>`` of ``frame``, by level."""
    found = {}
    for col in frame.columns:
        if not (isinstance(col, str) and col.startswith("q")):
            continue
        try:
            level = float(col[1:])
        except ValueError:
            continue
        if 0 < level < 1 and quantile_name(level) == col:
            found[level] = col
    return dict(sorted(found.items()))


def score_quantiles(cv: pd.DataFrame, history, season_length: int,
                    by: list[str] | None = None) -> pd.DataFrame:
    """Probabilistic scores of every block of rows sharing ``by``.

    Parameters
    ----------
    cv : pd.DataFrame
        Columns ``by``, ``y``, ``ds`` and the quantile columns ``q<level>``.
    history : callable
        ``history(key, row)``: the training series (n,) that block ``key`` continues, ``row``
        the position of its first row (see :func:`forecastkit.metrics.score_forecasts`).
    season_length : int
    by : list of str, default ``["model", "window", "unique_id"]``

    Returns
    -------
    pd.DataFrame
        Columns ``by`` and the scores of :data:`PROBABILISTIC_METRICS` the levels allow; NaN
        for a block whose quantiles are all NaN (a model run without them).
    """
    by = KEYS if by is None else list(by)
    columns = quantile_columns(cv)
    levels = np.array(list(columns), dtype=np.float64)
    position = {v: j for j, v in enumerate(columns)}
    intervals = {c: (position[lo], position[hi]) for c, (lo, hi) in INTERVALS.items()
                 if lo in position and hi in position}
    names = [n for n in PROBABILISTIC_METRICS
             if n in ("pinball", "crps") or int(n.rsplit("_", 1)[1]) in intervals]
    q_all = cv[list(columns.values())].to_numpy(dtype=np.float64)
    y_all = cv["y"].to_numpy(dtype=np.float64)
    rows = []
    for key, idx in cv.groupby(by, sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        q, y = q_all[idx], y_all[idx]
        if np.isnan(q).all():
            rows.append(row)  # a point-only model: its scores stay NaN
            continue
        _check_finite(cv, idx, q, row)
        train = history(key, int(idx[0]))
        for c, (lo, hi) in intervals.items():
            cov = coverage(y, q[:, lo], q[:, hi])
            row[f"coverage_{c}"] = cov
            row[f"acd_{c}"] = abs(cov - c / 100)
            row[f"msis_{c}"] = msis(y, q[:, lo], q[:, hi], train, season_length,
                                    alpha=1 - c / 100)
        row["pinball"] = pinball(y, q, levels, y_train=train, season_length=season_length)
        row["crps"] = crps_quantiles(y, q, levels)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, *names])


def _check_finite(cv: pd.DataFrame, idx, q: np.ndarray, row: dict) -> None:
    bad = ~np.isfinite(q)
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        col = list(quantile_columns(cv).values())[j]
        model = f"model {row['model']!r}, " if "model" in row else ""
        raise InvalidInputError(
            f"{model}series {cv['unique_id'].iloc[idx[i]]!r} has a non-finite {col} "
            f"({q[i, j]}) at {cv['ds'].iloc[idx[i]]}; a model gives every quantile or none"
        )


def summarize_quantile_scores(per_series: pd.DataFrame, by: str = "model") -> pd.DataFrame:
    """Means of the probabilistic scores over series (and windows) of each group, with ACD
    from the mean coverage; one row per group in order of appearance (empty columns when
    ``per_series`` has no probabilistic scores)."""
    cols = [c for c in PROBABILISTIC_METRICS if c in per_series]
    means = per_series.groupby(by, sort=False)[cols].mean()
    for c in INTERVALS:
        if f"coverage_{c}" in means:
            means[f"acd_{c}"] = (means[f"coverage_{c}"] - c / 100).abs()
    return means


def calibration(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Observed share of actuals at or below each quantile forecast, per model.

    Parameters
    ----------
    forecasts : pd.DataFrame
        A backtest/compare frame with ``model``, ``y`` and quantile columns ``q<level>``.

    Returns
    -------
    pd.DataFrame
        Indexed by the nominal level (``level``), one column per model with quantiles (in
        order of appearance): the share of rows where ``y <= q<level>``. A calibrated model
        gives values close to the index.
    """
    columns = quantile_columns(forecasts)
    q_all = forecasts[list(columns.values())].to_numpy(dtype=np.float64)
    y_all = forecasts["y"].to_numpy(dtype=np.float64)
    shares = {}
    for model, idx in forecasts.groupby("model", sort=False).indices.items():
        q = q_all[idx]
        if q.size == 0 or np.isnan(q).all():
            continue
        shares[model] = (y_all[idx, None] <= q).mean(axis=0)
    return pd.DataFrame(shares, index=pd.Index(list(columns), name="level", dtype=np.float64))


def summarize_models(
    per_series: pd.DataFrame, naive2: str = NAIVE2, seconds: dict | None = None
) -> pd.DataFrame:
    """Means over series per model, OWA against ``naive2``, and ranks.

    Parameters
    ----------
    per_series : pd.DataFrame
        Output of :func:`backtest_metrics` (all windows are averaged together).
    naive2 : str
        Name of the Naive2 model in ``per_series``; without it OWA is NaN.
    seconds : dict, optional
        Model -> run time, added as a column.

    Returns
    -------
    pd.DataFrame
        Indexed by model, sorted by OWA (then sMAPE): the point metrics, then the
        probabilistic scores when ``per_series`` has them (model-level ACD from the mean
        coverage), then the ranks and ``seconds``.
    """
    means = summarize_by(per_series, "model", naive2)
    others = [c for c in means if c not in ("smape", "mase", "owa")]
    means = means[["smape", "mase", "owa", *others]]
    means = means.join(summarize_quantile_scores(per_series, "model"))
    for col in ("smape", "mase", "owa"):
        means[f"rank_{col}"] = means[col].rank(method="min").astype("Int64")
    if seconds is not None:
        means["seconds"] = [seconds.get(m, np.nan) for m in means.index]
    means.index.name = "model"
    return means.sort_values(["owa", "smape"], kind="stable")
