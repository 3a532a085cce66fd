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

from forecastkit import exceptions as _exceptions
from forecastkit._compat import SklearnInvalidParameterError, validate_parameter_constraints
from forecastkit.data.frames import Panel, check_min_length, from_panel_values
from forecastkit.exceptions import (
    ForecastkitError,
    InvalidInputError,
    NotProbabilisticError,
)
from forecastkit.forecasters import _probabilistic as _prob
from forecastkit.forecasters._covariates import CovariatesMixin
from forecastkit.forecasters._missing import checked_panel
from forecastkit.forecasters._saving import SavingMixin
from forecastkit.forecasters._scoring import ScoreMixin

__all__ = ["BaseForecaster", "InvalidParameterError", "fits_series_independently"]


class InvalidParameterError(ForecastkitError, TypeError):
    """A forecaster parameter has a value outside its declared constraints."""


class BaseForecaster(CovariatesMixin, ScoreMixin, SavingMixin, BaseEstimator):
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
    # Parameters added after stored runs (result stores, tuning studies) -> the value at which
    # the forecaster behaves as before: run identities leave them out there.
    _identity_defaults: ClassVar[dict[str, Any]] = {}

    @property
    def fits_series_independently(self) -> bool:
        return not self.is_global

    @property
    def max_horizon(self) -> int | None:
        return None

    @property
    def min_train_length(self) -> int:
        """Fewest observations a series needs for ``fit`` (see
        :func:`forecastkit.data.drop_unusable_series`)."""
        return int(self._min_train_length())

    # ------------------------------------------------------------------ public API

    def fit(self, y, X=None, static=None):
        """Fit on one series or a panel of series.

        Parameters
        ----------
        y : pd.Series, pd.DataFrame or Panel
            A series (DatetimeIndex, PeriodIndex or integer index), a long frame
            ``unique_id, ds, y``, or a wide frame (one column per series). Missing values
            (NaN) are handled by the ``missing`` parameter where the forecaster has one
            (RNNForecaster masks them), else interpolated with one warning (``n_filled_``).
        X : pd.DataFrame, optional
            Time-varying covariates, a long frame ``unique_id, ds, <columns>`` covering every
            time stamp of ``y`` (see :mod:`forecastkit.data.covariates` for future-known and
            past-only columns). Only forecasters with ``supports_covariates`` read it; the
            others raise CovariateError.
        static : pd.DataFrame, optional
            One row per series: ``unique_id, <attributes>`` (numeric or categorical).

        Returns
        -------
        self
        """
        # A fit that fails must not leave the previous fit usable: forget it first.
        for key in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
            delattr(self, key)
        self._check_params()
        self._check_covariates_supported(X, static)
        panel = checked_panel(self, y, record=True)
        check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        panel = self._with_fit_covariates(panel, X, static)
        self._fit(panel)
        self.panel_ = panel
        self.n_series_ = panel.n_series
        return self

    def predict(self, horizon: int | None = None, X=None, y=None, quantiles=None, static=None):
        """Forecast ``horizon`` steps after the end of each series.

        Parameters
        ----------
        horizon : int, optional
            Number of steps; defaults to the ``horizon`` parameter.
        X : pd.DataFrame, optional
            Covariates of a model fitted with them: the future-known columns over the
            horizon (and, with ``y``, every column over the new histories too).
        y : pd.Series, pd.DataFrame or Panel, optional
            New histories to forecast from. A global model forecasts them with its fitted
            weights; a local model is fitted anew on each. They must have the frequency the
            model was fitted on.
        quantiles : sequence of float, optional
            Levels in (0, 1): the output gains one column per level, named ``q0.1``,
            ``q0.5``, ... beside ``y_pred``. Quantiles never cross and are never NaN; a model
            that cannot give them raises NotProbabilisticError (wrap it in
            :class:`~forecastkit.forecasters.ConformalIntervals`).
        static : pd.DataFrame, optional
            Static covariates (default: those given at fit, for the training series).

        Returns
        -------
        pd.Series or pd.DataFrame
            Without ``quantiles``: a Series indexed by the future time stamps for series
            input, else a long frame ``unique_id, ds, y_pred``. With ``quantiles``: a
            DataFrame (indexed by the future time stamps for series input) with the quantile
            columns beside ``y_pred``.
        """
        self._check_fitted()
        horizon = self._check_horizon(horizon)
        with self._covariates_request(X, static, horizon):
            if quantiles is None:
                panel, values = self._forecast(horizon, y)
                return from_panel_values(panel, values)
            levels = _prob.check_levels(quantiles)
            panel, point, q = self._forecast_quantiles(horizon, levels, y)
        columns = {"y_pred": point}
        columns.update({_prob.quantile_name(v): q[:, :, j] for j, v in enumerate(levels)})
        return _prob.frame_of_columns(panel, columns)

    def predict_interval(self, horizon: int | None = None, coverage=(0.8, 0.95), y=None,
                         X=None, static=None):
        """Central prediction intervals beside the point forecast.

        Parameters
        ----------
        horizon : int, optional
        coverage : float or sequence of float
            Fractions in (0, 1): 0.8 gives the interval between the 10% and 90% quantiles.
        y : optional
            New histories, as in :meth:`predict`.
        X, static : pd.DataFrame, optional
            Covariates, as in :meth:`predict`.

        Returns
        -------
        pd.DataFrame
            ``y_pred`` and, per coverage (ascending), ``lo-<c>`` and ``hi-<c>`` with ``c`` in
            percent (``lo-80``, ``hi-80``, ``lo-95``, ``hi-95``); long, or indexed by the
            future time stamps for series input.
        """
        self._check_fitted()
        horizon = self._check_horizon(horizon)
        levels, names = _prob.interval_levels(coverage)
        with self._covariates_request(X, static, horizon):
            panel, point, q = self._forecast_quantiles(horizon, levels, y)
        position = {v: j for j, v in enumerate(levels)}
        columns = {"y_pred": point}
        columns.update({name: q[:, :, position[v]] for name, v in names.items()})
        return _prob.frame_of_columns(panel, columns)

    def predict_quantiles_array(self, levels, horizon: int | None = None, y=None, X=None,
                                static=None) -> np.ndarray:
        """Quantile forecasts as an array of shape (n_series, horizon, n_levels).

        ``levels`` are checked and sorted as in :meth:`predict`; the last axis follows the
        sorted levels.
        """
        self._check_fitted()
        horizon = self._check_horizon(horizon)
        with self._covariates_request(X, static, horizon):
            return self._forecast_quantiles(horizon, _prob.check_levels(levels), y)[2]

    def sample_paths(self, n_paths: int, horizon: int | None = None, y=None,
                     random_state=None, as_frame: bool = False, X=None, static=None):
        """Draw joint sample paths of the next ``horizon`` steps of every series.

        Parameters
        ----------
        n_paths : int
            Paths per series (at least 1).
        horizon : int, optional
        y : optional
            New histories, as in :meth:`predict`.
        random_state : int, numpy Generator or None
            Seed: the same int gives the same paths, in any process.
        as_frame : bool
            Return a long frame ``unique_id, ds, path, y`` instead of an array.
        X, static : pd.DataFrame, optional
            Covariates, as in :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_series, n_paths, horizon), or pd.DataFrame
            In the panel's series order.

        Raises
        ------
        NotProbabilisticError
            The model cannot draw joint paths (see ``supports_paths``).
        """
        self._check_fitted()
        horizon = self._check_horizon(horizon)
        if isinstance(n_paths, bool) or not isinstance(n_paths, int | np.integer) or n_paths < 1:
            raise InvalidInputError(f"n_paths must be a positive integer, got {n_paths!r}")
        if not self.supports_paths:
            raise NotProbabilisticError(
                f"{type(self).__name__} cannot draw sample paths; use predict(quantiles=...) "
                f"or predict_interval() where it supports them"
            )
        with self._covariates_request(X, static, horizon):
            panel, model = self._forecaster_for(y)
        rng = random_state if isinstance(random_state, np.random.Generator) else \
            np.random.default_rng(random_state)
        paths = np.asarray(model._sample_paths(panel, horizon, int(n_paths), rng), np.float64)
        if paths.shape != (panel.n_series, n_paths, horizon):
            raise ForecastkitError(f"{type(self).__name__} returned paths of shape "
                                   f"{paths.shape}, not {(panel.n_series, n_paths, horizon)}")
        finite = np.isfinite(paths).all(axis=(1, 2))
        if not finite.all():
            sid = panel.ids[int(np.flatnonzero(~finite)[0])]
            raise ForecastkitError(f"{type(self).__name__} drew non-finite paths for series "
                                   f"{sid!r}")
        return _prob.paths_frame(panel, paths) if as_frame else paths

    def fit_predict(self, y, horizon: int | None = None):
        """``fit(y)`` then ``predict(horizon)``."""
        return self.fit(y).predict(horizon)

    def predict_array(self, horizon: int | None = None, y=None, X=None, static=None
                      ) -> np.ndarray:
        """Forecasts as an array of shape (n_series, horizon), in the panel's series order."""
        self._check_fitted()
        horizon = self._check_horizon(horizon)
        with self._covariates_request(X, static, horizon):
            return np.asarray(self._forecast(horizon, y)[1], dtype=np.float64)

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
        panel, model = self._forecaster_for(y)
        return panel, model._predict(panel, horizon)

    def _forecast_quantiles(self, horizon: int, levels: np.ndarray, y=None):
        """``(panel, point (n_series, horizon), quantiles (n_series, horizon, n_levels))``,
        the quantiles checked and non-crossing."""
        if not self.supports_quantiles:
            raise NotProbabilisticError(
                f"{type(self).__name__} gives no quantiles; wrap it in "
                f"forecastkit.forecasters.ConformalIntervals for calibrated intervals"
            )
        panel, model = self._forecaster_for(y)
        q = model._predict_quantiles(panel, horizon, levels)
        q = _prob.check_quantiles(q, panel, horizon, len(levels), type(self).__name__)
        return panel, model._predict(panel, horizon), q

    def _forecaster_for(self, y=None):
        """``(panel, fitted forecaster)``: the training panel and self, or new histories and
        what forecasts them (self for a global model, a copy fitted on them for a local one)."""
        if y is None:
            return self._with_forecast_covariates(self.panel_, new=False), self
        panel = checked_panel(self, y)
        self._check_same_frequency(panel)
        check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        if self.is_global:
            return self._with_forecast_covariates(panel, new=True), self
        # A local model has nothing to carry over to new series: fit a copy on them.
        fitted = self._fit_copy(clone(self), panel)
        return fitted._with_forecast_covariates(fitted.panel_, new=False), fitted

    def _check_same_frequency(self, panel: Panel) -> None:
        """New histories must be on the calendar the model learned (a daily history is not a
        monthly model's input). Integer time carries no unit, so a model fitted on it takes
        any time axis."""
        trained = self.panel_
        if trained.index_kind == "integer":
            return
        fitted_on = _calendar_frequency(trained)
        given = _calendar_frequency(panel) if panel.index_kind != "integer" else "integer time"
        if given != fitted_on:
            raise InvalidInputError(
                f"the new histories have frequency {given!r} but {type(self).__name__} was "
                f"fitted on {fitted_on!r} time stamps; give histories of the same frequency"
            )

    # ------------------------------------------------------------------ probabilistic hooks

    supports_paths: ClassVar[bool] = False

    @property
    def supports_quantiles(self) -> bool:
        """Whether ``predict(quantiles=...)`` works (by default: when paths can be drawn)."""
        return self.supports_paths

    def _predict_quantiles(self, panel: Panel, horizon: int, levels: np.ndarray) -> np.ndarray:
        """Quantiles (n_series, horizon, n_levels); the default takes them from
        ``DEFAULT_PATHS`` paths drawn with a fixed seed (the model's random_state if any)."""
        seed = getattr(self, "random_state", None)
        seed = seed if isinstance(seed, int | np.integer) else 0
        paths = self._sample_paths(panel, horizon, _prob.DEFAULT_PATHS,
                                   np.random.default_rng(seed))
        return _prob.empirical_quantiles(paths, levels)

    def _sample_paths(self, panel: Panel, horizon: int, n_paths: int, rng) -> np.ndarray:
        raise NotProbabilisticError(f"{type(self).__name__} cannot draw sample paths")

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise _exceptions.NotFittedError(
                f"this {type(self).__name__} is not fitted yet (or its last fit failed); "
                f"call fit first"
            )

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


def _calendar_frequency(panel: Panel) -> str | None:
    """The panel's frequency as a period alias ("M" for month starts and month ends alike)."""
    from forecastkit.data.encoding import period_alias

    freq = getattr(panel.freq, "freqstr", None)
    return period_alias(freq) if freq is not None else None
