"""Gaps inside a window, filled in the graph: a function and a Keras layer.

A network trained with ``missing="mask"`` reads every history step, a missing one included, so
that time keeps its pace (skipping a step would shift every later step's place in the season
and the trend). What it reads at a missing step is filled by :func:`interpolate_gaps` inside
:class:`~forecastkit.data.normalization.WindowNormalizer` (``interpolate_gaps=True``), so that
training, ``predict`` and the SavedModel fill alike, and the network is also told which steps
were filled (the mask, read beside the value). The filled values never enter the loss.

The fill depends on the gap's length. A gap of half a season or more (a lost day of hourly
data) takes the same season position of the neighbouring cycles, as
``fill_missing(method="seasonal")`` does; a shorter one the straight line between its
neighbours. The normaliser fills twice: the raw (log) window first, for its level, scale and
seasonal component, then the deseasonalised window, so that a short gap's line keeps the
season's shape.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["GapInterpolation", "interpolate_gaps", "LONG_GAP_SEASONS"]

# A gap this many seasons long or longer is filled from the neighbouring cycles (how it was
# chosen: experiments/results/missing_data/lstm-m4-hourly-seasonfill/README.md).
LONG_GAP_SEASONS = 0.5


@keras.saving.register_keras_serializable(package="forecastkit")
class GapInterpolation(keras.layers.Layer):
    """Fill the missing steps of each window from its observed ones (:func:`interpolate_gaps`).

    Call on ``[z, mask]``, both of shape ``(batch, steps)``: values (anything where missing)
    and 1/0 where observed/missing. Returns ``(batch, steps)``: ``z`` at observed steps; at a
    missing step between two observed ones, the straight line between them (or, for a gap of
    half a season or more, between the same season position of the neighbouring cycles);
    after a window's last observed step, that step's value (carried forward); before its
    first one (left padding), the first observed value (with a season, for a run at either
    end of half a season or more: the nearest observed value of the same position). A window
    with nothing observed comes back as zeros.

    Parameters
    ----------
    season_length : int, default=1
        Seasonal period; 1 fills every gap linearly.
    """

    def __init__(self, season_length: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.season_length = int(season_length)

    def call(self, inputs):
        z, mask = inputs
        return interpolate_gaps(ops.cast(z, self.compute_dtype), mask, self.season_length)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "season_length": self.season_length}


def interpolate_gaps(z, mask, season_length: int = 1):
    """:class:`GapInterpolation`'s computation, for use inside another layer.

    With ``season_length >= 2``, a gap of at least half a season (missing steps in a row ``>=
    LONG_GAP_SEASONS * season_length``) is filled from the same season position of the
    neighbouring cycles (linearly between them, as ``fill_missing(method="seasonal")`` does),
    where that position is observed somewhere in the window: a straight line across a lost day
    of hourly data misses the day's whole swing. Shorter gaps, and every gap without a season,
    are filled by the straight line between their neighbours, which is closer over a few
    steps.

    Parameters
    ----------
    z : tensor of shape (batch, steps), floating
    mask : tensor of shape (batch, steps)
        1 (or True) where observed.
    season_length : int
        Seasonal period of the steps; 1 fills every gap linearly.

    Returns
    -------
    tensor of shape (batch, steps), of ``z``'s dtype
    """
    observed = ops.cast(mask, z.dtype) > 0
    filled, gap_length = _linear_fill(z, observed)
    steps = z.shape[1]
    m = int(season_length)
    if m >= 2 and steps is not None and steps > m:
        by_position, position_seen = _fill_by_season_position(z, observed, m)
        long_gap = (ops.cast(gap_length, z.dtype) >= LONG_GAP_SEASONS * m) & position_seen
        filled = ops.where(long_gap, by_position, filled)
    return ops.where(observed, z, filled)


def _linear_fill(z, observed):
    """Straight-line fill of every row, and the length of the gap each step is in.

    Returns ``filled`` (batch, steps): between two observed steps their line, after the last
    one its value, before the first one the first value, zeros for a row with nothing
    observed; and ``gap_length`` (batch, steps), int32: the number of missing steps in a row
    around each missing step, up to the window's edge for a gap at either end (0 where
    observed).
    """
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
    # The gap's edges: the observed step before it (-1 at the start), the one after it
    # (``steps`` at the end).
    edge_before = ops.where(seen > 0, ops.cast(before, "int32"), -1)
    edge_after = ops.where(seen < n_obs, ops.cast(after, "int32"), ops.cast(steps, "int32"))
    gap_length = ops.where(observed, 0, edge_after - edge_before - 1)
    return filled, gap_length


def _fill_by_season_position(z, observed, m: int):
    """Each season position's own straight-line fill (its steps ``m`` apart), and whether the
    position of each step has an observed value in the row. Shapes (batch, steps)."""
    steps = z.shape[1]
    cycles = -(-steps // m)
    pad = cycles * m - steps
    # Left-pad to whole cycles, so that a column of the (cycles, m) grid is one position.
    zp = ops.pad(z, [[0, 0], [pad, 0]])
    op = ops.pad(ops.cast(observed, z.dtype), [[0, 0], [pad, 0]]) > 0

    def by_position(a):  # (batch, cycles * m) -> (batch * m, cycles)
        return ops.reshape(ops.transpose(ops.reshape(a, (-1, cycles, m)), (0, 2, 1)),
                           (-1, cycles))

    def back(a):  # the inverse, dropping the padding
        return ops.reshape(ops.transpose(ops.reshape(a, (-1, m, cycles)), (0, 2, 1)),
                           (-1, cycles * m))[:, pad:]

    columns = by_position(op)
    filled, _ = _linear_fill(by_position(zp), columns)
    seen = ops.any(columns, axis=1, keepdims=True) & ops.ones_like(columns)
    return back(filled), back(seen)
