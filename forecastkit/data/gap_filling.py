"""Gaps inside a normalised window, filled inside the network: a Keras layer.

A network trained with ``missing="mask"`` reads every history step, a missing one included, so
that time keeps its pace (skipping a step would shift every later step's place in the season
and the trend). What it reads at a missing step is this layer's output: the normalised window
interpolated linearly between the observed steps on either side. The window is already
deseasonalised and relative to its level (:class:`~forecastkit.data.normalization.
WindowNormalizer`), so this is the seasonal interpolation of ``fill_missing(method="seasonal")``
done per window, in the graph: training, ``predict`` and the SavedModel fill alike, and the
network is also told which steps were filled (the mask, read beside the value). The filled
values never enter the loss. The window's statistics (level, scale, seasonal component) come
from the raw (log) window interpolated linearly across its gaps before it is normalised
(:func:`interpolate_gaps` in :class:`~forecastkit.data.normalization.WindowNormalizer` with
``interpolate_gaps=True``).
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["GapInterpolation", "interpolate_gaps"]


@keras.saving.register_keras_serializable(package="forecastkit")
class GapInterpolation(keras.layers.Layer):
    """Fill the missing steps of each window by linear interpolation between its observed ones.

    Call on ``[z, mask]``, both of shape ``(batch, steps)``: values (anything where missing)
    and 1/0 where observed/missing. Returns ``(batch, steps)``: ``z`` at observed steps; at a
    missing step between two observed ones, the straight line between them; after a window's
    last observed step, that step's value (carried forward); before its first one (left
    padding), the first observed value. A window with nothing observed comes back as zeros.
    """

    def call(self, inputs):
        z, mask = inputs
        return interpolate_gaps(ops.cast(z, self.compute_dtype), mask)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def interpolate_gaps(z, mask):
    """:class:`GapInterpolation`'s computation, for use inside another layer.

    Parameters
    ----------
    z : tensor of shape (batch, steps), floating
    mask : tensor of shape (batch, steps)
        1 (or True) where observed.

    Returns
    -------
    tensor of shape (batch, steps), of ``z``'s dtype
    """
    observed = ops.cast(mask, z.dtype) > 0
    steps = ops.shape(z)[1]
    index = ops.cast(ops.arange(steps), z.dtype)[None, :] + ops.zeros_like(z)
    # Positions of the observed steps first, in order (missing ones pushed past the end).
    order = ops.argsort(ops.where(observed, index, index + ops.cast(steps, z.dtype)), axis=1)
    n_obs = ops.sum(ops.cast(observed, "int32"), axis=1, keepdims=True)
    seen = ops.cumsum(ops.cast(observed, "int32"), axis=1)  # observed steps up to t
    last = ops.maximum(n_obs - 1, 0)
    # The observed step at or before t (or the first one), and the one after t (or the last).
    before = ops.take_along_axis(order, ops.clip(seen - 1, 0, last), axis=1)
    after = ops.take_along_axis(order, ops.minimum(seen, last), axis=1)
    z_before = ops.take_along_axis(z, before, axis=1)
    z_after = ops.take_along_axis(z, after, axis=1)
    t_before = ops.cast(before, z.dtype)
    span = ops.cast(after, z.dtype) - t_before
    weight = ops.where(span > 0, (index - t_before) / ops.maximum(span, 1.0), 0.0)
    weight = ops.clip(weight, 0.0, 1.0)  # before the first observed step: its value
    filled = z_before + weight * (z_after - z_before)
    filled = ops.where(n_obs > 0, filled, ops.zeros_like(z))
    return ops.where(observed, z, filled)
