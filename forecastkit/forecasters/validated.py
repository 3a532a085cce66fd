"""A forecast combination chosen on validation windows cut from the training data.

Which classical partner helps a recurrent network depends on the data (the M3 and M4 studies
found different ones per set; experiments/results/selection/README.md), so
``ValidatedCombination`` makes that choice on the user's own data: every candidate is scored on
the last ``horizon`` steps of each training series (and, with ``n_windows > 1``, the horizons
before them), fitted only on what precedes them; the best candidate is then refitted on all the
data. Nothing after the training data is ever used to choose::

    fk.forecasters.ValidatedCombination([
        ("lstm", fk.RNNForecaster(horizon=8, season_length=1)),
        ("theta", fk.baselines.Theta(season_length=1, horizon=8)),
        ("comb", fk.baselines.Comb(season_length=1, horizon=8)),
    ])  # candidates: lstm, lstm+theta, lstm+comb

Written here rather than taken from scikit-learn's ``GridSearchCV``: that searches parameters of
one estimator over sample folds, while this scores forecast means of several fitted forecasters on
time-ordered holdouts, fitting each member once per window however many candidates use it.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecastkit._compat import Interval, StrOptions
from forecastkit.data.frames import Panel, check_min_length
from forecastkit.exceptions import ForecastkitError, InvalidInputError, SeriesTooShortError
from forecastkit.forecasters import _combination_saving as _cs
from forecastkit.forecasters._missing import checked_panel
from forecastkit.forecasters._probabilistic import check_quantiles
from forecastkit.forecasters.base import BaseForecaster
from forecastkit.forecasters.combination import (
    Combination,
    NamedEstimatorsMixin,
    combine_forecasts,
    combine_member_quantiles,
)
from forecastkit.metrics import mase, mase_scale, smape

__all__ = ["ValidatedCombination"]


class ValidatedCombination(NamedEstimatorsMixin, BaseForecaster):
    """The candidate combination with the lowest validation error, fitted on all the data.

    Parameters
    ----------
    estimators : list of (str, forecaster)
        Named forecasters the candidates are made of.
    candidates : list of sequence of str, or None
        Name groups to score; a group's forecast is the mean of its members' forecasts.
        ``None``: the first estimator alone and its mean with each of the others, in that order
        (``lstm``, ``lstm+theta``, ``lstm+comb`` for the example in the module docstring).
    n_windows : int
        Validation windows per series: window 1 is the last ``horizon`` steps of the training
        data, window 2 the ``horizon`` steps before it, and so on. Each member is fitted once
        per window, on what precedes the window. Candidates are ranked by their mean score over
        the windows.
    metric : {"smape", "mase"}
        Score of a candidate on a window: the mean over series of sMAPE, or of MASE (scaled by
        the in-sample seasonal naive error of each series' training part; needs
        ``season_length``).
    season_length : int or None
        Seasonal period for ``metric="mase"``; default: the first estimator's ``season_length``.
    horizon : int or None
        Forecast and validation horizon; ``None`` takes the smallest ``horizon`` of all the
        estimators (those in no candidate included).
    refit : bool
        True: refit the chosen candidate's members on all the data. False: the chosen global
        members (``is_global``, e.g. a recurrent network) keep the fit made for validation
        window 1, which saw all but the last ``horizon`` steps of the series scored there
        (series left out of window 1 not at all), and forecast from the full histories (a
        network reads recent history, so it needs no refit to continue it); local members
        are fitted on all the data, which is cheap. This saves a network's second training at
        the price of not training on the last ``horizon`` steps. A kept member that cannot
        forecast the full histories (e.g. fitted in log space on window 1's part, while a
        later value is <= 0) is refitted on all the data, with a warning.

    Attributes
    ----------
    scores_ : pd.DataFrame
        One row per candidate and window: ``candidate`` (names joined by ``+``), ``window``,
        ``score``, ``n_series`` (series scored in that window).
    mean_scores_ : pd.Series
        Mean score of each candidate over the windows, in candidate order.
    selected_ : tuple of str
        Names of the chosen candidate's members (the first of equal means).
    left_out_ : dict of int to list
        Per window, the ids of the series not scored in it (too short to hold it out and
        still train on, or for MASE a constant training part); empty lists when every series
        was scored. A window with no series scored has no rows in ``scores_``.
    best_estimator_ : BaseForecaster
        ``refit=True`` only: the chosen forecaster (a clone of one estimator, or a
        :class:`Combination`) fitted on all the data; ``predict`` uses it.
    members_ : list of (str, BaseForecaster)
        ``refit=False`` only: the chosen members as fitted (global ones on window 1's training
        part, local ones on all the data); ``predict`` takes the mean of their forecasts.

    Raises
    ------
    SeriesTooShortError
        From ``fit``, when no series is long enough to hold out a window and train on the rest.
    InvalidInputError
        From ``fit``: unknown or repeated names in ``candidates``, a member forecasting
        non-finite values on a window, or a candidate whose score is not finite. Errors of a
        member fitted on a window are re-raised with the member and window named.

    Notes
    -----
    Every member of any candidate is fitted ``n_windows + 1`` times at most (once per window,
    once more on all the data if chosen), so choosing costs about ``n_windows`` times fitting
    the members once. Forecasting a new history (``predict(y=...)``) keeps the choice made at
    fit time (local members of the chosen candidate are refitted on the new history, global
    ones continue it with the fit they have).
    A series is scored in a window only if every member can fit its training part without a
    fallback (the baselines' minimum lengths) and, for MASE, that part is not constant.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimators": [list],
        "candidates": [list, None],
        "n_windows": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions({"smape", "mase"})],
        "season_length": [Interval(Integral, 1, None, closed="left"), None],
        "horizon": [Interval(Integral, 1, None, closed="left"), None],
        "refit": ["boolean"],
    }

    def __init__(
        self,
        estimators,
        candidates=None,
        n_windows=1,
        metric="smape",
        season_length=None,
        horizon=None,
        refit=True,
    ):
        self.estimators = estimators
        self.candidates = candidates
        self.n_windows = n_windows
        self.metric = metric
        self.season_length = season_length
        self.horizon = horizon
        self.refit = refit

    @property
    def is_global(self) -> bool:  # type: ignore[override]
        return all(getattr(est, "is_global", False) for _, est in self.estimators)

    @property
    def fits_series_independently(self) -> bool:
        # The choice is scored over all series: a block of series could choose differently.
        return False

    # ------------------------------------------------------------------ checks

    def _check_params(self) -> None:
        super()._check_params()
        self._check_named_estimators()
        self._resolved_candidates()
        if self.metric == "mase" and self._season_length() is None:
            raise InvalidInputError("metric='mase' needs season_length (here or on the first "
                                    "estimator)")

    def _resolved_candidates(self) -> list[tuple[str, ...]]:
        names = [name for name, _ in self.estimators]
        joined = [n for n in names if "+" in str(n)]
        if joined:
            raise InvalidInputError(
                f"estimator names may not contain '+' (it joins candidate names), got {joined}"
            )
        if self.candidates is None:
            return [(names[0],)] + [(names[0], other) for other in names[1:]]
        out = []
        for group in self.candidates:
            if isinstance(group, str):
                group = (group,)
            elif isinstance(group, list | tuple):
                group = tuple(group)
            else:
                raise InvalidInputError(
                    f"each candidate must be a name or a list of names, got {group!r}"
                )
            unknown = [n for n in group if n not in names]
            if not group or unknown or len(set(group)) != len(group):
                raise InvalidInputError(
                    f"candidate {group!r} must name distinct estimators among {names}"
                    + (f"; unknown: {unknown}" if unknown else "")
                )
            out.append(group)
        if not out:
            raise InvalidInputError("candidates is empty; give None or at least one name group")
        if len({frozenset(g) for g in out}) != len(out):
            raise InvalidInputError(f"candidates must be distinct groups, got {out}")
        return out

    def _season_length(self) -> int | None:
        if self.season_length is not None:
            return int(self.season_length)
        value = getattr(self.estimators[0][1], "season_length", None)
        return None if value is None else int(value)

    def _mase_season(self) -> int:
        # _check_params refuses metric="mase" without a season length.
        return cast(int, self._season_length())

    def _used(self) -> list[tuple[str, Any]]:
        """The estimators some candidate uses, in the order given."""
        used = {name for group in self._resolved_candidates() for name in group}
        return [(name, est) for name, est in self.estimators if name in used]

    def _min_train_length(self) -> int:
        return max(est._min_train_length() for _, est in self._used())

    def _validation_length(self) -> int:
        """Fewest training points a series needs before a window to be scored in it: what
        every member fits without a fallback (a baseline on too short a series falls back to
        Naive2, which would score Naive2 under the member's name), and for MASE a seasonal
        difference."""
        need = max(
            getattr(est, "_required_length", est._min_train_length)()
            for _, est in self._used()
        )
        if self.metric == "mase":
            need = max(need, self._mase_season() + 1)
        return need

    # ------------------------------------------------------------------ fitting

    def _fit(self, panel: Panel) -> None:
        horizon = self._check_horizon(None)
        candidates = self._resolved_candidates()
        members = self._used()
        need = self._validation_length()
        # A refit (under other settings, or one that fails) must not leave the last fit's
        # forecaster or panel behind.
        for stale in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            del self.__dict__[stale]
        rows, self.left_out_ = [], {}
        kept: dict[str, Any] = {}  # refit=False: global members as fitted for window 1
        for window in range(1, self.n_windows + 1):
            cut = window * horizon
            keep = np.flatnonzero(panel.lengths - cut >= need)
            if self.metric == "mase":
                keep = keep[[self._mase_scale(panel, int(i), cut) > 0 for i in keep]]
            self.left_out_[window] = [panel.ids[i] for i in np.setdiff1d(
                np.arange(panel.n_series), keep)]
            if not len(keep):
                continue
            scored = panel.take(keep)
            train = scored.drop_last(cut)
            actual = scored.values_after(train.lengths, horizon)  # (n_kept, horizon)
            forecasts = {}
            for name, est in members:
                forecasts[name], fitted = self._window_forecast(name, est, train, horizon, window)
                if window == 1 and not self.refit and getattr(fitted, "is_global", False):
                    kept[name] = fitted
            for group in candidates:
                pred = combine_forecasts([forecasts[name] for name in group])
                rows.append({
                    "candidate": "+".join(group),
                    "window": window,
                    "score": self._score(actual, pred, train),
                    "n_series": len(keep),
                })
        if not rows:
            longest = int(np.argmax(panel.lengths))
            raise SeriesTooShortError(
                f"no series can be validated on: holding out one horizon of {horizon} needs "
                f"{horizon + need} observations"
                + (" and a training part that is not constant" if self.metric == "mase" else "")
                + f"; the longest, series {panel.ids[longest]!r}, has "
                f"{int(panel.lengths[longest])}"
            )
        self.scores_ = pd.DataFrame(rows)
        order = ["+".join(g) for g in candidates]
        self.mean_scores_ = self.scores_.groupby("candidate", sort=False)["score"].mean()[order]
        bad = self.mean_scores_[~np.isfinite(self.mean_scores_.to_numpy())]
        if len(bad):
            raise InvalidInputError(
                f"validation {self.metric} of candidate(s) {list(bad.index)} is not finite "
                f"({bad.to_dict()}); the choice would be arbitrary"
            )
        # argmin keeps the first of equal means: the simpler candidates come first by default.
        self.selected_ = candidates[int(np.argmin(self.mean_scores_.to_numpy()))]
        chosen = [(name, est) for name, est in self.estimators if name in self.selected_]
        chosen.sort(key=lambda pair: self.selected_.index(pair[0]))
        if not self.refit:
            self.members_ = [(name, self._kept_or_refitted(name, est, kept, panel, horizon))
                             for name, est in chosen]
            return
        if len(chosen) == 1:
            self.best_estimator_ = clone(chosen[0][1]).fit(panel)
        else:
            horizon_param = None if self.horizon is None else int(self.horizon)
            self.best_estimator_ = Combination(chosen, horizon=horizon_param).fit(panel)

    @staticmethod
    def _kept_or_refitted(name, est, kept: dict, panel: Panel, horizon: int):
        """``refit=False``: the member's window-1 fit if it forecasts every full history,
        else a fit on all the data (a local member always is)."""
        if name in kept:
            try:
                kept[name].predict_array(horizon, y=panel)
                return kept[name]
            except ForecastkitError as err:
                warnings.warn(
                    f"ValidatedCombination(refit=False): {name!r} as fitted on validation "
                    f"window 1 cannot forecast the full histories ({err}); refitting it on all "
                    f"the data", stacklevel=4,
                )
        return clone(est).fit(panel)

    def _window_forecast(self, name, est, train: Panel, horizon: int, window: int):
        """One member fitted on a window's training part: ``(forecasts of shape (n_series,
        horizon), the fitted member)``."""
        where = f"fitting {name!r} on validation window {window} (last {window * horizon} " \
                f"steps of each series held out)"
        try:
            fitted = clone(est).fit(train)
            pred = fitted.predict_array(horizon)
        except ForecastkitError as err:
            raise type(err)(f"ValidatedCombination, {where}: {err}") from err
        finite = np.isfinite(pred).all(axis=1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise InvalidInputError(
                f"ValidatedCombination, {where}: {name!r} forecast non-finite values for "
                f"series {train.ids[i]!r} ({int((~finite).sum())} series in all)"
            )
        return pred, fitted

    def _mase_scale(self, panel: Panel, i: int, cut: int) -> float:
        """MASE's in-sample seasonal naive error of series ``i`` without its last ``cut``."""
        x = panel.series(i)[: panel.lengths[i] - cut]
        return mase_scale(x, self._mase_season())

    def _score(self, actual: np.ndarray, pred: np.ndarray, train: Panel) -> float:
        """Mean over series of the metric; ``actual`` and ``pred`` of shape (n_series, horizon)."""
        if self.metric == "smape":
            return float(np.mean([smape(a, p) for a, p in zip(actual, pred, strict=True)]))
        m = self._mase_season()
        return float(np.mean([
            mase(a, p, train.series(i), season_length=m)
            for i, (a, p) in enumerate(zip(actual, pred, strict=True))
        ]))

    def _forecast(self, horizon: int, y=None) -> tuple[Panel, np.ndarray]:
        # New histories are forecast by the chosen forecaster (local members refitted on them);
        # the choice itself is kept, not made again on the new data.
        if hasattr(self, "members_"):  # fitted with refit=False (whatever refit is now)
            return self._forecast_members(horizon, y)
        if y is None:
            return super()._forecast(horizon)
        panel = checked_panel(self, y)
        check_min_length(panel, self.best_estimator_._min_train_length(),
                         what=type(self).__name__)
        return panel, self.best_estimator_.predict_array(horizon, y=panel)

    def _forecast_members(self, horizon: int, y=None) -> tuple[Panel, np.ndarray]:
        """``refit=False``: the mean of the kept members' forecasts. Global members were fitted
        on window 1's training part, so they are always given the histories to continue (the
        full training data, or ``y``); local ones were fitted on all the training data."""
        if y is None:
            panel = self.panel_
        else:
            panel = checked_panel(self, y)
            check_min_length(panel, max(est._min_train_length() for _, est in self.members_),
                             what=type(self).__name__)
        forecasts = [
            est.predict_array(horizon, y=panel if (y is not None or est.is_global) else None)
            for _, est in self.members_
        ]
        return panel, combine_forecasts(forecasts)

    @property
    def supports_quantiles(self) -> bool:
        """The chosen forecaster gives quantiles (before fit: every candidate member does)."""
        members = self._fitted_members() if hasattr(self, "selected_") else self.estimators
        return all(getattr(est, "supports_quantiles", False) for _, est in members)

    def _forecast_quantiles(self, horizon: int, levels, y=None):
        if not hasattr(self, "members_"):
            return self.best_estimator_._forecast_quantiles(horizon, levels, y)
        panel = self.panel_ if y is None else checked_panel(self, y)
        point, q = combine_member_quantiles(
            self.members_, horizon, levels,
            lambda est: panel if (y is not None or est.is_global) else None,
        )
        return panel, point, check_quantiles(q, panel, horizon, len(levels),
                                             type(self).__name__)

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        # Only the training panel comes here: _forecast hands new histories on directly.
        return self.best_estimator_.predict_array(horizon)

    # ------------------------------------------------------------------ saving (hooks)

    def _fitted_members(self) -> list[tuple[str, Any]]:
        if hasattr(self, "members_"):
            return list(self.members_)
        return [("+".join(self.selected_), self.best_estimator_)]

    def _save_state(self, folder) -> dict:
        """The choice and its scores as JSON; the chosen forecaster (``refit=True``) or the
        kept members (``refit=False``) in checked sub-folders."""
        state = _cs.choice_state(self.scores_, self.selected_, self.left_out_)
        if hasattr(self, "members_"):
            state["members"] = _cs.save_members(self.members_, folder)
        else:
            state["best"] = _cs.save_members(self._fitted_members(), folder, "best")
        return state

    def _load_state(self, folder, state: dict, panel: Panel) -> None:
        order = ["+".join(g) for g in self._resolved_candidates()]
        self.scores_, self.selected_, self.left_out_ = _cs.read_choice(state, order, folder)
        self.mean_scores_ = self.scores_.groupby("candidate", sort=False)["score"].mean()[order]
        if "members" in state:
            self.members_ = _cs.load_members(folder, state["members"], self.selected_)
        else:
            (_, self.best_estimator_), = _cs.load_members(folder, state.get("best"),
                                                          ["+".join(self.selected_)])
