"""What ``BaseForecaster.score`` computes: the accuracy of a fitted forecaster on held-out time
stamps, as one number where greater is better (scikit-learn's convention for ``score``).

``score(y_future)`` forecasts the steps after the training data and compares them with
``y_future``'s values, so scikit-learn's ``GridSearchCV`` and ``cross_validate`` can tune a
forecaster with :class:`~forecastkit.data.splitters.RollingOriginCV` folds: each fold's
estimator is fitted on the fold's training rows and scored on the rows that follow them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit.data.panel import Panel
from forecastkit.exceptions import InvalidInputError
from forecastkit.forecasters._classical import naive2_forecast
from forecastkit.metrics import mase, owa, smape

__all__ = ["SCORE_METRICS", "ScoreMixin", "forecast_score", "season_length_of"]

# metric -> what ``score`` returns: minus the mean over series (OWA: minus M4's OWA, from the
# means of sMAPE and MASE against Naive2's on the same series, as the competition computes it).
SCORE_METRICS = ("mase", "smape", "owa")


class ScoreMixin:
    """scikit-learn's ``score`` for forecasters (see :func:`forecast_score`)."""

    def score(self, y, X=None, *, metric: str = "mase", season_length: int | None = None,
              static=None) -> float:
        """Minus the error of the forecasts of ``y``'s time stamps (scikit-learn's ``score``:
        greater is better), so ``GridSearchCV`` and ``cross_validate`` tune a forecaster on
        :class:`~forecastkit.data.RollingOriginCV` folds.

        Parameters
        ----------
        y : pd.DataFrame or pd.Series
            Actual values of each series' next steps after the training data (long frame
            ``unique_id, ds, y``; a Series for a forecaster fitted on one series).
        X, static : pd.DataFrame, optional
            Covariates of a model fitted with them, as in ``predict``.
        metric : {"mase", "smape", "owa"}, default="mase"
            Minus the mean over series of MASE or sMAPE, or minus M4's OWA.
        season_length : int, optional
            MASE's scale and Naive2's period; default the forecaster's (or its first
            member's), else 1. Fix it when ``season_length`` itself is searched.

        Raises
        ------
        InvalidInputError
            See :func:`forecastkit.forecasters._scoring.forecast_score`.
        """
        self._check_fitted()  # type: ignore[attr-defined]
        m = season_length_of(self) if season_length is None else season_length
        return forecast_score(self, y, metric, int(m), X=X, static=static)


def forecast_score(forecaster, y, metric: str, season_length: int, X=None, static=None
                   ) -> float:
    """Minus the forecast error of a fitted ``forecaster`` on the time stamps of ``y``.

    Parameters
    ----------
    forecaster : BaseForecaster
        Fitted; its training panel (``panel_``) is what it forecasts from and what MASE is
        scaled by.
    y : pd.DataFrame or pd.Series
        Long frame ``unique_id, ds, y`` (the column names the forecaster was fitted with) of
        the steps after each series' training data, or a Series indexed by time for a
        forecaster fitted on one series. Each series holds its next ``k`` steps (no gap; ``k``
        may differ between series), and a fitted series may be absent (it is not scored).
    metric : {"mase", "smape", "owa"}
    season_length : int
        Seasonal period of MASE's scale and of Naive2's decomposition.
    X, static : pd.DataFrame, optional
        Covariates for the forecasts (a forecaster fitted with them).

    Returns
    -------
    float
        ``-mean(metric)`` over the series in ``y`` (``-OWA`` for ``"owa"``).

    Raises
    ------
    InvalidInputError
        An unknown metric; ``y`` empty, without the columns, with a non-finite value, with a
        series the forecaster was not fitted on, or with a time stamp that is not one of the
        steps following that series' training data (both named).
    """
    if metric not in SCORE_METRICS:
        raise InvalidInputError(f"metric must be one of {SCORE_METRICS}, got {metric!r}")
    train: Panel = forecaster.panel_
    ids, times, actual = _future_rows(train, y)
    position = {sid: i for i, sid in enumerate(train.ids)}
    unknown = [sid for sid in pd.unique(ids) if sid not in position]
    if unknown:
        raise InvalidInputError(
            f"series {unknown[0]!r} of y was not in the data the forecaster was fitted on"
        )
    series = np.array([position[sid] for sid in ids], dtype=np.int64)
    counts = np.bincount(series, minlength=train.n_series)
    horizon = int(counts.max())
    grid = train.future_times(horizon)  # (n_series, horizon) in the panel's representation
    match = grid[series] == times[:, None]  # (n_rows, horizon)
    found = match.any(axis=1)
    if not found.all():
        row = int(np.flatnonzero(~found)[0])
        raise InvalidInputError(
            f"series {ids[row]!r}: time stamp {train.to_time_index(times[row:row + 1])[0]} of "
            f"y is not one of the {horizon} steps after its training data (a gap, or a stamp "
            f"inside the training period)"
        )
    step = match.argmax(axis=1)
    # A series' rows are its next k steps, whatever the other series hold: no gap.
    beyond = np.flatnonzero(step >= counts[series])
    if len(beyond):
        row = int(beyond[0])
        raise InvalidInputError(
            f"series {ids[row]!r}: y holds {counts[series[row]]} time stamps but not the first "
            f"{counts[series[row]]} steps after its training data (a gap); give its next steps "
            f"without gaps"
        )
    forecast = np.asarray(forecaster.predict_array(horizon, X=X, static=static),
                          dtype=np.float64)
    order = np.lexsort((step, series))
    scores = []
    for rows in np.split(order, np.cumsum(counts)[:-1]):
        if not len(rows):
            continue  # a fitted series that y does not hold
        i = int(series[rows[0]])
        if len(np.unique(step[rows])) != len(rows):
            raise InvalidInputError(f"series {train.ids[i]!r}: y repeats a time stamp")
        history, truth, pred = train.series(i), actual[rows], forecast[i, step[rows]]
        errors = {"smape": smape(truth, pred), "mase": mase(truth, pred, history, season_length)}
        if metric == "owa":
            naive = naive2_forecast(history, season_length, horizon)[step[rows]]
            errors["smape_naive2"] = smape(truth, naive)
            errors["mase_naive2"] = mase(truth, naive, history, season_length)
        scores.append(errors)
    means = pd.DataFrame(scores).mean()
    if metric == "owa":
        return -owa(means["smape"], means["mase"], means["smape_naive2"], means["mase_naive2"])
    return -float(means[metric])


def _future_rows(train: Panel, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, times, values)`` of every row of ``y``; times in ``train``'s representation."""
    if isinstance(y, pd.Series):
        if train.n_series != 1:
            raise InvalidInputError(
                f"y is one series, but the forecaster was fitted on {train.n_series}; pass a "
                f"long frame {train.id_col}, {train.time_col}, {train.target_col}"
            )
        ids = np.repeat(train.ids[:1], len(y))
        stamps: pd.Index | pd.Series = y.index
        values = y.to_numpy()
    elif isinstance(y, pd.DataFrame):
        needed = [train.id_col, train.time_col, train.target_col]
        missing = [c for c in needed if c not in y.columns]
        if missing:
            raise InvalidInputError(f"y has no column(s) {missing}; expected {needed}")
        ids = y[train.id_col].to_numpy()
        stamps, values = y[train.time_col], y[train.target_col].to_numpy()
    else:
        raise InvalidInputError(
            f"y must be a long DataFrame or a Series to score, got {type(y).__name__}"
        )
    if len(ids) == 0:
        raise InvalidInputError("y has no rows to score")
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("y has values to score that are not numbers") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise InvalidInputError(f"series {ids[bad[0]]!r}: y has a non-finite value to score")
    return ids, train.from_time_values(stamps), values


def season_length_of(forecaster) -> int:
    """A forecaster's ``season_length``, else that of the first member (of a combination or
    a wrapper) that has one, else 1."""
    return _find_season_length(forecaster) or 1


def _find_season_length(forecaster) -> int | None:
    m = getattr(forecaster, "season_length", None)
    if m is not None:
        return int(m)
    for value in forecaster.get_params(deep=False).values():
        members = ([v[-1] for v in value if isinstance(v, tuple)] if isinstance(value, list)
                   else [value])
        for member in members:
            # A forecaster by what it has (importing BaseForecaster here would be a cycle).
            if hasattr(member, "get_params") and hasattr(member, "predict_array"):
                found = _find_season_length(member)
                if found is not None:
                    return found
    return None
