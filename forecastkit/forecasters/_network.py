"""The trainable networks behind :class:`~forecastkit.forecasters.rnn.RNNForecaster`.

A *member* is the recurrent network itself: a normalised window in, a normalised forecast out
(``(batch, lookback)`` values, a mask and a seasonal position -> ``(batch, horizon)``), with
its covariate inputs and their scaling. The serving model that wraps the members, raw history
in and forecasts out, is in :mod:`forecastkit.forecasters._serving`.

Normalisation is per window (:mod:`forecastkit.data.normalization`): the training pipeline maps
the same layer over its batches that the serving model runs on its input.
"""

from __future__ import annotations

import keras
from keras import ops

from forecastkit.layers import recurrent_stack

__all__ = ["SeasonalPosition", "CovariateScaler", "CovariateLayout", "build_member",
           "member_inputs", "member_targets", "member_view"]

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
    batch_splits: int | str = 1,
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
        For data with missing values inside the histories. A missing step's value in ``z``
        is the fill of :class:`~forecastkit.data.normalization.WindowNormalizer` (with
        ``interpolate_gaps``), the mask is read as a feature beside each value (1 observed,
        0 filled), and only the left padding before a window's first observed step is masked
        from the recurrence. A missing step inside the history still advances the state, so
        time keeps its pace: skipping it, as padding is skipped, would shift every later
        step's place in the season and the trend by one.
    batch_splits : int or "auto"
        The recurrent layers' ``batch_splits`` (:class:`forecastkit.layers.LSTM`).

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
    # A gap's value arrives filled (WindowNormalizer with interpolate_gaps): filling it again
    # here would undo the seasonal fill of a long gap.
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
        batch_splits=batch_splits,
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
            cell=cell, units=(units[-1],), bidirectional=False, return_sequences=True,
            batch_splits=batch_splits,
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


def member_inputs(inputs: dict, lookback: int, strategy: str) -> dict:
    """One member's inputs from the normalised full windows (tensors or symbolic tensors).

    The pipeline normalises each window over its full length (the level and the seasonal
    component need more history than a member may read); a member reads its last ``lookback``
    steps, and a recursive member the future-known covariates of its one step.
    """
    out = {"z": inputs["z"][:, -lookback:], "mask": inputs["mask"][:, -lookback:]}
    for key in ("position", "static"):
        if key in inputs:
            out[key] = inputs[key]
    if "future_cov" in inputs:
        out["future_cov"] = inputs["future_cov"][:, :1] if strategy == "recursive" \
            else inputs["future_cov"]
    if "past_cov" in inputs:
        out["past_cov"] = inputs["past_cov"][:, -lookback:]
    return out


def member_targets(targets, strategy: str):
    """A member's targets: all horizon steps, or the first alone for a recursive member."""
    return targets[:, :1] if strategy == "recursive" else targets


def member_view(lookback: int, strategy: str):
    """A tf.data step: normalised full windows -> one member's inputs and targets."""

    def view(inputs: dict, targets):
        return member_inputs(inputs, lookback, strategy), member_targets(targets, strategy)

    return view
