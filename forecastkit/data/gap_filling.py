"""Gaps inside a window, filled in the graph: a function and a Keras layer.

A network trained with ``missing="mask"`` reads every history step, a missing one included, so
that time keeps its pace (skipping a step would shift every later step's place in the season
and the trend). What it reads at a missing step is filled by :func:`interpolate_gaps` (as
:func:`gap_plan` and :func:`apply_gap_plan`, which find the gaps once for both of its fills)
inside :class:`~forecastkit.data.normalization.WindowNormalizer` (``interpolate_gaps=True``),
so that training, ``predict`` and the SavedModel fill alike, and the network is also told
which steps were filled (the mask, read beside the value). The filled values never enter the
loss.

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

# A gap this many seasons long or longer is filled from the neighbouring cycles. Read from
# this module at call time (experiments/gap_statistics.py scans it by setting it here).
from forecastkit.data.gap_rule import LONG_GAP_SEASONS

__all__ = ["GapInterpolation", "interpolate_gaps", "gap_plan", "apply_gap_plan",
           "LONG_GAP_SEASONS"]



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

    See Also
    --------
    gap_plan, apply_gap_plan : the same in two parts, to fill several arrays that share one mask
        while finding its gaps once.
    """
    return apply_gap_plan(z, gap_plan(mask, season_length, z.dtype, steps=z.shape[1]))


def gap_plan(mask, season_length: int = 1, dtype="float32", steps: int | None = None) -> dict:
    """Where each missing step's fill comes from, found once for a mask.

    Finding every gap's neighbours sorts the mask (once along the window, once along each
    season position); :func:`apply_gap_plan` then only gathers and blends. A caller that fills
    several arrays under one mask (:class:`~forecastkit.data.normalization.WindowNormalizer`
    fills the raw window, then the deseasonalised one) pays for the sorting once. (In a traced
    graph TensorFlow's optimiser already merges two identical sorts; eagerly it does not, and
    the plan says in the code what would otherwise rest on the optimiser.)

    Parameters
    ----------
    mask : tensor of shape (batch, steps)
        1 (or True) where observed. Gaps here are missing steps inside a window, not missing
        time stamps (:func:`forecastkit.data.fill_gaps`).
    season_length : int
        Seasonal period of the steps; 1 fills every gap linearly.
    dtype : str
        Floating dtype of the arrays the plan will fill.
    steps : int, optional
        The window's length when the mask's is not known while the graph is built (the
        seasonal fill needs it; without it every gap is filled linearly). Default: the
        mask's static length.

    Returns
    -------
    dict of tensors
        Opaque to callers: pass it to :func:`apply_gap_plan`.
    """
    observed = ops.cast(mask, dtype) > 0
    plan = {"observed": observed, "linear": _linear_plan(observed, dtype)}
    steps = steps if steps is not None else mask.shape[1]
    m = int(season_length)
    if m >= 2 and steps is not None and steps > m:
        cycles = -(-steps // m)
        pad = cycles * m - steps
        columns = _by_position(ops.pad(ops.cast(observed, dtype), [[0, 0], [pad, 0]]) > 0,
                               cycles, m)
        position_seen = ops.any(columns, axis=1, keepdims=True) & ops.ones_like(columns)
        gap_length = plan["linear"]["gap_length"]
        long_gap = (ops.cast(gap_length, dtype) >= LONG_GAP_SEASONS * m) & _back(
            position_seen, cycles, m, pad)
        plan.update(season=(cycles, m, pad), by_position=_linear_plan(columns, dtype),
                    long_gap=long_gap)
    return plan


def apply_gap_plan(z, plan: dict):
    """Fill the missing steps of ``z`` as :func:`interpolate_gaps` does, by a :func:`gap_plan`.

    Parameters
    ----------
    z : tensor of shape (batch, steps), floating, of the plan's dtype
    plan : dict
        From :func:`gap_plan` on ``z``'s mask.

    Returns
    -------
    tensor of shape (batch, steps): ``z`` where observed, the fill where missing.
    """
    filled = _linear_apply(z, plan["linear"])
    if "season" in plan:
        cycles, m, pad = plan["season"]
        columns = _by_position(ops.pad(z, [[0, 0], [pad, 0]]), cycles, m)
        by_position = _back(_linear_apply(columns, plan["by_position"]), cycles, m, pad)
        filled = ops.where(plan["long_gap"], by_position, filled)
    return ops.where(plan["observed"], z, filled)


def _linear_plan(observed, dtype) -> dict:
    """The straight-line fill's sources for each row of ``observed`` (batch, steps), bool.

    ``before``/``after`` (int): the observed step at or before each step (or the first one)
    and the one after it (or the last one); ``weight``: how far along the line between them;
    ``any``: whether the row has an observed step (a row without one fills with zeros);
    ``gap_length`` (int32): the number of missing steps in a row around each missing step, up
    to the window's edge for a gap at either end (0 where observed).
    """
    steps = ops.shape(observed)[1]
    index = ops.cast(ops.arange(steps), dtype)[None, :] + ops.zeros_like(
        ops.cast(observed, dtype))
    # Positions of the observed steps first, in order (missing ones pushed past the end).
    order = ops.argsort(ops.where(observed, index, index + ops.cast(steps, dtype)), axis=1)
    n_obs = ops.sum(ops.cast(observed, "int32"), axis=1, keepdims=True)
    seen = ops.cumsum(ops.cast(observed, "int32"), axis=1)  # observed steps up to t
    last = ops.maximum(n_obs - 1, 0)
    before = ops.take_along_axis(order, ops.clip(seen - 1, 0, last), axis=1)
    after = ops.take_along_axis(order, ops.minimum(seen, last), axis=1)
    t_before = ops.cast(before, dtype)
    span = ops.cast(after, dtype) - t_before
    weight = ops.where(span > 0, (index - t_before) / ops.maximum(span, 1.0), 0.0)
    weight = ops.clip(weight, 0.0, 1.0)  # before the first observed step: its value
    # The gap's edges: the observed step before it (-1 at the start), the one after it
    # (``steps`` at the end).
    edge_before = ops.where(seen > 0, ops.cast(before, "int32"), -1)
    edge_after = ops.where(seen < n_obs, ops.cast(after, "int32"), ops.cast(steps, "int32"))
    gap_length = ops.where(observed, 0, edge_after - edge_before - 1)
    return {"before": before, "after": after, "weight": weight, "any": n_obs > 0,
            "gap_length": gap_length}


def _linear_apply(z, plan: dict):
    """Each row's straight-line fill by its :func:`_linear_plan` (shape of ``z``)."""
    z_before = ops.take_along_axis(z, plan["before"], axis=1)
    z_after = ops.take_along_axis(z, plan["after"], axis=1)
    filled = z_before + plan["weight"] * (z_after - z_before)
    return ops.where(plan["any"], filled, ops.zeros_like(z))


# A window left-padded to whole cycles, seen as a (cycles, m) grid: a column is one season
# position, so the linear fill along a column fills from the neighbouring cycles.
def _by_position(a, cycles: int, m: int):
    """(batch, cycles * m) -> (batch * m, cycles), one row per season position."""
    return ops.reshape(ops.transpose(ops.reshape(a, (-1, cycles, m)), (0, 2, 1)), (-1, cycles))


def _back(a, cycles: int, m: int, pad: int):
    """:func:`_by_position`'s inverse, dropping the left padding: (batch, cycles * m - pad)."""
    return ops.reshape(ops.transpose(ops.reshape(a, (-1, m, cycles)), (0, 2, 1)),
                       (-1, cycles * m))[:, pad:]
