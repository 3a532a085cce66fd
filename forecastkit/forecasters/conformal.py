"""Conformal prediction intervals around any forecaster, from its own rolling-origin errors.

``ConformalIntervals(forecaster, n_windows=5)`` gives quantiles and intervals to a model that
has none (a combination, a point network) or replaces a model's own ones with calibrated ones::

    f = fk.forecasters.ConformalIntervals(fk.baselines.Theta(season_length=12, horizon=18))
    f.fit(train).predict_interval(coverage=(0.8, 0.95))

How: for each of ``n_windows`` origins at the end of the training data (``step`` apart, the
horizon by default) a clone of the forecaster is fitted on the data before the origin and
forecasts ``horizon`` steps. Each error is divided by its series' scale (the in-sample mean
absolute seasonal difference before the origin, MASE's scale), so series of any size pool into
one set of ``n_windows * n_series`` errors per horizon step. The forecaster is then refitted on
all the data, and the level-``p`` quantile of step ``h`` of series ``i`` is
``point[i, h] + scale_i * Q_h(p)`` (raised to the series' bound with a ``floor``):

``method="absolute"`` (symmetric)
    ``Q_h`` is the split-conformal quantile of the absolute scaled errors: the central interval
    of coverage ``1 - a`` has half-width the ``ceil((n + 1)(1 - a))``-th smallest of the ``n``
    errors, which covers at least ``1 - a`` when errors are exchangeable. Level ``p >= 0.5``
    is the upper end of the interval of coverage ``2p - 1``, level ``p < 0.5`` the lower end of
    that of coverage ``1 - 2p``; level 0.5 is the point forecast.
``method="signed"`` (asymmetric)
    ``Q_h(p)`` is the empirical quantile of the signed scaled errors, rounded outwards (the
    ``ceil((n + 1) p)``-th smallest for ``p >= 0.5``, the ``floor((n + 1) p)``-th below): a
    biased model gets shifted intervals; the median corrects the bias.

Both are non-crossing by construction (``Q_h`` grows with ``p``). Rolling-origin errors are
not exchangeable in time, so the guarantee is approximate; pooling over series is what makes
95% intervals possible at all (at least 19 errors per step are needed; a level beyond what
the errors can calibrate uses the largest error, with a warning).

Why not ``forecastkit.evaluation.backtest``: forecasters sit below evaluation (nothing imports
upward), and the wrapper needs arrays, not a frame, a store or a scheduler. Both use the same
splits: :class:`~forecastkit.data.splitters.RollingOriginSplitter` with ``Panel.slice`` and
``Panel.values_after``.

Compared with statsforecast and MAPIE. statsforecast's ``ConformalIntervals(h, n_windows)``
takes the absolute errors of ``n_windows`` cross-validation windows per series and step and
reads quantiles off the forecast mirrored by them: we take its rolling windows and per-step
calibration, but pool scaled errors across series (a series alone has ``n_windows`` errors, too
few for a 95% interval) and add the finite-sample correction. MAPIE's time-series regressor
(EnbPI, ACI) wraps a scikit-learn regressor over a feature matrix, one step ahead: we take its
signed-residual quantiles rounded outwards (``method="signed"``); we leave EnbPI's bootstrap
ensembles (B refits of a network for one interval) and ACI's online update of the level (it
needs actuals fed back one at a time, which our fit/predict contract has no place for). MAPIE
cannot wrap our forecasters with reasonable effort: they take panels and forecast horizons, not
rows of ``X`` to one value each, and MAPIE has neither per-step calibration nor pooling across
series; an adapter would be longer than the quantile arithmetic here, which is all we need.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from sklearn.base import clone

from forecastkit._compat import Interval, StrOptions
from forecastkit.data.frames import Panel, check_min_length
from forecastkit.data.splitters import RollingOriginSplitter
from forecastkit.exceptions import (
    ForecastkitError,
    ForecastkitWarning,
    InvalidInputError,
)
from forecastkit.forecasters import _conformal_saving as _cs
from forecastkit.forecasters import _probabilistic as _prob
from forecastkit.forecasters._bounds import FLOOR_CONSTRAINTS, FloorMixin
from forecastkit.forecasters._missing import checked_panel
from forecastkit.forecasters.base import BaseForecaster
from forecastkit.metrics import seasonal_scales

__all__ = ["ConformalIntervals"]

# (n + 1) * level is compared with integers: 100 * 0.8 is 80.00000000000001 in floating point,
# and its ceiling must be 80.
_EPS = 1e-9


class ConformalIntervals(FloorMixin, BaseForecaster):
    """Quantiles and intervals for any forecaster, calibrated on rolling-origin errors.

    Parameters
    ----------
    forecaster : forecaster
        Any forecastkit forecaster (combinations included); cloned, never changed.
    n_windows : int, default=5
        Forecast origins at the end of the training data whose errors calibrate the intervals.
    method : {"absolute", "signed"}, default="absolute"
        Symmetric intervals from absolute errors, or asymmetric ones from signed errors (see
        the module docstring).
    horizon : int, optional
        Steps calibrated (and forecast by default); defaults to the forecaster's ``horizon``.
        Quantiles can be asked for up to this many steps.
    step : int, optional
        Steps between consecutive origins; defaults to ``horizon``.
    season_length : int, optional
        ``m`` of the scale; defaults to the forecaster's ``season_length`` (or its members'),
        else 1.
    refit : bool, default=True
        Fit a clone at every origin. With False, one clone is fitted at the earliest origin and
        forecasts the later ones from their histories (``predict(y=...)``): a global model
        (a network) is trained twice in all instead of ``n_windows + 1`` times; a local model
        is refitted on each history either way.
    floor : float, "recent_min" or None
        A lower bound on the point forecasts (in calibration too) and on every quantile: a
        number (``0`` for counts), or ``"recent_min"``, each series' lowest observed value
        above zero in its last ``floor_window`` steps. None: the wrapped forecaster's own bound
        if it has one (``RNNForecaster(floor=...)``, ``Combination(floor=...)``), so intervals
        around a floored model do not go below the bound its forecasts keep.
    floor_window : int or None
        Steps ``"recent_min"`` reads; None: the whole history. Ignored without ``floor`` (an
        inherited bound keeps the wrapped model's window).

    Attributes
    ----------
    forecaster_ : forecaster
        The clone fitted on all the training data; it makes the point forecasts.
    calibration_errors_ : ndarray of shape (n_windows, n_series, horizon)
        Scaled errors ``(actual - forecast) / scale`` of every window, series and step; NaN
        where a series' scale was 0 (such errors cannot be put on the common scale).
    horizon_, season_length_ : int
        The calibrated horizon and the season length of the scale.
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "forecaster": [object],  # any forecaster; what it must offer is checked in _check_params
        "n_windows": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"absolute", "signed"})],
        "horizon": [Interval(Integral, 1, None, closed="left"), None],
        "step": [Interval(Integral, 1, None, closed="left"), None],
        "season_length": [Interval(Integral, 1, None, closed="left"), None],
        "refit": ["boolean"],
        **FLOOR_CONSTRAINTS,
    }

    def __init__(self, forecaster, n_windows=5, method="absolute", horizon=None, step=None,
                 season_length=None, refit=True, floor=None, floor_window=None):
        self.forecaster = forecaster
        self.n_windows = n_windows
        self.method = method
        self.horizon = horizon
        self.step = step
        self.season_length = season_length
        self.refit = refit
        self.floor = floor
        self.floor_window = floor_window

    # ------------------------------------------------------------------ capabilities

    @property
    def is_global(self) -> bool:  # type: ignore[override]
        return bool(getattr(self.forecaster, "is_global", False))

    @property
    def fits_series_independently(self) -> bool:
        # The errors of all series pool into one calibration: a subset calibrates differently.
        return False

    @property
    def max_horizon(self) -> int | None:
        return getattr(self.forecaster, "max_horizon", None)

    @property
    def supports_quantiles(self) -> bool:
        return True

    # ------------------------------------------------------------------ fitting

    def _check_params(self) -> None:
        super()._check_params()
        self._check_floor()
        f = self.forecaster
        if isinstance(f, type) or not (hasattr(f, "fit") and hasattr(f, "predict_array")):
            raise InvalidInputError(
                f"ConformalIntervals wraps a forecaster instance (with fit and predict_array), "
                f"e.g. ConformalIntervals(fk.baselines.Theta(horizon=12)); got {f!r}"
            )
        horizon = self._calibration_horizon()
        most = self.max_horizon
        if most is not None and most < horizon:
            raise InvalidInputError(
                f"ConformalIntervals(horizon={horizon}) is longer than {type(f).__name__} can "
                f"forecast ({most} steps); give the forecaster horizon={horizon} or a smaller "
                f"ConformalIntervals horizon"
            )

    def _calibration_horizon(self) -> int:
        horizon = self.horizon
        if horizon is None:
            # The forecaster's own default (a combination's is its members' smallest).
            try:
                horizon = self.forecaster._check_horizon(None)
            except (AttributeError, ForecastkitError):
                horizon = getattr(self.forecaster, "horizon", None)
        if horizon is None:
            raise InvalidInputError(
                "set ConformalIntervals(horizon=...) or a horizon on the wrapped forecaster: "
                "the intervals are calibrated for that many steps"
            )
        return super()._check_horizon(horizon)

    def _season(self) -> int:
        if self.season_length is not None:
            return int(self.season_length)
        members = [self.forecaster] + [est for _, est in getattr(self.forecaster, "estimators",
                                                                   None) or []]
        for est in members:
            m = getattr(est, "season_length", None)
            if isinstance(m, int | np.integer) and not isinstance(m, bool) and m >= 1:
                return int(m)
        return 1

    def _min_train_length(self) -> int:
        inner = getattr(self.forecaster, "_min_train_length", lambda: 1)()
        return max(int(inner), 2)  # the scale needs one difference

    def _fit(self, panel: Panel) -> None:
        horizon, m = self._calibration_horizon(), self._season()
        splitter = RollingOriginSplitter(horizon=horizon, n_windows=self.n_windows,
                                         step=self.step)
        windows = splitter.windows(panel, min_train_length=self._min_train_length())
        errors = np.empty((self.n_windows, panel.n_series, horizon))
        zero_scale = np.zeros(panel.n_series, dtype=bool)
        model = None
        for win in windows:
            train = panel.slice(win.start, win.end)
            if self.refit or model is None:
                model = clone(self.forecaster).fit(train)
                pred = model.predict_array(horizon)
            else:
                pred = model.predict_array(horizon, y=train)
            # the errors of the forecasts served: bounded as predict bounds them
            pred = self._bounded(pred, train, self._own_floor_arguments())
            bad = ~np.isfinite(pred).all(axis=1)
            if bad.any():
                raise ForecastkitError(
                    f"{type(self.forecaster).__name__} forecast non-finite values for series "
                    f"{panel.ids[int(np.flatnonzero(bad)[0])]!r} from the calibration origin "
                    f"{win.index + 1} of {self.n_windows}; no interval can be calibrated on them"
                )
            scale = seasonal_scales(train.values, train.indptr, m)
            zero_scale |= ~(scale > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                e = (panel.values_after(win.end, horizon) - pred) / scale[:, None]
            errors[win.index] = np.where(np.isfinite(e), e, np.nan)
        if zero_scale.all():
            raise ForecastkitError(
                "every series is constant before a calibration origin (its scale, the mean "
                "absolute seasonal difference, is 0), so no error can be calibrated; "
                "ConformalIntervals needs series that vary"
            )
        if zero_scale.any():
            _warn_series(panel, zero_scale, "are constant before a calibration origin; their "
                         "errors there are left out of the calibration", stacklevel=4)
        self.forecaster_ = clone(self.forecaster).fit(panel)
        self.calibration_errors_ = errors
        self.horizon_ = horizon
        self.season_length_ = m

    # ------------------------------------------------------------------ predicting

    def _check_horizon(self, horizon):
        if horizon is None:
            horizon = getattr(self, "horizon_", None) or self._calibration_horizon()
        return super()._check_horizon(horizon)

    def _forecaster_for(self, y=None):
        # New histories stay with this wrapper: the wrapped model continues them its own way
        # (a local one is refitted on them) and the calibration learned in fit applies as is.
        if y is None:
            return self.panel_, self
        panel = checked_panel(self, y)
        self._check_same_frequency(panel)
        check_min_length(panel, self._min_train_length(), what=type(self).__name__)
        return panel, self

    def _floor_arguments(self) -> dict | None:
        own = self._own_floor_arguments()
        if own is not None:
            return own
        inner = getattr(self, "forecaster_", None)
        if isinstance(inner, FloorMixin):  # a bounded combination (or conformal wrapper)
            return inner._floor_arguments()
        return getattr(inner, "floor_", None)  # a network's bound, fixed at its fit

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        own = panel is self.panel_
        point = self.forecaster_.predict_array(horizon, y=None if own else panel)
        return self._bounded(point, panel)

    def _predict_quantiles(self, panel: Panel, horizon: int, levels: np.ndarray) -> np.ndarray:
        self._check_calibrated(horizon)
        return self._quantiles_around(panel, self._predict(panel, horizon), levels)

    def _forecast_quantiles(self, horizon: int, levels: np.ndarray, y=None):
        # The point forecast is made once and serves as both the median's centre and y_pred.
        self._check_calibrated(horizon)
        panel, _ = self._forecaster_for(y)
        point = self._predict(panel, horizon)
        q = self._quantiles_around(panel, point, levels)
        q = _prob.check_quantiles(q, panel, horizon, len(levels), type(self).__name__)
        return panel, point, q

    def _check_calibrated(self, horizon: int) -> None:
        if horizon > self.horizon_:
            raise InvalidInputError(
                f"ConformalIntervals was calibrated for {self.horizon_} steps, not {horizon}; "
                f"fit ConformalIntervals(horizon={horizon}, ...) for quantiles that far ahead"
            )

    def _quantiles_around(self, panel: Panel, point: np.ndarray, levels: np.ndarray):
        """``point`` (n_series, horizon) plus each series' scale times the calibrated scaled
        quantiles: (n_series, horizon, n_levels)."""
        horizon = point.shape[1]
        self._check_calibrated(horizon)
        scale = seasonal_scales(panel.values, panel.indptr, self.season_length_)
        if not (scale > 0).all():
            _warn_series(panel, ~(scale > 0), "are constant (scale 0): their intervals have "
                         "zero width", stacklevel=5)
            scale = np.where(scale > 0, scale, 0.0)
        offsets = self.scaled_quantiles(levels)[:horizon]  # (horizon, n_levels)
        return self._bounded(point[:, :, None] + scale[:, None, None] * offsets[None], panel)

    def scaled_quantiles(self, levels) -> np.ndarray:
        """The calibrated quantiles ``Q_h(p)`` of the scaled errors.

        Parameters
        ----------
        levels : sequence of float
            Levels in (0, 1); checked and sorted as in :meth:`predict`.

        Returns
        -------
        ndarray of shape (horizon_, n_levels)
            Multiply by a series' scale and add its point forecast to get its quantiles
            (then, with a floor, raise them to the series' bound).
        """
        self._check_fitted()
        levels = _prob.check_levels(levels)
        pooled = self.calibration_errors_.reshape(-1, self.horizon_)  # (n_errors, horizon)
        n = np.isfinite(pooled).sum(axis=0)[:, None]  # (horizon, 1)
        if self.method == "absolute":
            ordered = np.sort(np.abs(pooled), axis=0)  # NaN sort last
            coverage = np.abs(2.0 * levels - 1.0)[None, :]
            k = np.ceil((n + 1) * coverage - _EPS).astype(np.int64)  # (horizon, n_levels)
            sign = np.where(levels < 0.5, -1.0, 1.0)
        else:
            ordered = np.sort(pooled, axis=0)
            upper = np.ceil((n + 1) * levels - _EPS)
            lower = np.floor((n + 1) * levels + _EPS)
            k = np.where(levels >= 0.5, upper, lower).astype(np.int64)
            k = np.where(k < 1, 1, k)  # below the smallest error: the smallest (warned below)
            sign = np.ones(len(levels))
        self._warn_uncalibrated(levels, n[:, 0], k)
        k_clipped = np.clip(k, 1, n)
        values = np.take_along_axis(ordered.T, k_clipped - 1, axis=1)  # (horizon, n_levels)
        values = np.where(k == 0, 0.0, values)  # coverage 0: the point itself
        return sign * values

    def _warn_uncalibrated(self, levels, n: np.ndarray, k: np.ndarray) -> None:
        """Warn about levels beyond what ``n`` errors per step can calibrate."""
        if self.method == "absolute":
            beyond = k > n[:, None]
        else:
            extreme = (levels < 0.5) & (np.floor((n[:, None] + 1) * levels + _EPS) < 1)
            beyond = (k > n[:, None]) | extreme
        if not beyond.any():
            return
        flagged = levels[beyond.any(axis=0)]
        level = float(flagged[np.argmin(np.minimum(flagged, 1 - flagged))])  # the most extreme
        # n errors calibrate a tail of probability t when n >= 1/t - 1
        tail = min(level, 1 - level) * (2 if self.method == "absolute" else 1)
        needed = math.ceil(1 / tail - 1 - _EPS)
        what = (f"the {round(100 * (1 - tail), 6):g}% central interval" if
                self.method == "absolute" else f"level {level:g}")
        warnings.warn(
            f"ConformalIntervals has {int(n.min())} calibration errors per step, too few for "
            f"{what} (it needs at least {needed}); those quantiles are the most extreme error "
            f"and may cover less than nominal. Use more n_windows or more series",
            ForecastkitWarning, stacklevel=6,  # the user's predict call
        )

    # ------------------------------------------------------------------ saving
    # (the wrapped forecaster in a checked sub-folder, the calibration as arrays)

    _check_saveable = _cs.check_saveable
    _saved_params = _cs.saved_params
    _from_saved_params = classmethod(_cs.from_saved_params)
    _save_state = _cs.save_state
    _load_state = _cs.load_state

def _warn_series(panel: Panel, mask: np.ndarray, what: str, stacklevel: int) -> None:
    ids = [panel.ids[i] for i in np.flatnonzero(mask)]
    shown = ", ".join(repr(i) for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5
                                                   else "")
    warnings.warn(f"series {shown} {what}", ForecastkitWarning, stacklevel=stacklevel + 1)
