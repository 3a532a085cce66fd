"""The scikit-learn-style contract every forecaster follows.

``__init__`` only stores keyword arguments; ``fit(y)`` checks them against the class'
``_parameter_constraints`` table, converts ``y`` to a :class:`~forecastkit.data.Panel` and calls
``_fit``; ``predict(horizon)`` forecasts from the end of every training series and returns a frame
that mirrors the input (a Series in, a Series out; a long frame in, a long frame out).

Subclasses implement two methods:

``_fit(panel) -> None``
    Learn from the panel (store fitted attributes with a trailing underscore).
``_predict(panel, horizon) -> ndarray of shape (n_series, horizon)``
    Forecast ``horizon`` steps after the end of each series of ``panel``: the training panel, or a
    new one passed as ``predict(y=...)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from forecastkit._compat import SklearnInvalidParameterError, validate_parameter_constraints
from forecastkit.data.frames import Panel, check_min_length, from_panel_values, to_panel
from forecastkit.exceptions import ForecastkitError, InvalidInputError, PersistenceError

__all__ = ["BaseForecaster", "InvalidParameterError", "fits_series_independently"]


class InvalidParameterError(ForecastkitError, TypeError):
    """A forecaster parameter has a value outside its declared constraints."""


class BaseForecaster(BaseEstimator):
    """Base class of forecastkit forecasters (scikit-learn estimator conventions).

    Attributes (class attributes or properties) declare capabilities rather than leaving
    callers to discover them:

    ``is_global``
        One model learned across all series (True) or one model per series (False).
    ``fits_series_independently``
        Whether fitting on any subset of the series gives the same forecasts for those series
        as fitting on all of them (one independent model per series). Backtests split such
        models into blocks of series to spread them over cores. By default the opposite of
        ``is_global``; a combination with a global member, or a choice scored over all
        series, is neither global nor independent per series.
    ``max_horizon``
        Most steps ``predict`` can forecast, or None for any number (the default). A direct
        network forecasts only the steps it was trained for; combinations check their
        ``horizon`` against it before training anything.
    ``_parameter_constraints``
        scikit-learn's constraint table: parameter name -> list of accepted types/intervals.
    """

    is_global: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}

    @property
    def fits_series_independently(self) -> bool:
        return not self.is_global

    @property
    def max_horizon(self) -> int | None:
        return None

    # ------------------------------------------------------------------ public API

    def fit(self, y, X=None):
        """Fit on one series or a panel of series.

        Parameters
        ----------
        y : pd.Series, pd.DataFrame or Panel
            A series (DatetimeIndex, PeriodIndex or integer index), a long frame
            ``unique_id, ds, y``, or a wide frame (one column per series).
        X : None
            Exogenous regressors are not supported yet; must be None.

        Returns
        -------
        self
        """
        self._check_params()
        _reject_exogenous(X)
        panel = to_panel(y)
        check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        self._fit(panel)
        self.panel_ = panel
        self.n_series_ = panel.n_series
        return self

    def predict(self, horizon: int | None = None, X=None, y=None):
        """Forecast ``horizon`` steps after the end of each series.

        Parameters
        ----------
        horizon : int, optional
            Number of steps; defaults to the ``horizon`` parameter.
        X : None
            Exogenous regressors (not supported yet).
        y : pd.Series, pd.DataFrame or Panel, optional
            New histories to forecast from. A global model forecasts them with its fitted
            weights; a local model is fitted anew on each.

        Returns
        -------
        pd.Series or pd.DataFrame
            A Series indexed by the future time stamps for series input, else a long frame
            ``unique_id, ds, y_pred``.
        """
        check_is_fitted(self)
        _reject_exogenous(X)
        horizon = self._check_horizon(horizon)
        panel, values = self._forecast(horizon, y)
        return from_panel_values(panel, values)

    def fit_predict(self, y, horizon: int | None = None):
        """``fit(y)`` then ``predict(horizon)``."""
        return self.fit(y).predict(horizon)

    def save(self, path):
        """Save the fitted forecaster to the folder ``path``; ``fk.load(path)`` restores it.

        Nothing is pickled and every file is checksummed (see
        :mod:`forecastkit.forecasters._saving`). The folder is written beside ``path`` and put
        in place only when complete, so a failing save leaves an earlier save there intact.

        Returns
        -------
        pathlib.Path
            The folder.

        Raises
        ------
        PersistenceError
            The forecaster is not fitted, cannot be saved, or the folder cannot be written.
        """
        from forecastkit.forecasters._saving import save_forecaster

        return save_forecaster(self, path)

    def predict_array(self, horizon: int | None = None, y=None) -> np.ndarray:
        """Forecasts as an array of shape (n_series, horizon), in the panel's series order."""
        check_is_fitted(self)
        horizon = self._check_horizon(horizon)
        return np.asarray(self._forecast(horizon, y)[1], dtype=np.float64)

    # ------------------------------------------------------------------ saving (hooks)

    def _check_saveable(self) -> None:
        """Raise PersistenceError, before anything is written, if this cannot be saved."""
        if not (hasattr(self, "get_fitted_state") and hasattr(self, "set_fitted_state")):
            raise PersistenceError(
                f"{type(self).__name__} cannot be saved: it has no _save_state/_load_state "
                f"(or get_fitted_state/set_fitted_state)"
            )

    def _saved_params(self, folder) -> dict:
        """The constructor's parameters as JSON (a class with non-JSON parameters overrides
        this and :meth:`_from_saved_params`)."""
        from forecastkit.forecasters._saving import jsonable_params

        return jsonable_params(self.get_params(deep=False))

    @classmethod
    def _from_saved_params(cls, params: dict, folder):
        """An unfitted instance with the saved parameters."""
        from forecastkit.forecasters._saving import restore_params

        return cls(**restore_params(params))

    def _save_state(self, folder) -> dict:
        """Write the fitted state into ``folder`` (a :class:`forecastkit._io.CheckedFolder`);
        return what the manifest must hold to read it back (JSON values). The default stores
        ``get_fitted_state()``: arrays in ``state.npz``, everything else in the manifest."""
        state = self.get_fitted_state()
        arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
        folder.write_arrays("state.npz", arrays)
        values = {k: v for k, v in state.items() if k not in arrays}
        return {"arrays": sorted(arrays), "values": values}

    def _load_state(self, folder, state: dict, panel: Panel) -> None:
        """Restore what :meth:`_save_state` wrote (``panel``: the training panel)."""
        arrays = folder.read_arrays("state.npz", state["arrays"])
        try:
            self.set_fitted_state({**arrays, **state["values"]}, panel)
        except ForecastkitError as err:
            raise PersistenceError(
                f"{folder.path}: the stored state does not fit ({err})"
            ) from None

    # ------------------------------------------------------------------ for subclasses

    def _fit(self, panel: Panel) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _min_train_length(self) -> int:
        """Shortest series ``fit`` accepts."""
        return 1

    def _forecast(self, horizon: int, y=None) -> tuple[Panel, np.ndarray]:
        """The panel forecast from and its forecasts, shape (n_series, horizon)."""
        if y is None:
            return self.panel_, self._predict(self.panel_, horizon)
        panel = to_panel(y)
        check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        if self.is_global:
            return panel, self._predict(panel, horizon)
        # A local model has nothing to carry over to new series: fit a copy on them.
        fitted = clone(self).fit(panel)
        return panel, fitted._predict(fitted.panel_, horizon)

    def _check_params(self) -> None:
        try:
            validate_parameter_constraints(
                self._parameter_constraints,
                self.get_params(deep=False),
                caller_name=type(self).__name__,
            )
        except SklearnInvalidParameterError as err:
            raise InvalidParameterError(str(err)) from None

    def _check_horizon(self, horizon: int | None) -> int:
        if horizon is None:
            horizon = getattr(self, "horizon", None)
        if horizon is None:
            raise InvalidInputError(f"{type(self).__name__}.predict needs a horizon")
        if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
            raise InvalidInputError(f"horizon must be a positive integer, got {horizon!r}")
        return int(horizon)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "panel_")


def fits_series_independently(forecaster) -> bool:
    """``forecaster.fits_series_independently``, or for an object written without it (any
    class with ``fit``/``predict_array``), the opposite of its ``is_global``."""
    return getattr(forecaster, "fits_series_independently",
                   not getattr(forecaster, "is_global", False))


def _reject_exogenous(X) -> None:
    if X is not None:
        raise InvalidInputError("exogenous regressors (X) are not supported yet; pass X=None")
