"""Per-series reversible scaling: ``(y - loc) / scale`` with one ``loc, scale`` per series.

A global model sees series of very different levels; scaling each series on its own puts them
on one footing, and the exact inverse brings forecasts back to the original units. Fit on the
training part only (:func:`forecastkit.data.train_val_split`), so that no statistic of the
validation or test data leaks into training.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from forecastkit.data.frames import Panel
from forecastkit.exceptions import EmptyDataError, InvalidInputError, MissingValuesError

__all__ = ["SeriesScaler", "SCALER_METHODS"]

SCALER_METHODS = ("standard", "minmax", "robust", "meanabs")

# A scale this small relative to the series' magnitude is a constant series up to round-off;
# dividing by it would blow the noise up to O(1) values, so it is replaced by 1.
_RELATIVE_TOL = 1e-10


class SeriesScaler(BaseEstimator):
    """Scale each series by its own location and scale, exactly reversibly.

    Parameters
    ----------
    method : {"standard", "minmax", "robust", "meanabs"}
        ``standard``: loc = mean, scale = standard deviation (ddof=0).
        ``minmax``: loc = min, scale = max - min (values map to [0, 1]).
        ``robust``: loc = median, scale = interquartile range (75th - 25th percentile, linear
        interpolation as ``numpy.percentile``).
        ``meanabs``: loc = 0, scale = mean absolute value (keeps the sign and zero; the scaling
        of DeepAR-style models).

    Attributes
    ----------
    loc_ : ndarray of shape (n_series,)
    scale_ : ndarray of shape (n_series,)
        Always > 0. A constant series (scale 0, or below 1e-10 times its largest absolute value)
        gets scale 1, so it is only shifted by ``loc_`` and never divided by zero.
    n_series_ : int

    Examples
    --------
    >>> scaler = SeriesScaler("standard").fit(panel)  # doctest: +SKIP
    >>> z = scaler.transform(panel.last(36))  # (n_series, 36)  # doctest: +SKIP
    >>> y = scaler.inverse_transform(model_output)  # (n_series, horizon)  # doctest: +SKIP
    """

    def __init__(self, method: Literal["standard", "minmax", "robust", "meanabs"] = "standard"):
        self.method = method

    # ------------------------------------------------------------------ fit

    def fit(self, y, ids=None) -> SeriesScaler:
        """Learn ``loc_`` and ``scale_`` of each series.

        Parameters
        ----------
        y : Panel or sequence of 1-D arrays
            The (training) series.
        ids : array-like, optional
            Series ids for error messages when ``y`` is a list (a Panel has its own).

        Returns
        -------
        self
        """
        if self.method not in SCALER_METHODS:
            raise InvalidInputError(
                f"unknown scaling method {self.method!r}; choose from {SCALER_METHODS}"
            )
        values, indptr, ids = _as_grouped(y, ids)
        lengths = np.diff(indptr)
        empty = np.flatnonzero(lengths == 0)
        if len(empty):
            raise EmptyDataError(f"series {ids[empty[0]]!r} is empty; cannot fit a scaler")
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.searchsorted(indptr, np.flatnonzero(bad)[0], side="right") - 1)
            raise MissingValuesError(f"series {ids[i]!r} holds NaN/inf; cannot fit a scaler")
        starts = indptr[:-1]
        if self.method == "standard":
            loc = np.add.reduceat(values, starts) / lengths
            dev = values - np.repeat(loc, lengths)
            scale = np.sqrt(np.add.reduceat(dev * dev, starts) / lengths)
        elif self.method == "minmax":
            loc = np.minimum.reduceat(values, starts)
            scale = np.maximum.reduceat(values, starts) - loc
        elif self.method == "robust":
            q25, loc, q75 = _grouped_percentiles(values, indptr, (25.0, 50.0, 75.0))
            scale = q75 - q25
        else:  # meanabs
            loc = np.zeros(len(lengths))
            scale = np.add.reduceat(np.abs(values), starts) / lengths
        magnitude = np.maximum(np.maximum.reduceat(np.abs(values), starts), 1.0)
        scale = np.where(scale > _RELATIVE_TOL * magnitude, scale, 1.0)
        self.loc_ = np.asarray(loc, dtype=np.float64)
        self.scale_ = np.asarray(scale, dtype=np.float64)
        self.n_series_ = len(lengths)
        return self

    # ------------------------------------------------------------------ transform

    def _params(self, values: np.ndarray, series) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "scale_")
        values = np.asarray(values)
        if series is None:
            if values.ndim == 0 or values.shape[0] != self.n_series_:
                raise InvalidInputError(
                    f"expected values of shape (n_series={self.n_series_}, ...), got "
                    f"{values.shape}; pass series= to scale rows of chosen series"
                )
            loc, scale = self.loc_, self.scale_
        else:
            series = np.asarray(series)
            if not np.issubdtype(series.dtype, np.integer):
                raise InvalidInputError("series must hold integer series positions")
            if series.ndim != 1 or values.ndim == 0 or values.shape[0] != len(series):
                raise InvalidInputError(
                    f"series has shape {series.shape} but values have shape {values.shape}; "
                    f"expected one series position per row"
                )
            if len(series) and (series.min() < 0 or series.max() >= self.n_series_):
                raise InvalidInputError(
                    f"series positions must be in [0, {self.n_series_}), got "
                    f"[{series.min()}, {series.max()}]"
                )
            loc, scale = self.loc_[series], self.scale_[series]
        shape = (-1,) + (1,) * (values.ndim - 1)
        return loc.reshape(shape), scale.reshape(shape)

    def transform(self, values, series=None) -> np.ndarray:
        """Scale values: ``(values - loc) / scale``.

        Parameters
        ----------
        values : array-like of shape (n_series, ...) or (n, ...)
            One row per series (in fit order), or one row per entry of ``series``.
        series : array-like of int, shape (n,), optional
            Series position of each row of ``values``.

        Returns
        -------
        ndarray of the shape of ``values``, float64 (float32 input stays float32)
        """
        loc, scale = self._params(values, series)
        values = np.asarray(values)
        out = (values - loc) / scale
        return out.astype(values.dtype) if values.dtype == np.float32 else out

    def inverse_transform(self, values, series=None) -> np.ndarray:
        """Undo :meth:`transform`: ``values * scale + loc`` (same arguments)."""
        loc, scale = self._params(values, series)
        values = np.asarray(values)
        out = values * scale + loc
        return out.astype(values.dtype) if values.dtype == np.float32 else out

    def transform_panel(self, panel: Panel, dtype=np.float64) -> np.ndarray:
        """All values of a panel scaled, shape (n_obs,), aligned with ``panel.values``."""
        check_is_fitted(self, "scale_")
        if panel.n_series != self.n_series_:
            raise InvalidInputError(
                f"the scaler was fitted on {self.n_series_} series, the panel has {panel.n_series}"
            )
        lengths = panel.lengths
        out = (panel.values - np.repeat(self.loc_, lengths)) / np.repeat(self.scale_, lengths)
        return out.astype(dtype, copy=False)

    # ------------------------------------------------------------------ persistence

    def get_state(self) -> dict:
        """A JSON-able dict from which :meth:`from_state` rebuilds the fitted scaler exactly.

        Python floats round-trip through JSON without loss (shortest repr), so the state is exact.
        """
        check_is_fitted(self, "scale_")
        return {
            "method": self.method,
            "loc": [float(v) for v in self.loc_],
            "scale": [float(v) for v in self.scale_],
        }

    @classmethod
    def from_state(cls, state: dict) -> SeriesScaler:
        """Rebuild a fitted scaler from :meth:`get_state`'s output."""
        try:
            obj = cls(method=state["method"])
            loc = np.asarray(state["loc"], dtype=np.float64)
            scale = np.asarray(state["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"not a SeriesScaler state: {exc}") from None
        if loc.shape != scale.shape or loc.ndim != 1 or obj.method not in SCALER_METHODS:
            raise InvalidInputError("not a SeriesScaler state: bad method or loc/scale shapes")
        obj.loc_, obj.scale_, obj.n_series_ = loc, scale, len(loc)
        return obj


def _as_grouped(y, ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, indptr, ids) of a Panel or a list of 1-D arrays."""
    if isinstance(y, Panel):
        return y.values.astype(np.float64, copy=False), y.indptr, y.ids
    if isinstance(y, np.ndarray) and y.ndim == 2:
        y = list(y)
    if isinstance(y, np.ndarray) or not hasattr(y, "__len__") or isinstance(y, str):
        raise InvalidInputError(
            "SeriesScaler.fit takes a Panel, a list of 1-D arrays or a 2-D array "
            "(n_series, n_steps)"
        )
    if len(y) == 0:
        raise EmptyDataError("no series to fit the scaler on")
    arrays = []
    for i, a in enumerate(y):
        a = np.asarray(a)
        if a.ndim != 1:
            raise InvalidInputError(f"series at position {i} is not 1-D (shape {a.shape})")
        try:
            arrays.append(a.astype(np.float64))
        except (TypeError, ValueError):
            raise InvalidInputError(f"series at position {i} is not numeric") from None
    ids = np.asarray(ids if ids is not None else [f"at position {i}" for i in range(len(y))])
    indptr = np.concatenate([[0], np.cumsum([len(a) for a in arrays])]).astype(np.int64)
    return np.concatenate(arrays), indptr, ids


def _grouped_percentiles(values, indptr, qs):
    """Percentiles of every series at once (``numpy.percentile``'s linear method), vectorised.

    Sorting once by (series, value) and interpolating inside each run avoids a Python loop over
    series, which matters for panels of tens of thousands of series.
    """
    lengths = np.diff(indptr)
    group = np.repeat(np.arange(len(lengths)), lengths)
    ordered = values[np.lexsort((values, group))]
    out = []
    for q in qs:
        h = (lengths - 1) * (q / 100.0)
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, lengths - 1)
        a, b = ordered[indptr[:-1] + lo], ordered[indptr[:-1] + hi]
        out.append(a + (h - lo) * (b - a))
    return out
