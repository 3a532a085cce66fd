"""Recurrent cells (one time step) written from their equations, as Keras 3 layers.

Each cell follows Keras' cell protocol: ``call(inputs, states, training) -> (output, new_states)``
with ``state_size`` and ``output_size``, so it runs inside ``keras.layers.RNN`` and
``keras.layers.Bidirectional``. Weights are named and laid out as Keras lays them out
(``kernel`` of shape ``(features, gates * units)``, ``recurrent_kernel`` of shape
``(units, gates * units)``, ``bias``; gates in Keras' order), so
``ours.set_weights(keras_layer.get_weights())`` exchanges weights in both directions.

Dropout uses one input mask and one recurrent mask per batch, shared by every time step and every
gate (the "tied" variational dropout of Gal & Ghahramani); Keras draws one mask per gate when
``recurrent_dropout > 0``. With dropout off the cells compute exactly what Keras' cells compute.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import activations, constraints, initializers, ops, regularizers

from forecastkit._compat import dropout_rnn_cell_class
from forecastkit.exceptions import InvalidInputError

__all__ = ["SimpleRNNCell", "LSTMCell", "GRUCell"]

_PACKAGE = "forecastkit"

# Keras' RNN layer pre-draws dropout masks before its loop only for cells that derive from this
# mixin; drawing them inside a tf.while_loop instead would leak a loop tensor.
_DropoutRNNCell: Any = dropout_rnn_cell_class()

_UNITS_DOC = """units : int
    Size of the hidden state (and of the output)."""

_SHARED_DOC = """activation : str or callable
    Activation of the candidate / output, ``"tanh"`` by default.
use_bias : bool
    Whether the cell has a bias.
kernel_initializer, recurrent_initializer, bias_initializer : str or keras.Initializer
    Initializers of ``kernel``, ``recurrent_kernel`` and ``bias``.
kernel_regularizer, recurrent_regularizer, bias_regularizer : str, keras.Regularizer or None
    Penalties added to the model loss.
kernel_constraint, recurrent_constraint, bias_constraint : str, keras.Constraint or None
    Projections applied after each optimizer step.
dropout, recurrent_dropout : float in [0, 1]
    Fraction of input features / hidden units dropped while training.
seed : int or None
    Seed of the dropout masks.
**kwargs
    Arguments of ``keras.layers.Layer`` (``name``, ``dtype``...)."""

_GATE_DOC = """recurrent_activation : str or callable
    Gate activation, ``"sigmoid"`` by default."""


class _RecurrentCell(keras.layers.Layer, _DropoutRNNCell):
    __doc__ = f"""Arguments, weights and config shared by the three cells.

Parameters
----------
{_UNITS_DOC}
{_SHARED_DOC}

Raises
------
InvalidInputError
    ``units`` is not a positive integer.
"""

    n_gates = 1

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise InvalidInputError(f"units must be a positive integer, got {units!r}")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size: Any = units
        self.output_size = units

    # -- weights ---------------------------------------------------------------------------------
    def _bias_shape(self) -> tuple[int, ...]:
        return (self.n_gates * self.units,)

    def _bias_init(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        width = self.n_gates * self.units
        self.kernel = self.add_weight(
            shape=(input_shape[-1], width),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias: Any = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self._bias_shape(),
                name="bias",
                initializer=self._bias_init(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        super().build(input_shape)

    def _dropped(self, inputs: Any, h_tm1: Any, training: bool) -> tuple[Any, Any]:
        """Apply the (cached, per-batch) dropout masks while training."""
        if training and 0.0 < self.dropout < 1.0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and 0.0 < self.recurrent_dropout < 1.0:
            h_tm1 = h_tm1 * self.get_recurrent_dropout_mask(h_tm1)
        return inputs, h_tm1

    def get_initial_state(self, batch_size: Any = None) -> list[Any]:
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in sizes]

    def get_config(self) -> dict[str, Any]:
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SimpleRNNCell(_RecurrentCell):
    __doc__ = f"""Elman cell: ``h_t = activation(x_t W_x + h_{{t-1}} W_h + b)``.

With ``activation="relu"``, ``recurrent_initializer="identity"`` starts ``W_h`` at the identity
matrix, the IRNN remedy for vanishing gradients (Le, Jaitly & Hinton 2015).

Parameters
----------
{_UNITS_DOC}
{_SHARED_DOC}

Attributes
----------
kernel : Variable of shape (features, units)
recurrent_kernel : Variable of shape (units, units)
bias : Variable of shape (units,), or None without ``use_bias``

Notes
-----
Call: ``inputs`` (batch, features), ``states`` ``[h]`` with h (batch, units), ``training``
-> ``(h, [h])``.
"""

    n_gates = 1

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, Any]:
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_rec = self._dropped(inputs, h_tm1, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_rec, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        h = self.activation(z)
        return h, ([h] if isinstance(states, (list, tuple)) else h)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LSTMCell(_RecurrentCell):
    __doc__ = f"""Long short-term memory cell (Hochreiter & Schmidhuber 1997, with a forget gate).

With ``z = x_t W_x + h_{{t-1}} W_h + b`` split into gates in Keras' order ``i, f, g, o``::

    i, f, o = recurrent_activation(z_i), recurrent_activation(z_f), recurrent_activation(z_o)
    c_t = f * c_{{t-1}} + i * activation(z_g)
    h_t = o * activation(c_t)

Parameters
----------
{_UNITS_DOC}
{_GATE_DOC}
unit_forget_bias : bool
    Start the forget-gate bias at 1 (Jozefowicz et al. 2015) instead of ``bias_initializer``.
{_SHARED_DOC}

Attributes
----------
kernel : Variable of shape (features, 4 * units)
recurrent_kernel : Variable of shape (units, 4 * units)
bias : Variable of shape (4 * units,), or None without ``use_bias``

Notes
-----
Call: ``inputs`` (batch, features), ``states`` ``[h, c]``, each (batch, units), ``training``
-> ``(h, [h, c])``.
"""

    n_gates = 4

    def __init__(
        self,
        units: int,
        recurrent_activation: Any = "sigmoid",
        unit_forget_bias: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def _bias_init(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def forget_one(_shape: Any, *args: Any, **kwargs: Any) -> Any:
            parts = [base((units,), *args, **kwargs), ops.ones((units,), *args, **kwargs),
                     base((2 * units,), *args, **kwargs)]
            return ops.concatenate(parts)

        return forget_one

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, Any]:
        h_tm1, c_tm1 = states[0], states[1]
        inputs, h_rec = self._dropped(inputs, h_tm1, training)
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_rec, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_g, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_g)
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GRUCell(_RecurrentCell):
    __doc__ = f"""Gated recurrent unit (Cho et al. 2014), gates in Keras' order ``z, r, h``.

With ``reset_after=True`` (Keras' and cuDNN's default) the reset gate multiplies the recurrent
projection, and input and recurrent parts keep separate biases::

    z = sigmoid(x W_xz + b_xz + h W_hz + b_hz),  r = sigmoid(x W_xr + b_xr + h W_hr + b_hr)
    n = activation(x W_xh + b_xh + r * (h W_hh + b_hh))
    h_t = z * h_{{t-1}} + (1 - z) * n

With ``reset_after=False`` it is ``n = activation(x W_xh + (r * h) W_hh + b_h)``.

Parameters
----------
{_UNITS_DOC}
{_GATE_DOC}
reset_after : bool
    Reset gate after (True) or before (False) the recurrent matrix product.
{_SHARED_DOC}

Attributes
----------
kernel : Variable of shape (features, 3 * units)
recurrent_kernel : Variable of shape (units, 3 * units)
bias : Variable of shape (2, 3 * units) with ``reset_after`` (row 0 input, row 1 recurrent),
    else (3 * units,); None without ``use_bias``

Notes
-----
Call: ``inputs`` (batch, features), ``states`` ``[h]`` with h (batch, units), ``training``
-> ``(h, [h])``.
"""

    n_gates = 3

    def __init__(
        self,
        units: int,
        recurrent_activation: Any = "sigmoid",
        reset_after: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(units, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def _bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, Any]:
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        inputs, h_rec = self._dropped(inputs, h_tm1, training)
        u = self.units
        x_proj = ops.matmul(inputs, self.kernel)
        if self.reset_after:
            h_proj = ops.matmul(h_rec, self.recurrent_kernel)
            if self.use_bias:
                x_proj = x_proj + self.bias[0]
                h_proj = h_proj + self.bias[1]
            zr = self.recurrent_activation(x_proj[:, : 2 * u] + h_proj[:, : 2 * u])
            z, r = zr[:, :u], zr[:, u:]
            n = self.activation(x_proj[:, 2 * u :] + r * h_proj[:, 2 * u :])
        else:
            if self.use_bias:
                x_proj = x_proj + self.bias
            zr = self.recurrent_activation(
                x_proj[:, : 2 * u] + ops.matmul(h_rec, self.recurrent_kernel[:, : 2 * u])
            )
            z, r = zr[:, :u], zr[:, u:]
            n = self.activation(
                x_proj[:, 2 * u :] + ops.matmul(r * h_rec, self.recurrent_kernel[:, 2 * u :])
            )
        h = z * h_tm1 + (1.0 - z) * n
        return h, ([h] if isinstance(states, (list, tuple)) else h)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
