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

from forecastkit.data.gap_filling import GapInterpolation
from forecastkit.data.normalization import ForecastDenormalizer, WindowNormalizer
from forecastkit.layers import recurrent_stack

__all__ = ["SeasonalPosition", "CovariateScaler", "CovariateLayout", "build_member",
           "build_serving_model", "serve_batch"]

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


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CovariateScaler(keras.layers.Layer):
    """Standardise covariates with statistics fixed at fit: ``(x - mean) / std`` on the last
    axis. Part of the member, so training, ``predict`` and the SavedModel scale alike.

    Parameters
    ----------
    mean, std : list of float
        One per covariate column (std > 0; columns left as they are have mean 0, std 1).
    """

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(v) for v in mean]
        self.std = [float(v) for v in std]

    def call(self, x):
        mean = ops.convert_to_tensor(self.mean, dtype=self.compute_dtype)
        std = ops.convert_to_tensor(self.std, dtype=self.compute_dtype)
        return (ops.cast(x, self.compute_dtype) - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}


class CovariateLayout:
    """How a member reads covariates: column counts and the scaling of each kind.

    Attributes
    ----------
    past, future, static : (list of float, list of float)
        ``(mean, std)`` per column of ``past_cov``, ``future_cov`` and ``static``; empty
        lists when the kind is absent.
    """

    def __init__(self, past=((), ()), future=((), ()), static=((), ())):
        self.past = (list(past[0]), list(past[1]))
        self.future = (list(future[0]), list(future[1]))
        self.static = (list(static[0]), list(static[1]))

    @property
    def dims(self) -> tuple[int, int, int]:
        return len(self.past[0]), len(self.future[0]), len(self.static[0])

    def to_dict(self) -> dict:
        return {"past": self.past, "future": self.future, "static": self.static}

    @classmethod
    def from_dict(cls, d: dict | None) -> CovariateLayout:
        return cls() if not d else cls(d["past"], d["future"], d["static"])


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
    head=None,
    covariates: CovariateLayout | None = None,
    observed_indicator: bool = False,
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
    head : forecastkit.forecasters._heads.Head, optional
        What the network emits a step (default: one point value).
    covariates : CovariateLayout, optional
        Past covariates are read beside the value at every history step; the statics (and,
        for the direct and recursive strategies, the future-known covariates of the horizon,
        one step for a recursive member) join the recurrent stack's last state through a ReLU
        layer and a linear skip; the seq2seq decoder reads each horizon step's future-known
        covariates beside the context.
    observed_indicator : bool
        For data with missing values inside the histories. A missing step's value is the
        window interpolated across the gap (:class:`~forecastkit.data.gap_filling.
        GapInterpolation`), the mask is read as a feature beside each value (1 observed, 0
        filled), and only the left padding before a window's first observed step is masked
        from the recurrence. A missing step inside the history still advances the state, so
        time keeps its pace: skipping it, as padding is skipped, would shift every later
        step's place in the season and the trend by one.

    Returns
    -------
    keras.Model
        Inputs ``{"z": (batch, lookback), "mask": (batch, lookback), "position": (batch,)}``
        (``position`` only with ``season_length > 1``; ``mask`` 1/True where observed), plus
        ``past_cov`` (batch, lookback, n_past), ``future_cov`` (batch, steps, n_future)
        and ``static`` (batch, n_static) when the layout has them; output
        ``(batch, steps)`` for a point head, ``(batch, steps, n_params)`` for a probabilistic
        one, with ``steps`` the horizon (1 for ``recursive``).
    """
    z_in = keras.Input((lookback,), name="z")
    mask_in = keras.Input((lookback,), name="mask")
    inputs = {"z": z_in, "mask": mask_in}
    if observed_indicator:
        # A gap's value: the window interpolated across it (it is deseasonalised already).
        feats = ops.expand_dims(GapInterpolation(name="gap_interpolation")([z_in, mask_in]), -1)
    else:
        feats = ops.expand_dims(z_in, -1)
    if season_length > 1:
        position = keras.Input((), dtype="int32", name="position")
        inputs["position"] = position
        onehot = SeasonalPosition(lookback, season_length)(position)
        feats = ops.concatenate([feats, onehot], axis=-1)
    layout = covariates or CovariateLayout()
    n_past, n_future, n_static = layout.dims
    if n_past:
        past = keras.Input((lookback, n_past), name="past_cov")
        inputs["past_cov"] = past
        feats = ops.concatenate([feats, CovariateScaler(*layout.past, name="past_scaler")(past)],
                                axis=-1)
    if observed_indicator:
        feats = ops.concatenate([feats, ops.expand_dims(mask_in, -1)], axis=-1)
        # Steps from the first observed one on are live; only the padding before it is masked.
        mask = ops.cumsum(mask_in, axis=1) > 0
    else:
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
    n_raw = 1 if head is None or not head.probabilistic else head.n_raw
    steps = 1 if strategy == "recursive" else horizon
    joined, future_steps = [x], None
    if n_future:
        future = keras.Input((steps, n_future), name="future_cov")
        inputs["future_cov"] = future
        future_steps = CovariateScaler(*layout.future, name="future_scaler")(future)
        if strategy != "seq2seq":  # the decoder reads them step by step instead
            joined.append(keras.layers.Flatten()(future_steps))
    if n_static:
        static = keras.Input((n_static,), name="static")
        inputs["static"] = static
        joined.append(CovariateScaler(*layout.static, name="static_scaler")(static))
    if len(joined) > 1:
        # A linear path lets a covariate move each forecast step directly (a promotion lifts
        # its own day); the ReLU layer lets it interact with the history's state.
        x = ops.concatenate(joined, axis=-1)
        hidden = keras.layers.Dense(int(units[-1]), activation="relu", name="covariate_mix")(x)
        x = ops.concatenate([x, hidden], axis=-1)
    if strategy == "seq2seq":
        # Encoder-decoder: the context vector is repeated over the horizon and a decoder
        # recurrent layer unrolls it, one output per forecast step.
        dec_in = keras.layers.RepeatVector(horizon)(x)
        if future_steps is not None:  # each decoder step also reads its own covariates
            dec_in = ops.concatenate([dec_in, future_steps], axis=-1)
        decoder = recurrent_stack(
            cell=cell, units=(units[-1],), bidirectional=False, return_sequences=True
        )
        for layer in decoder:
            dec_in = layer(dec_in)
        # Dense acts on the last axis of (batch, horizon, units) directly. TimeDistributed is
        # avoided: when the time axis' static size is unknown (the fused loop's output) Keras 3
        # vectorizes over arange(batch) instead of arange(timesteps) and fails for batch > horizon.
        out = keras.layers.Dense(n_raw, name="head")(dec_in)
        out = keras.layers.Reshape((horizon, n_raw))(out)
    else:
        out = keras.layers.Dense(steps * n_raw, name="head")(x)
        if head is not None and head.probabilistic:
            out = keras.layers.Reshape((steps, n_raw))(out)
    if head is not None and head.probabilistic:
        out = head.params_layer()(out)
    elif strategy == "seq2seq":
        out = keras.layers.Reshape((horizon,))(out)
    return keras.Model(inputs, out, name=name)


def member_view(lookback: int, strategy: str):
    """A tf.data step: normalised full windows -> one member's inputs and targets.

    The pipeline normalises each window over its full length (the level and the seasonal
    component need more history than a member may read); a member reads its last ``lookback``
    steps, and a recursive member learns only the first target step.
    """

    def view(inputs: dict, targets):
        out = {"z": inputs["z"][:, -lookback:], "mask": inputs["mask"][:, -lookback:]}
        for key in ("position", "static"):
            if key in inputs:
                out[key] = inputs[key]
        if "future_cov" in inputs:  # a recursive member reads its one step's
            out["future_cov"] = inputs["future_cov"][:, :1] if strategy == "recursive" \
                else inputs["future_cov"]
        if "past_cov" in inputs:
            out["past_cov"] = inputs["past_cov"][:, -lookback:]
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
    head=None,
    levels=None,
    covariate_dims: tuple[int, int, int] = (0, 0, 0),
) -> keras.Model:
    """Raw history (and mask, and seasonal position) -> forecasts of the ensemble.

    Every window is normalised once over its full length, with the same layer the training
    pipeline maps over its batches; each member then reads its last ``lookback`` steps.

    Inputs: ``history`` (batch, window) float32 in original units, left padded;
    ``mask`` (batch, window) float32, 1 where observed; ``position`` (batch,) int32, the
    seasonal position of the first forecast step (only when ``use_position``); with
    ``covariate_dims`` ``(n_past, n_future, n_static)``: ``past_cov`` (batch, window, n_past)
    aligned with ``history`` (0 where padded), ``future_cov`` (batch, horizon, n_future) and
    ``static`` (batch, n_static), in original units (the members scale them).
    Output: ``forecast`` (batch, horizon) in original units, the median over members of each
    member's median forecast. With ``levels`` (a probabilistic ``head``, direct or seq2seq),
    outputs ``{"forecast", "quantiles"}``, ``quantiles`` of shape (batch, horizon, n_levels):
    each member's quantiles at ``levels``, averaged over members (averaging quantile functions).
    """
    history = keras.Input((window,), name="history")
    mask = keras.Input((window,), name="mask")
    inputs = {"history": history, "mask": mask}
    position = None
    if use_position:
        position = keras.Input((), dtype="int32", name="position")
        inputs["position"] = position
    n_past, n_future, n_static = covariate_dims
    extra = {}
    if n_past:
        extra["past_cov"] = keras.Input((window, n_past), name="past_cov")
    if n_future:
        extra["future_cov"] = keras.Input((horizon, n_future), name="future_cov")
    if n_static:
        extra["static"] = keras.Input((n_static,), name="static")
    inputs.update(extra)
    normalizer = WindowNormalizer(**{**normalizer_config, "horizon": horizon}, name="normalizer")
    denorm = ForecastDenormalizer(log=normalizer.log, name="denormalizer")
    probabilistic = head is not None and head.probabilistic
    forecasts, quantiles = [], []
    for member, lb in zip(members, lookbacks, strict=True):
        if strategy == "recursive":
            forecasts.append(_recursive_loop(member, normalizer, denorm, history, mask,
                                             position, horizon, lb, head, extra))
            continue
        z, level, scale, seasonal = normalizer([history, mask])
        params = member(_member_inputs(z, mask, position, lb, extra))
        z_pred = head.median(params) if probabilistic else params
        forecasts.append(denorm([z_pred, level, scale, seasonal]))
        if levels is not None:
            q = head.quantiles(params, levels, df=_degrees_of_freedom(member, head))
            quantiles.append(denorm([q, level, scale, seasonal]))
    if len(forecasts) == 1:
        out = forecasts[0]
    else:
        out = ops.median(ops.stack(forecasts, axis=0), axis=0)
    out = keras.layers.Identity(name="forecast")(out)
    if levels is None:
        return keras.Model(inputs, out, name="forecastkit_serving")
    q_out = quantiles[0] if len(quantiles) == 1 else ops.mean(ops.stack(quantiles, 0), axis=0)
    q_out = keras.layers.Identity(name="quantiles")(q_out)
    return keras.Model(inputs, {"forecast": out, "quantiles": q_out}, name="forecastkit_serving")


def serve_batch(model, inputs):
    """The serving model's output for one batch of series.

    ``predict_on_batch`` (one compiled call) for a model used without a ``tf.distribute``
    strategy. A model built under a strategy of several replicas (``RNNForecaster.fit`` called
    inside ``strategy.scope()``) is called directly instead: Keras' ``predict_on_batch`` hands
    the whole batch to every replica and concatenates their outputs, so each series would come
    back once per replica.
    """
    if model.distribute_strategy.num_replicas_in_sync > 1:
        return model(inputs, training=False)
    return model.predict_on_batch(inputs)


def _degrees_of_freedom(member, head) -> float | None:
    if head.kind != "student_t":
        return None
    return member.get_layer("distribution").degrees_of_freedom()


def _member_inputs(z, mask, position, lookback: int, covariates: dict | None = None) -> dict:
    window = z.shape[1]
    out = {"z": z[:, window - lookback :], "mask": mask[:, window - lookback :]}
    if position is not None:
        out["position"] = position
    for key, tensor in (covariates or {}).items():
        out[key] = tensor[:, window - lookback :] if key == "past_cov" else tensor
    return out


def recursive_step_covariates(covariates: dict, k: int) -> dict:
    """A recursive member's covariate inputs for forecast step ``k``: its past window as it
    stands and step ``k`` of ``future_cov``."""
    out = dict(covariates)
    if "future_cov" in out:
        out["future_cov"] = out["future_cov"][:, k : k + 1]
    return out


def advance_past_covariates(covariates: dict, k: int) -> dict:
    """The covariates after forecast step ``k`` joins the history: the past window drops its
    oldest step and appends step ``k`` of the future-known ones (a recursive network reads
    only those, so the two hold the same columns in the same order)."""
    if "past_cov" not in covariates:
        return covariates
    past, future = covariates["past_cov"], covariates["future_cov"]
    return {**covariates,
            "past_cov": ops.concatenate([past[:, 1:], future[:, k : k + 1]], axis=1)}


def _recursive_loop(member, normalizer, denorm, h, m, position, horizon, lookback, head=None,
                    covariates: dict | None = None):
    """Feed one-step forecasts (medians) back ``horizon`` times; the window is re-normalised
    each step, exactly as the training windows were, and with covariates its past window
    moves on with the future-known values of each step fed back."""
    steps, covariates = [], covariates or {}
    for k in range(horizon):
        z, level, scale, seasonal = normalizer([h, m])
        pos_k = None if position is None else position + k
        z_pred = member(_member_inputs(z, m, pos_k, lookback,
                                       recursive_step_covariates(covariates, k)))
        if head is not None and head.probabilistic:
            z_pred = head.median(z_pred)
        y = denorm([z_pred, level, scale, seasonal])
        steps.append(y)
        h = ops.concatenate([h[:, 1:], y], axis=1)
        m = ops.concatenate([m[:, 1:], ops.ones_like(y)], axis=1)
        covariates = advance_past_covariates(covariates, k)
    return ops.concatenate(steps, axis=1)
