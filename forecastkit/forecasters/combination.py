"""Forecast combinations: the mean or median of several forecasters' forecasts.

Combining a global recurrent network with a local statistical model is one of the most reliable
ways to gain accuracy on the M competitions (the M4 winner was such a hybrid; most of the top ten
were combinations). ``Combination`` makes that a one-liner with the same fit/predict contract::

    fk.forecasters.Combination([("lstm", fk.RNNForecaster(horizon=18, season_length=12)),
                                ("theta", fk.baselines.Theta(season_length=12, horizon=18))])
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from forecastkit._compat import BaseComposition, Interval, StrOptions
from forecastkit.data.frames import Panel, check_min_length
from forecastkit.exceptions import InvalidInputError, NotProbabilisticError, PersistenceError
from forecastkit.forecasters import _combination_saving as _cs
from forecastkit.forecasters._bounds import FLOOR_CONSTRAINTS, FloorMixin
from forecastkit.forecasters._missing import checked_panel
from forecastkit.forecasters._probabilistic import check_quantiles
from forecastkit.forecasters.base import BaseForecaster, fits_series_independently

__all__ = ["Combination", "combine_forecasts"]


def combine_forecasts(forecasts, method: str = "mean", weights=None) -> np.ndarray:
    """Combine several forecasts of the same steps, step by step and series by series.

    Parameters
    ----------
    forecasts : sequence of ndarray, or ndarray of shape (n_members, ...)
        One forecast per member, all of the same shape (e.g. (n_series, horizon)).
    method : {"mean", "median"}
    weights : sequence of float, optional
        Weights of a weighted mean (``method="mean"`` only), one per member.

    Returns
    -------
    ndarray
        The shape of one member's forecast.
    """
    stacked = np.asarray(forecasts, dtype=np.float64)
    if method == "median":
        return np.median(stacked, axis=0)
    return np.average(stacked, axis=0, weights=weights)


def combine_member_quantiles(members, horizon: int, levels, histories, method: str = "mean",
                             weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Members' point forecasts and quantiles, combined.

    Parameters
    ----------
    members : list of (str, forecaster)
        Fitted members; each must support quantiles.
    levels : ndarray of shape (n_levels,)
    histories : callable
        ``histories(member)``: the ``y`` to forecast with that member (None: its own panel).
    method, weights
        As in :func:`combine_forecasts`; quantiles are combined level by level, so a mean
        averages the members' quantile functions (Vincentization) and a median takes their
        pointwise median - both keep quantiles non-crossing.

    Returns
    -------
    point : ndarray of shape (n_series, horizon)
    quantiles : ndarray of shape (n_series, horizon, n_levels)
    """
    point_only = [name for name, est in members if not getattr(est, "supports_quantiles", False)]
    if point_only:
        raise NotProbabilisticError(
            f"members {point_only} give no quantiles, so the combination cannot; wrap the "
            f"combination in forecastkit.forecasters.ConformalIntervals instead"
        )
    points, quantiles = [], []
    for _, est in members:
        y = histories(est)
        quantiles.append(est.predict_quantiles_array(levels, horizon, y=y))
        points.append(est.predict_array(horizon, y=y))
    return (combine_forecasts(points, method, weights),
            combine_forecasts(quantiles, method, weights))


class NamedEstimatorsMixin(BaseComposition):
    """What the combining forecasters share: ``estimators``, a list of (name, forecaster)
    pairs, and ``horizon``, by default the smallest of the members'.

    Members' parameters are reachable as scikit-learn does it for its composite estimators
    (``VotingRegressor``, ``Pipeline``): ``get_params(deep=True)`` lists ``<name>`` and
    ``<name>__<parameter>`` of every member, and ``set_params(lstm__epochs=5)`` or
    ``set_params(theta=other)`` reach them, so a grid search can tune a member.
    """

    estimators: list
    horizon: int | None

    def get_params(self, deep=True):
        return self._get_params("estimators", deep=deep)

    def set_params(self, **params):
        return self._set_params("estimators", **params)

    @property
    def max_horizon(self) -> int | None:
        """The smallest of the members' ``max_horizon`` (None when every member forecasts any
        number of steps), so a combination inside another is checked like a member."""
        limits = [m for _, est in self.estimators
                  if (m := getattr(est, "max_horizon", None)) is not None]
        return min(limits) if limits else None

    def _check_named_estimators(self) -> list[str]:
        """Check the pairs (named in the error by the class); return the names."""
        owner = type(self).__name__
        if not self.estimators:
            raise InvalidInputError(f"{owner} needs at least one (name, forecaster) pair")
        bad = [e for e in self.estimators
               if not (isinstance(e, tuple | list) and len(e) == 2 and hasattr(e[1], "fit")
                       and not isinstance(e[1], type))]
        if bad:
            raise InvalidInputError(
                f"{owner} estimators must be (name, forecaster instance) pairs, got {bad[0]!r}"
            )
        names = [name for name, _ in self.estimators]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"{owner} estimator names must be unique, got {names}")
        # Names are parameter keys (set_params(lstm__epochs=5)): one that is also a parameter
        # of the combination, or holds "__", would be shadowed or unreachable.
        own = set(self.get_params(deep=False))
        clash = [n for n in names if not isinstance(n, str) or n in own or "__" in n]
        if clash:
            raise InvalidInputError(
                f"{owner} estimator names must be strings without '__' that are not "
                f"parameters of {owner} ({sorted(own)}); got {clash}"
            )
        if self.horizon is None and any(
            getattr(est, "horizon", None) is None for _, est in self.estimators
        ):
            raise InvalidInputError(f"set {owner}(horizon=...) or a horizon on every member")
        if self.horizon is not None:
            # Say it before any member is trained, not after (a direct network forecasts
            # only the steps it was trained for).
            for name, est in self.estimators:
                most = getattr(est, "max_horizon", None)
                if most is not None and most < self.horizon:
                    raise InvalidInputError(
                        f"{owner}(horizon={self.horizon}) is longer than member {name!r} can "
                        f"forecast ({most} steps); give that member horizon={self.horizon} "
                        f"or a smaller {owner} horizon"
                    )
        return names

    def _check_horizon(self, horizon):
        if horizon is None and self.horizon is None:
            horizon = min(est.horizon for _, est in self.estimators)
        return super()._check_horizon(horizon)  # type: ignore[misc]

    # ------------------------------------------------------------------ saving (hooks)
    # The estimators parameter holds forecasters: each is saved by class and parameters
    # (recursively), and the fitted members each in a checked sub-folder (_combination_saving).

    def _fitted_members(self) -> list[tuple[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_saveable(self) -> None:
        owner = type(self).__name__
        _cs.check_members_saveable(owner, self.estimators, fitted=False)
        _cs.check_members_saveable(owner, self._fitted_members(), fitted=True)

    def _saved_params(self, folder) -> dict:
        from forecastkit._io import plain

        params = self.get_params(deep=False)
        own = {k: v for k, v in params.items() if k != "estimators"}
        try:
            own = plain(own)
        except TypeError:
            raise PersistenceError(
                f"{type(self).__name__} parameters {own!r} have no JSON form"
            ) from None
        return {**own, "estimators": _cs.describe_estimators(self.estimators, folder)}

    @classmethod
    def _from_saved_params(cls, params: dict, folder):
        if not isinstance(params, dict) or "estimators" not in params:
            raise PersistenceError(f"{folder.path}: the saved parameters have no estimators")
        estimators = _cs.rebuild_estimators(params["estimators"], folder)
        return cls(estimators, **{k: v for k, v in params.items() if k != "estimators"})


class Combination(FloorMixin, NamedEstimatorsMixin, BaseForecaster):
    """The mean or median of several forecasters, fitted on the same data.

    Parameters
    ----------
    estimators : list of (str, forecaster)
        Named forecasters; each is cloned and fitted on the same data.
    combine : {"mean", "median"}
        How the forecasts are combined, step by step and series by series.
    weights : sequence of float or None
        Weights of a weighted mean (``combine="mean"`` only); normalised to sum to 1.
    horizon : int or None
        Default forecast horizon; ``None`` takes the smallest ``horizon`` of the estimators.
    floor : float, "recent_min" or None
        A lower bound on the combined forecasts and quantiles: a number (``0`` for counts), or
        ``"recent_min"``, each series' lowest observed value above zero in its last
        ``floor_window`` steps (``RNNForecaster``'s rule). A member's own floor bounds only its
        own forecasts, not a mean with unbounded members.
    floor_window : int or None
        Steps ``"recent_min"`` reads; None: the whole history.

    Attributes
    ----------
    estimators_ : list of (str, forecaster)
        The fitted clones.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "estimators": [list],
        "combine": [StrOptions({"mean", "median"})],
        "weights": ["array-like", None],
        "horizon": [Interval(Integral, 1, None, closed="left"), None],
        **FLOOR_CONSTRAINTS,
    }

    def __init__(self, estimators, combine="mean", weights=None, horizon=None, floor=None,
                 floor_window=None):
        self.estimators = estimators
        self.combine = combine
        self.weights = weights
        self.horizon = horizon
        self.floor = floor
        self.floor_window = floor_window

    @property
    def is_global(self) -> bool:  # type: ignore[override]
        # New histories can be forecast without refitting only if every member can do so.
        return all(getattr(est, "is_global", False) for _, est in self.estimators)

    @property
    def fits_series_independently(self) -> bool:
        # A global member learns across series, so blocks of series would change its forecasts.
        return all(fits_series_independently(est) for _, est in self.estimators)

    def _check_params(self) -> None:
        super()._check_params()
        self._check_named_estimators()
        self._check_floor()
        if self.weights is not None:
            if self.combine != "mean":
                raise InvalidInputError("weights apply to combine='mean' only")
            if len(self.weights) != len(self.estimators) or np.any(np.asarray(self.weights) < 0):
                raise InvalidInputError(
                    f"weights must be {len(self.estimators)} non-negative numbers, "
                    f"got {self.weights!r}"
                )

    def _min_train_length(self) -> int:
        return max(getattr(est, "_min_train_length", lambda: 1)() for _, est in self.estimators)

    def _fit(self, panel: Panel) -> None:
        self.estimators_ = [(name, clone(est).fit(panel)) for name, est in self.estimators]

    def _fitted_members(self) -> list[tuple[str, Any]]:
        return list(self.estimators_)

    def _save_state(self, folder) -> dict:
        """Each fitted member in its own checked sub-folder (``member_<i>``)."""
        return {"members": _cs.save_members(self.estimators_, folder)}

    def _load_state(self, folder, state: dict, panel: Panel) -> None:
        names = [name for name, _ in self.estimators]
        self.estimators_ = _cs.load_members(folder, state.get("members"), names)

    def _forecast(self, horizon: int, y=None) -> tuple[Panel, np.ndarray]:
        # New histories go to every member, which continues them its own way: a global member
        # with the fit it has, a local one refitted on them. (The base class would refit the
        # whole combination, retraining a network member, whenever one member is local.)
        if y is None:
            return super()._forecast(horizon)
        panel = checked_panel(self, y)
        check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        return panel, self._predict(panel, horizon)

    @property
    def supports_quantiles(self) -> bool:
        """Every member gives quantiles; they are combined as the point forecasts are (mean:
        averaged quantile functions; median: their pointwise median)."""
        return all(getattr(est, "supports_quantiles", False) for _, est in self.estimators)

    def _forecast_quantiles(self, horizon: int, levels, y=None):
        panel = self.panel_
        if y is not None:
            panel = checked_panel(self, y)
            check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        weights = None if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        point, q = combine_member_quantiles(
            self.estimators_, horizon, levels, lambda est: None if y is None else panel,
            self.combine, weights,
        )
        point, q = self._bounded(point, panel), self._bounded(q, panel)
        return panel, point, check_quantiles(q, panel, horizon, len(levels),
                                             type(self).__name__)

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        own = panel is self.panel_
        forecasts = [est.predict_array(horizon, y=None if own else panel)
                     for _, est in self.estimators_]
        weights = None if self.weights is None else np.asarray(self.weights, dtype=np.float64)
        return self._bounded(combine_forecasts(forecasts, self.combine, weights), panel)
