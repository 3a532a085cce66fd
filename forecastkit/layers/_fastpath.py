"""Fused TensorFlow loops for the sequence layers (the fast path).

Keras' generic ``RNN`` calls the cell once per time step, so every step multiplies the inputs
by ``kernel``, adds the bias and reads each weight variable again. Here the input projection of
all time steps is one matrix product before the loop, ``(batch * timesteps, features) @ kernel``,
the weights are read once, and each step does one fused recurrent product and the gate
arithmetic. The loop is a ``tf.while_loop`` over ``TensorArray`` s (XLA compiles it as one
``While``), and masked steps keep their state with a ``where`` select, as Keras does.

The result has the contract of ``keras.src.backend.tensorflow.rnn.rnn``:
``(last_output, outputs, new_states)`` with outputs in processing order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

StepFn = Callable[[Any, list[Any]], list[Any]]


def _simple_rnn(cell: Any, rec_mask: Any) -> tuple[Any, Any, StepFn]:
    recurrent = tf.convert_to_tensor(cell.recurrent_kernel)
    act = cell.activation

    def step(xp_t: Any, states: list[Any]) -> list[Any]:
        h = states[0] if rec_mask is None else states[0] * rec_mask
        return [act(xp_t + tf.matmul(h, recurrent))]

    bias = None if cell.bias is None else tf.convert_to_tensor(cell.bias)
    return tf.convert_to_tensor(cell.kernel), bias, step


def _lstm(cell: Any, rec_mask: Any) -> tuple[Any, Any, StepFn]:
    recurrent = tf.convert_to_tensor(cell.recurrent_kernel)
    act, gate = cell.activation, cell.recurrent_activation

    def step(xp_t: Any, states: list[Any]) -> list[Any]:
        h, c = states
        if rec_mask is not None:
            h = h * rec_mask
        z_i, z_f, z_g, z_o = tf.split(xp_t + tf.matmul(h, recurrent), 4, axis=1)
        c = gate(z_f) * c + gate(z_i) * act(z_g)
        return [gate(z_o) * act(c), c]

    bias = None if cell.bias is None else tf.convert_to_tensor(cell.bias)
    return tf.convert_to_tensor(cell.kernel), bias, step


def _gru(cell: Any, rec_mask: Any) -> tuple[Any, Any, StepFn]:
    units = cell.units
    recurrent = tf.convert_to_tensor(cell.recurrent_kernel)
    act, gate = cell.activation, cell.recurrent_activation
    bias = None if cell.bias is None else tf.convert_to_tensor(cell.bias)
    in_bias, rec_bias = bias, None
    if cell.reset_after and bias is not None:
        in_bias, rec_bias = bias[0], bias[1]

    if cell.reset_after:

        def step(xp_t: Any, states: list[Any]) -> list[Any]:
            h = states[0]
            hr = h if rec_mask is None else h * rec_mask
            m = tf.matmul(hr, recurrent)
            if rec_bias is not None:
                m = m + rec_bias
            x_zr, x_n = tf.split(xp_t, [2 * units, units], axis=1)
            m_zr, m_n = tf.split(m, [2 * units, units], axis=1)
            z, r = tf.split(gate(x_zr + m_zr), 2, axis=1)
            n = act(x_n + r * m_n)
            # z * h + (1 - z) * n with one product fewer
            return [n + z * (h - n)]

    else:
        rec_zr, rec_n = recurrent[:, : 2 * units], recurrent[:, 2 * units :]

        def step(xp_t: Any, states: list[Any]) -> list[Any]:
            h = states[0]
            hr = h if rec_mask is None else h * rec_mask
            x_zr, x_n = tf.split(xp_t, [2 * units, units], axis=1)
            z, r = tf.split(gate(x_zr + tf.matmul(hr, rec_zr)), 2, axis=1)
            n = act(x_n + tf.matmul(r * hr, rec_n))
            return [n + z * (h - n)]

    return tf.convert_to_tensor(cell.kernel), in_bias, step


_BUILDERS = {"simple_rnn": _simple_rnn, "lstm": _lstm, "gru": _gru}


def fused_rnn(
    kind: str,
    cell: Any,
    sequences: Any,
    initial_state: list[Any],
    mask: Any = None,
    *,
    training: bool = False,
    go_backwards: bool = False,
    return_sequences: bool = False,
    zero_output_for_mask: bool = False,
) -> tuple[Any, Any, list[Any]]:
    """Run ``cell`` over ``sequences`` of shape (batch, timesteps, features).

    Parameters
    ----------
    kind : {"simple_rnn", "lstm", "gru"}
        Which equations ``cell`` holds.
    cell : SimpleRNNCell, LSTMCell or GRUCell
        A built forecastkit cell (its weights and dropout masks are used).
    sequences : tensor of shape (batch, timesteps, features)
    initial_state : list of tensors of shape (batch, units)
    mask : bool tensor of shape (batch, timesteps) or None
        False marks padding; a masked step keeps the previous state and output.
    training, go_backwards, return_sequences, zero_output_for_mask
        As in ``keras.layers.RNN``.

    Returns
    -------
    last_output : tensor of shape (batch, units)
    outputs : tensor of shape (batch, timesteps, units), or (batch, 1, units) when
        ``return_sequences`` is False
    new_states : list of tensors of shape (batch, units)
    """
    x = tf.convert_to_tensor(sequences)
    states = [tf.convert_to_tensor(s) for s in initial_state]
    dtype = states[0].dtype
    x = tf.cast(x, dtype)
    rec_mask = None
    if training and 0.0 < cell.dropout < 1.0:
        # one mask per sequence, the same at every step (the mask Keras' RNN pre-draws)
        x = x * tf.expand_dims(tf.cast(cell.get_dropout_mask(x[:, 0, :]), dtype), 1)
    if training and 0.0 < cell.recurrent_dropout < 1.0:
        rec_mask = tf.cast(cell.get_recurrent_dropout_mask(states[0]), dtype)
    kernel, bias, step = _BUILDERS[kind](cell, rec_mask)

    # time-major before projecting: the transpose then moves `features` columns, not 4 * units
    x = tf.transpose(x, [1, 0, 2])
    if go_backwards:
        x = tf.reverse(x, [0])
    shape = tf.shape(x)
    n_steps, batch = shape[0], shape[1]
    xp = tf.matmul(tf.reshape(x, [-1, x.shape[-1]]), tf.cast(kernel, dtype))
    if bias is not None:
        xp = tf.nn.bias_add(xp, tf.cast(bias, dtype))
    xp = tf.reshape(xp, [n_steps, batch, kernel.shape[-1]])
    inputs_ta = tf.TensorArray(dtype, size=n_steps, element_shape=xp.shape[1:]).unstack(xp)
    units = states[0].shape[-1]
    # without return_sequences a scalar stands in for the TensorArray (nothing is written)
    out_ta: Any = tf.constant(0, dtype)
    if return_sequences:
        out_ta = tf.TensorArray(dtype, size=n_steps, element_shape=tf.TensorShape([None, units]))
    loop_kwargs = {"maximum_iterations": n_steps, "parallel_iterations": 32}

    if mask is None:

        def body(t: Any, out: Any, *carry: Any) -> tuple[Any, ...]:
            new = step(inputs_ta.read(t), list(carry))
            if return_sequences:
                out = out.write(t, new[0])
            return (t + 1, out, *new)

        result = tf.while_loop(
            lambda t, *_: t < n_steps, body, (tf.constant(0), out_ta, *states), **loop_kwargs
        )
        new_states = list(result[2:])
        last_output = new_states[0]
    else:
        mask = tf.cast(mask, tf.bool)
        if mask.shape.rank == 3:
            mask = mask[:, :, 0]
        mask = tf.expand_dims(tf.transpose(mask, [1, 0]), -1)  # (timesteps, batch, 1)
        if go_backwards:
            mask = tf.reverse(mask, [0])
        mask_ta = tf.TensorArray(tf.bool, size=n_steps).unstack(mask)

        def body(t: Any, out: Any, prev_out: Any, *carry: Any) -> tuple[Any, ...]:
            keep = mask_ta.read(t)
            new = step(inputs_ta.read(t), list(carry))
            new = [tf.where(keep, n, s) for n, s in zip(new, carry, strict=True)]
            # Keras' contract: a masked step repeats the previous output (zeros before the first)
            # or, with zero_output_for_mask, outputs zeros
            fill = tf.zeros_like(prev_out) if zero_output_for_mask else prev_out
            y = tf.where(keep, new[0], fill)
            if return_sequences:
                out = out.write(t, y)
            return (t + 1, out, y, *new)

        init = (tf.constant(0), out_ta, tf.zeros_like(states[0]), *states)
        result = tf.while_loop(lambda t, *_: t < n_steps, body, init, **loop_kwargs)
        last_output = result[2]
        new_states = list(result[3:])
    if return_sequences:
        outputs = tf.transpose(result[1].stack(), [1, 0, 2])
    else:
        outputs = tf.expand_dims(last_output, 1)
    return last_output, outputs, new_states
