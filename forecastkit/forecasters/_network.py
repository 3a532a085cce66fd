"""The Keras networks behind :class:`~forecastkit.forecasters.rnn.RNNForecaster`.

Two kinds of model live here:

* a *member*: the trainable recurrent network, normalised window in, normalised forecast out
  (``(batch, lookback, features)`` and a mask -> ``(batch, horizon)``);
* the *serving model*: raw history in the original units -> forecast in the original units. It
  normalises each window, runs every ensemble member, undoes the normalisation and takes the
  median. ``RNNForecaster.predict`` runs this very model and the SavedModel export wraps it, so
  the two cannot disagree.

Normalisation is per window: an optional log, then the level of the window (the mean of its last
``level_window`` observed values) is subtracted and, without log, divided by the window's mean
absolute deviation from it. A model that sees only such windows is a pure function of the recent
history, which is what makes one global model work across series of very different scales.
"""

from __future__ import annotations

import keras
from keras import ops

from forecastkit.layers import recurrent_stack

__all__ = [
    "WindowNormalizer",
    "SeasonalPosition",
    "ForecastDenormalizer",
    "build_member",
    "build_serving_model",
]

_PACKAGE = "forecastkit"
# exp() of a normalised log forecast is clipped to this many e-folds around the level, so a wild
# (diverged) member cannot overflow float32 to inf.
_MAX_LOG_RATIO = 20.0


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WindowNormalizer(keras.layers.Layer):
    """Normalise each history window by its own level (and scale).

    Call on ``[history, mask]``: history ``(batch, lookback)`` in original units, mask
    ``(batch, lookback)`` with 1 where observed (padding is on the left). Returns
    ``[z, level, scale]`` with ``z`` of shape ``(batch, lookback)`` (zero where padded) and
    ``level``, ``scale`` of shape ``(batch, 1)``.

    Parameters
    ----------
    log : bool
        Work on ``log(history)`` (for positive, multiplicative data; then ``scale`` is 1).
    level_window : int
        Number of most recent observed values whose mean is the level.
    """

    def __init__(self, log: bool = True, level_window: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.log = bool(log)
        self.level_window = int(level_window)

    def call(self, inputs):
        history, mask = inputs
        mask = ops.cast(mask, self.compute_dtype)
        x = ops.cast(history, self.compute_dtype)
        # Padded slots may hold anything (zeros, NaN-free junk): replace them by 1 before the log.
        x = ops.where(mask > 0, x, ops.ones_like(x))
        if self.log:
            x = ops.log(ops.maximum(x, 1e-8))
        k = min(self.level_window, x.shape[1]) if x.shape[1] is not None else self.level_window
        tail_x, tail_m = x[:, -k:], mask[:, -k:]
        count = ops.maximum(ops.sum(tail_m, axis=1, keepdims=True), 1.0)
        level = ops.sum(tail_x * tail_m, axis=1, keepdims=True) / count
        if self.log:
            scale = ops.ones_like(level)
        else:
            n_obs = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
            mad = ops.sum(ops.abs(x - level) * mask, axis=1, keepdims=True) / n_obs
            # A flat window has no spread: fall back to the level's size, then to 1.
            fallback = ops.where(ops.abs(level) > 1e-8, ops.abs(level), ops.ones_like(level))
            scale = ops.where(mad > 1e-8 * ops.maximum(ops.abs(level), 1.0), mad, fallback)
        z = (x - level) / scale * mask
        return [z, level, scale]

    def normalize_targets(self, future, level, scale):
        """Targets ``(batch, horizon)`` in original units -> normalised space."""
        y = ops.cast(future, self.compute_dtype)
        if self.log:
            y = ops.log(ops.maximum(y, 1e-8))
        return (y - level) / scale

    def compute_output_shape(self, input_shape):
        history_shape = input_shape[0]
        return [history_shape, (history_shape[0], 1), (history_shape[0], 1)]

    def get_config(self):
        return {**super().get_config(), "log": self.log, "level_window": self.level_window}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ForecastDenormalizer(keras.layers.Layer):
    """Undo :class:`WindowNormalizer` on a forecast: ``[z_pred, level, scale]`` -> raw units."""

    def __init__(self, log: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.log = bool(log)

    def call(self, inputs):
        z, level, scale = inputs
        y = z * scale + level
        if self.log:
            y = ops.exp(ops.clip(y - level, -_MAX_LOG_RATIO, _MAX_LOG_RATIO) + level)
        return y

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "log": self.log}


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
    n_features: int,
    strategy: str,
    dropout: float,
    name: str = "member",
) -> keras.Model:
    """The trainable network: normalised window and mask -> normalised forecast.

    Parameters
    ----------
    n_features : int
        Features per step: 1 (the normalised value) plus any seasonal one-hot columns.
    strategy : {"direct", "recursive", "seq2seq"}
        ``direct``: many-to-one stack and a dense head with ``horizon`` outputs.
        ``recursive``: the same with one output (the caller loops).
        ``seq2seq``: encoder stack -> context repeated over the horizon -> decoder recurrent
        layer -> per-step dense output.

    Returns
    -------
    keras.Model
        Inputs ``[z (batch, lookback, n_features), mask (batch, lookback)]``, output
        ``(batch, horizon)`` (``(batch, 1)`` for ``recursive``).
    """
    z_in = keras.Input((lookback, n_features), name="z")
    mask_in = keras.Input((lookback,), dtype="bool", name="mask")
    stack = recurrent_stack(
        cell=cell,
        units=tuple(units),
        bidirectional=bidirectional,
        return_sequences=False,
        dropout=dropout,
    )
    x = z_in
    for layer in stack:
        # The mask is passed explicitly to every layer; sequence outputs keep the same time axis.
        x = layer(x, mask=mask_in)
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
    return keras.Model([z_in, mask_in], out, name=name)


def build_serving_model(
    members: list[keras.Model],
    lookbacks: list[int],
    *,
    horizon: int,
    log: bool,
    level_window: int,
    strategy: str,
    season_length: int,
    use_position: bool,
) -> keras.Model:
    """Raw history (and mask, and seasonal position) -> median forecast of the members.

    Inputs: ``history`` (batch, max_lookback) float32 in original units, left padded;
    ``mask`` (batch, max_lookback) float32, 1 where observed; ``position`` (batch,) int32, the
    seasonal position of the first forecast step (only when ``use_position``).
    Output: ``forecast`` (batch, horizon) in original units.
    """
    max_lb = max(lookbacks)
    history = keras.Input((max_lb,), name="history")
    mask = keras.Input((max_lb,), name="mask")
    inputs = [history, mask]
    position = None
    if use_position:
        position = keras.Input((), dtype="int32", name="position")
        inputs.append(position)
    normalizer = WindowNormalizer(log=log, level_window=level_window, name="normalizer")
    denorm = ForecastDenormalizer(log=log, name="denormalizer")
    forecasts = []
    for member, lb in zip(members, lookbacks, strict=True):
        h, m = history[:, max_lb - lb :], mask[:, max_lb - lb :]
        if strategy == "recursive":
            y = _recursive_loop(member, normalizer, denorm, h, m, position, horizon, lb,
                                season_length, use_position)
        else:
            z, level, scale = normalizer([h, m])
            feats = _features(z, position, lb, season_length, use_position)
            z_pred = member([feats, ops.cast(m, "bool")])
            y = denorm([z_pred, level, scale])
        forecasts.append(y)
    if len(forecasts) == 1:
        out = forecasts[0]
    else:
        out = ops.median(ops.stack(forecasts, axis=0), axis=0)
    out = keras.layers.Identity(name="forecast")(out)
    return keras.Model(inputs, out, name="forecastkit_serving")


def _features(z, position, lookback, season_length, use_position):
    feats = ops.expand_dims(z, -1)
    if use_position:
        onehot = SeasonalPosition(lookback, season_length)(position)
        feats = ops.concatenate([feats, onehot], axis=-1)
    return feats


def _recursive_loop(member, normalizer, denorm, h, m, position, horizon, lookback,
                    season_length, use_position):
    """Feed one-step forecasts back ``horizon`` times; the window is re-normalised each step,
    exactly as the training windows were."""
    steps = []
    for k in range(horizon):
        z, level, scale = normalizer([h, m])
        pos_k = None if position is None else position + k
        feats = _features(z, pos_k, lookback, season_length, use_position)
        y = denorm([member([feats, ops.cast(m, "bool")]), level, scale])
        steps.append(y)
        h = ops.concatenate([h[:, 1:], y], axis=1)
        m = ops.concatenate([m[:, 1:], ops.ones_like(y)], axis=1)
    return ops.concatenate(steps, axis=1)
