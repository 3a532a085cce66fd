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
import numpy as np
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
    """Normalise each history window by its own level (and scale), optionally deseasonalised.

    Call on ``[history, mask]``: history ``(batch, window)`` in original units, mask
    ``(batch, window)`` with 1 where observed (padding is on the left). Returns
    ``[z, level, scale, seasonal]``: ``z`` of shape ``(batch, window)`` (zero where padded),
    ``level`` and ``scale`` of shape ``(batch, 1)``, and ``seasonal`` of shape
    ``(batch, horizon)``, the seasonal component of the forecast steps (zero when the window is
    not seasonal).

    The seasonal component is estimated from the window alone, as the M4 Naive2 benchmark does
    from a whole series: a seasonality test at the 90% level on the autocorrelation at lag
    ``season_length`` (needs ``3 * season_length`` observations), then a classical
    decomposition (centred moving average, mean detrended value per season position), applied
    additively in log space (multiplicatively in the original units).

    Parameters
    ----------
    log : bool
        Work on ``log(history)`` (for positive, multiplicative data; then ``scale`` is 1).
    level_window : int
        Number of most recent (deseasonalised) observed values whose mean is the level.
    season_length : int
        Seasonal period; 1 disables deseasonalisation.
    deseasonalize : bool
        Remove the window's seasonal component (when the window passes the test).
    horizon : int
        Number of forecast steps whose seasonal component is returned.
    normalize : bool
        Subtract the level and divide by the scale. False (``scaler="none"``) keeps the values
        as they are: ``level`` is 0 and ``scale`` 1.
    """

    def __init__(
        self,
        log: bool = True,
        level_window: int = 1,
        season_length: int = 1,
        deseasonalize: bool = False,
        horizon: int = 1,
        normalize: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.normalize = bool(normalize)
        self.log = bool(log)
        self.level_window = int(level_window)
        self.season_length = int(season_length)
        self.deseasonalize = bool(deseasonalize)
        self.horizon = int(horizon)

    def call(self, inputs):
        history, mask = inputs
        mask = ops.cast(mask, self.compute_dtype)
        x = ops.cast(history, self.compute_dtype)
        # Padded slots may hold anything (zeros, junk): replace them by 1 before the log.
        x = ops.where(mask > 0, x, ops.ones_like(x))
        if self.log:
            x = ops.log(ops.maximum(x, 1e-8))
        window = x.shape[1]
        m = self.season_length
        if self.deseasonalize and m > 1 and window is not None and window > 2 * m:
            s_in, s_out = _window_seasonality(x, mask, m, self.horizon)
            x = x - s_in
        else:
            s_out = ops.zeros_like(x[:, :1]) * ops.zeros((1, self.horizon), dtype=x.dtype)
        k = min(self.level_window, window) if window is not None else self.level_window
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
        if not self.normalize:
            level, scale = ops.zeros_like(level), ops.ones_like(level)
        z = (x - level) / scale * mask
        return [z, level, scale, s_out]

    def normalize_targets(self, future, level, scale, seasonal):
        """Targets ``(batch, horizon)`` in original units -> normalised space."""
        y = ops.cast(future, self.compute_dtype)
        if self.log:
            y = ops.log(ops.maximum(y, 1e-8))
        return (y - seasonal[:, : y.shape[1]] - level) / scale

    def compute_output_shape(self, input_shape):
        history_shape = input_shape[0]
        batch = history_shape[0]
        return [history_shape, (batch, 1), (batch, 1), (batch, self.horizon)]

    def get_config(self):
        return {
            **super().get_config(),
            "log": self.log,
            "level_window": self.level_window,
            "season_length": self.season_length,
            "deseasonalize": self.deseasonalize,
            "horizon": self.horizon,
            "normalize": self.normalize,
        }


def _window_seasonality(x, mask, m: int, horizon: int):
    """Seasonal component of each window, for its own steps and the next ``horizon`` steps.

    Parameters
    ----------
    x : tensor of shape (batch, window)
        Values (log values for multiplicative data); anything at padded steps.
    mask : tensor of shape (batch, window)
        1 where observed.

    Returns
    -------
    s_in : tensor of shape (batch, window)
    s_out : tensor of shape (batch, horizon)
    """
    window = x.shape[1]
    dtype = x.dtype
    # Centred moving average: 2 x m for even m (weights 1/2m at both ends), m for odd m.
    weights = np.ones(m + 1 if m % 2 == 0 else m) / m
    if m % 2 == 0:
        weights[0] = weights[-1] = 0.5 / m
    width, half = len(weights), len(weights) // 2
    kernel = ops.convert_to_tensor(weights[:, None, None], dtype=dtype)
    trend = ops.conv((x * mask)[..., None], kernel, padding="valid")[..., 0]
    ones = ops.convert_to_tensor(np.ones((width, 1, 1)), dtype=dtype)
    covered = ops.conv(mask[..., None], ones, padding="valid")[..., 0]
    valid = ops.cast(covered > width - 0.5, dtype)
    detrended = (x[:, half : window - half] - trend) * valid
    # Season position of every step, counted back from the first forecast step (position 0).
    phase = (np.arange(window) - window) % m
    centre = ops.convert_to_tensor(np.eye(m)[phase[half : window - half]], dtype=dtype)
    sums = ops.matmul(detrended, centre)
    counts = ops.matmul(valid, centre)
    profile = sums / ops.maximum(counts, 1.0)
    profile = profile - ops.mean(profile, axis=1, keepdims=True)
    # The M4 seasonality test: |r_m| > 1.645 sqrt((1 + 2 sum_{k<m} r_k^2) / n), n >= 3m.
    n = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
    mean = ops.sum(x * mask, axis=1, keepdims=True) / n
    dev = (x - mean) * mask
    denom = ops.sum(dev * dev, axis=1, keepdims=True) + 1e-12
    acf_sq = ops.zeros_like(denom)
    for k in range(1, m):
        r_k = ops.sum(dev[:, k:] * dev[:, :-k], axis=1, keepdims=True) / denom
        acf_sq = acf_sq + r_k * r_k
    r_m = ops.sum(dev[:, m:] * dev[:, :-m], axis=1, keepdims=True) / denom
    limit = 1.645 * ops.sqrt((1.0 + 2.0 * acf_sq) / n)
    seasonal = (
        ops.cast(ops.abs(r_m) > limit, dtype)
        * ops.cast(n >= 3 * m, dtype)
        * ops.cast(ops.min(counts, axis=1, keepdims=True) >= 1.0, dtype)
    )
    profile = profile * seasonal
    s_in = ops.matmul(profile, ops.convert_to_tensor(np.eye(m)[phase].T, dtype=dtype))
    future = np.eye(m)[np.arange(horizon) % m]
    s_out = ops.matmul(profile, ops.convert_to_tensor(future.T, dtype=dtype))
    return s_in * mask, s_out


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ForecastDenormalizer(keras.layers.Layer):
    """Undo :class:`WindowNormalizer`: ``[z_pred, level, scale, seasonal]`` -> original units."""

    def __init__(self, log: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.log = bool(log)

    def call(self, inputs):
        z, level, scale, seasonal = inputs
        y = z * scale + seasonal[:, : z.shape[1]]
        if self.log:
            y = ops.clip(y, -_MAX_LOG_RATIO, _MAX_LOG_RATIO)
        y = y + level
        return ops.exp(y) if self.log else y

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
    window: int,
    horizon: int,
    normalizer_config: dict,
    strategy: str,
    season_length: int,
    use_position: bool,
) -> keras.Model:
    """Raw history (and mask, and seasonal position) -> median forecast of the members.

    Every window is normalised once over its full length (the level and the seasonal component
    need more history than a member may read); each member then reads its last ``lookback``
    normalised steps.

    Inputs: ``history`` (batch, window) float32 in original units, left padded;
    ``mask`` (batch, window) float32, 1 where observed; ``position`` (batch,) int32, the
    seasonal position of the first forecast step (only when ``use_position``).
    Output: ``forecast`` (batch, horizon) in original units.
    """
    history = keras.Input((window,), name="history")
    mask = keras.Input((window,), name="mask")
    inputs = [history, mask]
    position = None
    if use_position:
        position = keras.Input((), dtype="int32", name="position")
        inputs.append(position)
    normalizer = WindowNormalizer(**{**normalizer_config, "horizon": horizon}, name="normalizer")
    denorm = ForecastDenormalizer(log=normalizer.log, name="denormalizer")
    forecasts = []
    if strategy == "recursive":
        for member, lb in zip(members, lookbacks, strict=True):
            forecasts.append(
                _recursive_loop(member, normalizer, denorm, history, mask, position, horizon, lb,
                                season_length, use_position)
            )
    else:
        z, level, scale, seasonal = normalizer([history, mask])
        for member, lb in zip(members, lookbacks, strict=True):
            feats = _features(z[:, window - lb :], position, lb, season_length, use_position)
            z_pred = member([feats, ops.cast(mask[:, window - lb :], "bool")])
            forecasts.append(denorm([z_pred, level, scale, seasonal]))
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
    window = h.shape[1]
    steps = []
    for k in range(horizon):
        z, level, scale, seasonal = normalizer([h, m])
        pos_k = None if position is None else position + k
        feats = _features(z[:, window - lookback :], pos_k, lookback, season_length, use_position)
        z_pred = member([feats, ops.cast(m[:, window - lookback :], "bool")])
        y = denorm([z_pred, level, scale, seasonal])
        steps.append(y)
        h = ops.concatenate([h[:, 1:], y], axis=1)
        m = ops.concatenate([m[:, 1:], ops.ones_like(y)], axis=1)
    return ops.concatenate(steps, axis=1)
