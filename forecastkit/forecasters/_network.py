"""The Keras networks behind :class:`~forecastkit.forecasters.rnn.RNNForecaster`.

Two kinds of model live here:

* a *member*: the trainable recurrent network, normalised window in, normalised forecast out
  (``(batch, lookback)`` values, a mask and a seasonal position -> ``(batch, horizon)``);
* the *serving model*: raw history in the original units -> forecast in the original units. It
  normalises each window, runs every ensemble member, undoes the normalisation and takes the
  median. ``RNNForecaster.predict`` runs this very model and the SavedModel export wraps it, so
  the two cannot disagree.

Normalisation is per window (:mod:`forecastkit.data.normalization`): the training pipeline maps
the same layer over its batches that the serving model runs on its input.
"""

from __future__ import annotations

import keras
from keras import ops

from forecastkit.data.normalization import ForecastDenormalizer, WindowNormalizer
from forecastkit.layers import recurrent_stack

__all__ = ["SeasonalPosition", "build_member", "build_serving_model"]

_PACKAGE = "forecastkit"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SeasonalPosition(keras.layers.Layer):
    """One-hot seasonal position of every history step, from the position of the first forecast.

    Call on ``position`` of shape ``(batch,)`` or ``(batch, 1)``, integer in ``[0, season_length)``:
    the seasonal position of the first forecast step. Returns ``(batch, lookback, season_length)``.
    """

    def __init__(self, lookback: int, season_length: int, **kwargs):
        super().__init__(**kwargs)
        self.lookback = int(lookback)
        self.season_length = int(season_length)

    def call(self, position):
        position = ops.reshape(ops.cast(position, "int32"), (-1, 1))
        offsets = ops.arange(-self.lookback, 0, dtype="int32")[None, :]
        steps = ops.mod(position + offsets, self.season_length)
        return ops.one_hot(steps, self.season_length, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.lookback, self.season_length)

    def get_config(self):
        return {
            **super().get_config(),
            "lookback": self.lookback,
            "season_length": self.season_length,
        }


def build_member(
    *,
    cell: str,
    units: tuple[int, ...],
    bidirectional: bool,
    lookback: int,
    horizon: int,
    strategy: str,
    dropout: float,
    season_length: int = 1,
    name: str = "member",
) -> keras.Model:
    """The trainable network: a normalised window -> a normalised forecast.

    Parameters
    ----------
    strategy : {"direct", "recursive", "seq2seq"}
        ``direct``: many-to-one stack and a dense head with ``horizon`` outputs.
        ``recursive``: the same with one output (the caller loops).
        ``seq2seq``: encoder stack -> context repeated over the horizon -> decoder recurrent
        layer -> per-step dense output.
    season_length : int
        With ``season_length > 1`` the network also takes ``position`` and reads the one-hot
        seasonal position of every step beside its value.

    Returns
    -------
    keras.Model
        Inputs ``{"z": (batch, lookback), "mask": (batch, lookback), "position": (batch,)}``
        (``position`` only with ``season_length > 1``; ``mask`` 1/True where observed), output
        ``(batch, horizon)`` (``(batch, 1)`` for ``recursive``).
    """
    z_in = keras.Input((lookback,), name="z")
    mask_in = keras.Input((lookback,), name="mask")
    inputs = {"z": z_in, "mask": mask_in}
    feats = ops.expand_dims(z_in, -1)
    if season_length > 1:
        position = keras.Input((), dtype="int32", name="position")
        inputs["position"] = position
        onehot = SeasonalPosition(lookback, season_length)(position)
        feats = ops.concatenate([feats, onehot], axis=-1)
    mask = ops.cast(mask_in, "bool")
    stack = recurrent_stack(
        cell=cell,
        units=tuple(units),
        bidirectional=bidirectional,
        return_sequences=False,
        dropout=dropout,
    )
    x = feats
    for layer in stack:
        # The mask is passed explicitly to every layer; sequence outputs keep the same time axis.
        x = layer(x, mask=mask)
    if strategy == "seq2seq":
        # Encoder-decoder: the context vector is repeated over the horizon and a decoder
        # recurrent layer unrolls it, one output per forecast step.
        dec_in = keras.layers.RepeatVector(horizon)(x)
        decoder = recurrent_stack(
            cell=cell, units=(units[-1],), bidirectional=False, return_sequences=True
        )
        for layer in decoder:
            dec_in = layer(dec_in)
        # Dense acts on the last axis of (batch, horizon, units) directly. TimeDistributed is
        # avoided: when the time axis' static size is unknown (the fused loop's output) Keras 3
        # vectorizes over arange(batch) instead of arange(timesteps) and fails for batch > horizon.
        out = keras.layers.Dense(1, name="head")(dec_in)
        out = keras.layers.Reshape((horizon,))(out)
    else:
        n_out = 1 if strategy == "recursive" else horizon
        out = keras.layers.Dense(n_out, name="head")(x)
    return keras.Model(inputs, out, name=name)


def member_view(lookback: int, strategy: str):
    """A tf.data step: normalised full windows -> one member's inputs and targets.

    The pipeline normalises each window over its full length (the level and the seasonal
    component need more history than a member may read); a member reads its last ``lookback``
    steps, and a recursive member learns only the first target step.
    """

    def view(inputs: dict, targets):
        out = {"z": inputs["z"][:, -lookback:], "mask": inputs["mask"][:, -lookback:]}
        if "position" in inputs:
            out["position"] = inputs["position"]
        return out, (targets[:, :1] if strategy == "recursive" else targets)

    return view


def build_serving_model(
    members: list[keras.Model],
    lookbacks: list[int],
    *,
    window: int,
    horizon: int,
    normalizer_config: dict,
    strategy: str,
    use_position: bool,
) -> keras.Model:
    """Raw history (and mask, and seasonal position) -> median forecast of the members.

    Every window is normalised once over its full length, with the same layer the training
    pipeline maps over its batches; each member then reads its last ``lookback`` steps.

    Inputs: ``history`` (batch, window) float32 in original units, left padded;
    ``mask`` (batch, window) float32, 1 where observed; ``position`` (batch,) int32, the
    seasonal position of the first forecast step (only when ``use_position``).
    Output: ``forecast`` (batch, horizon) in original units.
    """
    history = keras.Input((window,), name="history")
    mask = keras.Input((window,), name="mask")
    inputs = {"history": history, "mask": mask}
    position = None
    if use_position:
        position = keras.Input((), dtype="int32", name="position")
        inputs["position"] = position
    normalizer = WindowNormalizer(**{**normalizer_config, "horizon": horizon}, name="normalizer")
    denorm = ForecastDenormalizer(log=normalizer.log, name="denormalizer")
    forecasts = []
    for member, lb in zip(members, lookbacks, strict=True):
        if strategy == "recursive":
            forecasts.append(
                _recursive_loop(member, normalizer, denorm, history, mask, position, horizon, lb)
            )
        else:
            z, level, scale, seasonal = normalizer([history, mask])
            z_pred = member(_member_inputs(z, mask, position, lb))
            forecasts.append(denorm([z_pred, level, scale, seasonal]))
    if len(forecasts) == 1:
        out = forecasts[0]
    else:
        out = ops.median(ops.stack(forecasts, axis=0), axis=0)
    out = keras.layers.Identity(name="forecast")(out)
    return keras.Model(inputs, out, name="forecastkit_serving")


def _member_inputs(z, mask, position, lookback: int) -> dict:
    window = z.shape[1]
    out = {"z": z[:, window - lookback :], "mask": mask[:, window - lookback :]}
    if position is not None:
        out["position"] = position
    return out


def _recursive_loop(member, normalizer, denorm, h, m, position, horizon, lookback):
    """Feed one-step forecasts back ``horizon`` times; the window is re-normalised each step,
    exactly as the training windows were."""
    steps = []
    for k in range(horizon):
        z, level, scale, seasonal = normalizer([h, m])
        pos_k = None if position is None else position + k
        z_pred = member(_member_inputs(z, m, pos_k, lookback))
        y = denorm([z_pred, level, scale, seasonal])
        steps.append(y)
        h = ops.concatenate([h[:, 1:], y], axis=1)
        m = ops.concatenate([m[:, 1:], ops.ones_like(y)], axis=1)
    return ops.concatenate(steps, axis=1)
