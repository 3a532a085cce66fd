"""A lower bound on forecasts for the wrappers (combinations, conformal intervals), in numpy.

The network's floor (:mod:`forecastkit.forecasters._floor`) lives in its serving graph. A
wrapper builds its own outputs outside any graph: ``Combination`` averages its members'
forecasts and quantiles, ``ConformalIntervals`` adds calibrated errors to a point forecast, and
neither keeps a member's bound (a conformal lower end can go below zero around a forecast
floored at zero). :class:`FloorMixin` gives them the network's parameters, ``floor`` and
``floor_window``, with the same meaning, applied to every forecast and quantile they return.

Raising to a bound is the monotone map ``max(y, b)``: a quantile of the bounded forecast is the
bounded quantile, so quantiles stay ordered and the median stays the bounded median.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from forecastkit._compat import Interval, StrOptions
from forecastkit.data.frames import Panel

__all__ = ["RECENT_MIN", "FloorMixin", "checked_floor", "series_bounds"]

RECENT_MIN = "recent_min"

# The wrappers' parameter constraints for the two parameters (scikit-learn's format).
FLOOR_CONSTRAINTS = {
    "floor": [Real, StrOptions({RECENT_MIN}), None],
    "floor_window": [Interval(Integral, 1, None, closed="left"), None],
}


def checked_floor(floor) -> float | str:
    """``floor`` as ``"recent_min"`` or a finite Python float (JSON-safe).

    Raises
    ------
    InvalidParameterError
        Anything else (a NaN or infinite number, another string, a bool).
    """
    if isinstance(floor, str) and floor == RECENT_MIN:
        return RECENT_MIN
    from forecastkit.forecasters.base import InvalidParameterError

    try:
        value = float(floor)
    except (TypeError, ValueError):
        value = np.nan
    if isinstance(floor, bool | np.bool_) or not np.isfinite(value):
        raise InvalidParameterError(f"floor must be a finite number, {RECENT_MIN!r} or None, "
                                    f"got {floor!r}")
    return value


def series_bounds(values: np.ndarray, indptr: np.ndarray, floor: float | str,
                  window: int | None = None) -> np.ndarray:
    """Each series' lower bound, from its history.

    Parameters
    ----------
    values : ndarray of shape (n_values,)
        The panel's concatenated histories (NaN where missing).
    indptr : ndarray of shape (n_series + 1,)
        Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``.
    floor : float or "recent_min"
        A constant bound, or each series' lowest observed value above zero among its last
        ``window`` values (``-inf`` for a series with none: no bound).
    window : int or None
        Values ``"recent_min"`` reads (the last ones); None: the whole history.

    Returns
    -------
    ndarray of shape (n_series,)
    """
    n_series = len(indptr) - 1
    if floor != RECENT_MIN:
        return np.full(n_series, float(floor))
    ends = np.asarray(indptr[1:], dtype=np.int64)
    starts = np.asarray(indptr[:-1], dtype=np.int64)
    if window is not None:
        starts = np.maximum(starts, ends - int(window))
    with np.errstate(invalid="ignore"):  # NaN compares False: missing values are no candidates
        candidates = np.where(values > 0, values, np.inf)
    bounds = np.full(n_series, np.inf)
    nonempty = ends > starts
    if nonempty.any():
        # reduceat over [start_i, end_i) pairs; the segments between them are dropped. An inf
        # sentinel keeps the last end a valid index.
        bounds_at = np.column_stack([starts[nonempty], ends[nonempty]]).ravel()
        bounds[nonempty] = np.minimum.reduceat(np.append(candidates, np.inf), bounds_at)[::2]
    return np.where(np.isinf(bounds), -np.inf, bounds)


class FloorMixin:
    """``floor`` / ``floor_window`` for a wrapper: its forecasts and quantiles raised to each
    series' bound (the meaning of both parameters as on ``RNNForecaster``; ``floor_window``
    None reads the whole history). The wrappers fill missing values before anything runs
    (``missing="interpolate"``), so a filled value counts as observed here."""

    floor: float | str | None
    floor_window: int | None

    def _check_floor(self) -> None:
        if self.floor is not None:
            checked_floor(self.floor)

    def _own_floor_arguments(self) -> dict | None:
        """``{"floor", "window"}`` of this wrapper's own ``floor``, or None."""
        if self.floor is None:
            return None
        floor = checked_floor(self.floor)
        # int(): a numpy integer would not go into the SavedModel's JSON metadata
        window = self.floor_window if floor == RECENT_MIN else None
        return {"floor": floor, "window": None if window is None else int(window)}

    def _floor_arguments(self) -> dict | None:
        """The bound this wrapper applies to what it returns (by default its own)."""
        return self._own_floor_arguments()

    def _bounded(self, values: np.ndarray, panel: Panel, arguments: dict | None = None
                 ) -> np.ndarray:
        """``values`` of shape (n_series, horizon, ...) raised to each series' bound.

        ``arguments``: ``{"floor", "window"}``; default :meth:`_floor_arguments`.
        """
        arguments = self._floor_arguments() if arguments is None else arguments
        if arguments is None:
            return values
        bounds = series_bounds(panel.values, panel.indptr, **arguments)
        return np.maximum(values, bounds.reshape((-1,) + (1,) * (values.ndim - 1)))
