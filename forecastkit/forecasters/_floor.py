"""A lower bound on a network's forecasts, applied in its serving graph (so in the SavedModel).

A global network trained on normalised windows learns an effect (a holiday, a closure) as one
move of the normalised level for every series. Applied to a quiet series whose spread is wide
beside its level, the same move can take the forecast below anything the series has carried,
or below zero (experiments/results/covariates/validation/README.md, "A floor at the recent
minimum"). :class:`ForecastFloor` raises every forecast to a bound: a constant (``0`` for
counts), or each series' lowest positive observed value of its last ``window`` history steps.

Raising a forecast ``y`` to ``b`` is the monotone map ``max(y, b)``, so the ``q``-quantile of the
bounded forecast is ``max(q, b)`` and a bounded sample path is the path with each step raised:
quantiles and paths are bounded the same way and stay ordered. The network's forecasts and
quantiles are bounded in the serving graph; its sample paths are drawn step by step outside
it and raised after the draw with the same layer's bound. A wrapper that builds its own
intervals around the point forecast (``ConformalIntervals``) or averages it with another model
(``Combination``) bounds its own outputs in numpy with the same rule
(:mod:`forecastkit.forecasters._bounds`); ``ConformalIntervals`` takes the network's bound.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from forecastkit.forecasters._bounds import RECENT_MIN, checked_floor

__all__ = ["ForecastFloor", "RECENT_MIN"]


@keras.saving.register_keras_serializable(package="forecastkit")
class ForecastFloor(keras.layers.Layer):
    """Raise forecasts to a lower bound per series.

    Call on ``[values, history, mask]``: ``values`` of shape ``(batch, ...)`` (forecasts
    ``(batch, horizon)``, quantiles ``(batch, horizon, n_levels)``), ``history`` and ``mask``
    of shape ``(batch, window)`` as the serving model takes them (original units, left padded,
    mask 1 where observed). Returns ``values`` raised elementwise to each row's bound, compared
    in the dtype of ``values`` (float32 in the serving model).

    Parameters
    ----------
    floor : float or "recent_min"
        A finite constant bound, or ``"recent_min"``: the lowest observed value above zero
        among the last ``window`` history steps of the row (no bound for a row with none; zeros
        are left out as they are most often a shutdown, not a level to forecast).
    window : int or None
        History steps ``"recent_min"`` reads (the last ones, at least 1); ``None``: the whole
        input.

    Raises
    ------
    InvalidParameterError
        A ``floor`` that is neither a finite number nor ``"recent_min"``, or a ``window`` below 1.
    """

    def __init__(self, floor, window=None, **kwargs):
        super().__init__(**kwargs)
        self.floor = checked_floor(floor)
        if window is not None and int(window) < 1:
            from forecastkit.forecasters.base import InvalidParameterError

            raise InvalidParameterError(f"the floor's window must be at least 1 step, "
                                        f"got {window!r}")
        self.window = None if window is None else int(window)

    def bound(self, history, mask):
        """The bound of each row.

        Parameters
        ----------
        history, mask : tensor of shape (batch, window)

        Returns
        -------
        tensor of shape (batch,)
            The constant, or each row's lowest observed positive value of its last ``window``
            steps (``-inf`` where there is none), in the dtype of ``history``.
        """
        if self.floor != RECENT_MIN:
            return ops.full((ops.shape(history)[0],), float(self.floor), dtype=history.dtype)
        if self.window is not None:
            history, mask = history[:, -self.window :], mask[:, -self.window :]
        candidate = ops.logical_and(mask > 0, history > 0)
        inf = ops.full_like(history, np.inf)
        lowest = ops.min(ops.where(candidate, history, inf), axis=1)
        return ops.where(ops.isinf(lowest), -inf[:, 0], lowest)

    def call(self, inputs):
        values, history, mask = inputs
        b = ops.cast(self.bound(history, mask), values.dtype)
        # One bound per row, broadcast over every trailing axis (steps, levels).
        b = ops.reshape(b, (-1,) + (1,) * (len(values.shape) - 1))
        return ops.maximum(values, b)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "floor": self.floor, "window": self.window}


def floor_arguments(f) -> dict | None:
    """The :class:`ForecastFloor` arguments for an RNNForecaster ``f`` about to fit.

    Parameters
    ----------
    f : RNNForecaster
        With ``window_`` set (the serving window).

    Returns
    -------
    dict or None
        ``{"floor", "window"}`` (``window``: ``floor_window``, by default the serving window,
        all the history the graph has; None for a constant floor, which reads no history), or
        None without a floor.

    Raises
    ------
    InvalidParameterError
        A ``floor`` that is not finite, or ``floor_window`` longer than the serving window.
    """
    if f.floor is None:
        return None
    floor = checked_floor(f.floor)
    if floor != RECENT_MIN:
        return {"floor": floor, "window": None}
    if f.floor_window is not None and f.floor_window > f.window_:
        from forecastkit.forecasters.base import InvalidParameterError

        raise InvalidParameterError(
            f"floor_window={f.floor_window} is longer than the {f.window_} history steps the "
            f"network's serving graph reads (its longest lookback or seasonal window); give "
            f"floor_window <= {f.window_} or a longer lookback"
        )
    return {"floor": floor, "window": int(f.floor_window or f.window_)}
