"""Fused TensorFlow loop behind the sequence layers' fast path.

Keras' generic ``RNN`` calls the cell once per time step through the Layer machinery, reading
every weight variable and adding the bias again at each step, with one op per gate. Here the
weights are read once, an LSTM step does one matrix product (inputs and state against the stacked
``[kernel; recurrent_kernel]``, gates fused), the gate arithmetic uses as few ops as the equations
allow, and TensorFlow differentiates the ``tf.while_loop`` (XLA compiles it as one ``While``).
Masked steps keep their state with a ``where`` select, as in Keras. The measurements behind these
choices are in BENCHMARKS.md, "Recurrent layers".

:func:`fused_rnn` returns what ``keras.layers.RNN.inner_loop`` returns:
``(last_output, outputs, new_states)``, outputs in processing order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

__all__ = ["fused_rnn", "in_xla_context", "UPFRONT_MIN_FEATURES"]

# From this many input features on, the input projection of all steps is one product before the
# loop; with fewer, writing and reading a (timesteps, batch, gates * units) array costs more than
# each step projecting its own inputs (BENCHMARKS.md, "Recurrent layers").
UPFRONT_MIN_FEATURES = 256

StepFn = Callable[[Any, list[Any]], list[Any]]
ReadFn = Callable[[Any], Any]


def in_xla_context() -> bool:
    """Whether the graph being traced is compiled by XLA (``tf.function(jit_compile=True)``,
    which Keras' ``jit_compile`` uses). TensorFlow has no public test for it: its private one is
    used, and a TensorFlow without it counts as no XLA."""
    try:
        from tensorflow.python.framework import ops
        from tensorflow.python.ops import control_flow_util
    except ImportError:  # pragma: no cover - a future TensorFlow
        return False
    return bool(control_flow_util.GraphOrParentsInXlaContext(ops.get_default_graph()))


def _weights(cell: Any, dtype: Any) -> tuple[Any, Any, Any]:
    """(kernel, recurrent_kernel, bias or None) as tensors of the compute dtype, read once."""
    kernel = tf.cast(tf.convert_to_tensor(cell.kernel), dtype)
    recurrent = tf.cast(tf.convert_to_tensor(cell.recurrent_kernel), dtype)
    bias = None if cell.bias is None else tf.cast(tf.convert_to_tensor(cell.bias), dtype)
    return kernel, recurrent, bias


def _reader(x: Any, n_steps: Any, kernel: Any = None, bias: Any = None) -> ReadFn:
    """``read(t)``: step ``t``'s input to the recurrence, for use inside the loop.

    Parameters
    ----------
    x : tensor of shape (timesteps, batch, width)
        Time-major, in processing order.
    n_steps : int or scalar tensor
        ``timesteps``.
    kernel : tensor of shape (width, gates * units) or None
        With a kernel, ``read(t)`` is the projection ``x_t @ kernel (+ bias)``, computed in the
        step; without, ``x_t`` itself.
    bias : tensor of shape (gates * units,) or None

    Returns
    -------
    callable
        ``read(t)`` -> tensor of shape (batch, width) or (batch, gates * units).
    """
    steps = tf.TensorArray(
        x.dtype, size=n_steps, clear_after_read=False, element_shape=x.shape[1:]
    ).unstack(x)
    if kernel is None:
        return steps.read

    def read(t: Any) -> Any:
        z = tf.matmul(steps.read(t), kernel)
        return z if bias is None else tf.nn.bias_add(z, bias)

    return read


def _pre_activation(kernel: Any, recurrent: Any, bias: Any, upfront: bool) -> Callable:
    """``z(inp_t, h) = x_t @ kernel + h @ recurrent + bias`` in the fewest ops.

    With ``upfront`` the step input already is ``x_t @ kernel + bias``; otherwise it is ``x_t``
    and one product with the stacked ``[kernel; recurrent]`` serves both (one matmul and no
    add per step, and one matmul fewer in the backward pass).
    """
    if upfront:
        return lambda inp, h: inp + tf.matmul(h, recurrent)
    stacked = tf.concat([kernel, recurrent], axis=0)

    def z(inp: Any, h: Any) -> Any:
        out = tf.matmul(tf.concat([inp, h], axis=1), stacked)
        return out if bias is None else tf.nn.bias_add(out, bias)

    return z


def _simple_rnn(cell: Any, rec_mask: Any, dtype: Any, upfront: bool) -> tuple[Any, Any, StepFn]:
    """Simple step; its input is always the projection ``x_t @ kernel + bias``.

    With one gate, stacking the kernels (as the LSTM step does) costs more in concat and slices
    than the product it saves.
    """
    kernel, recurrent, bias = _weights(cell, dtype)
    pre, act = _pre_activation(kernel, recurrent, bias, True), cell.activation

    def step(inp: Any, states: list[Any]) -> list[Any]:
        h = states[0] if rec_mask is None else states[0] * rec_mask
        return [act(pre(inp, h))]

    return kernel, bias, step


def _lstm(cell: Any, rec_mask: Any, dtype: Any, upfront: bool) -> tuple[Any, Any, StepFn]:
    kernel, recurrent, bias = _weights(cell, dtype)
    pre = _pre_activation(kernel, recurrent, bias, upfront)
    act, gate = cell.activation, cell.recurrent_activation

    def step(inp: Any, states: list[Any]) -> list[Any]:
        h, c = states
        if rec_mask is not None:
            h = h * rec_mask
        z_i, z_f, z_g, z_o = tf.split(pre(inp, h), 4, axis=1)
        c = gate(z_f) * c + gate(z_i) * act(z_g)
        return [gate(z_o) * act(c), c]

    return kernel, bias, step


def _gru(cell: Any, rec_mask: Any, dtype: Any, upfront: bool) -> tuple[Any, Any, StepFn]:
    """GRU step; its input is always the projection ``x_t @ kernel + input bias``."""
    units = cell.units
    kernel, recurrent, bias = _weights(cell, dtype)
    act, gate = cell.activation, cell.recurrent_activation
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

    return kernel, in_bias, step


def _time_major_mask(mask: Any, go_backwards: bool) -> Any:
    """A (batch, timesteps) mask as bool (timesteps, batch, 1), in processing order."""
    mask = tf.cast(mask, tf.bool)
    if mask.shape.rank == 3:
        mask = mask[:, :, 0]
    mask = tf.expand_dims(tf.transpose(mask, [1, 0]), -1)
    return tf.reverse(mask, [0]) if go_backwards else mask


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
    batch_splits: int = 1,
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
    batch_splits : int
        Run the batch as this many independent recurrences over consecutive groups of rows
        (sizes differ by at most one; a group may be empty). Rows never interact, so the
        outputs are the same; TensorFlow runs the loops at once on its inter-op threads, which
        on a CPU keeps cores busy that one loop of small products leaves idle.

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
    # time-major: the transpose moves `features` columns, not gates * units
    x = tf.transpose(x, [1, 0, 2])
    if go_backwards:
        x = tf.reverse(x, [0])

    def run(x: Any, states: list[Any], mask: Any, rec_mask: Any) -> tuple[Any, Any, list[Any]]:
        return _recurrence(kind, cell, x, states, mask, rec_mask, go_backwards,
                           return_sequences, zero_output_for_mask)

    if batch_splits <= 1:
        return run(x, states, mask, rec_mask)
    sizes = _group_sizes(tf.shape(x)[1] if x.shape[1] is None else x.shape[1], batch_splits)
    groups = [tf.split(x, sizes, axis=1, num=batch_splits)]
    for rows in (*states, mask, rec_mask):
        groups.append([None] * batch_splits if rows is None
                      else tf.split(rows, sizes, axis=0, num=batch_splits))
    n = len(states)
    parts = [run(g[0], list(g[1:1 + n]), g[1 + n], g[2 + n]) for g in zip(*groups, strict=True)]
    return (tf.concat([p[0] for p in parts], 0), tf.concat([p[1] for p in parts], 0),
            [tf.concat([p[2][i] for p in parts], 0) for i in range(n)])


def _group_sizes(batch: Any, n: int) -> Any:
    """Sizes of ``n`` consecutive row groups of a batch of ``batch`` rows (an int or a scalar
    tensor), differing by at most one."""
    if isinstance(batch, int):
        return [batch // n + (i < batch % n) for i in range(n)]
    return tf.stack([batch // n + tf.cast(i < batch % n, batch.dtype) for i in range(n)])


def _recurrence(
    kind: str,
    cell: Any,
    x: Any,
    states: list[Any],
    mask: Any,
    rec_mask: Any,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
) -> tuple[Any, Any, list[Any]]:
    """One loop over time-major ``x`` (timesteps, batch, features); see :func:`fused_rnn`."""
    dtype = states[0].dtype
    # a static length lets TensorFlow size the loop's TensorArrays (and XLA needs it anyway)
    n_steps = x.shape[0] if x.shape[0] is not None else tf.shape(x)[0]
    upfront = cell.kernel.shape[0] >= UPFRONT_MIN_FEATURES
    kernel, bias, step = _BUILDERS[kind](cell, rec_mask, dtype, upfront)
    if upfront:
        flat = tf.matmul(tf.reshape(x, [-1, kernel.shape[0]]), kernel)
        if bias is not None:
            flat = tf.nn.bias_add(flat, bias)
        read = _reader(tf.reshape(flat, [n_steps, -1, kernel.shape[-1]]), n_steps)
    elif kind == "lstm":
        # the LSTM step projects x_t itself, fused with the recurrent product
        read = _reader(x, n_steps)
    else:
        read = _reader(x, n_steps, kernel, bias)
    return _loop(step, read, states, n_steps, mask, go_backwards, return_sequences,
                 zero_output_for_mask)


def _loop(
    step: StepFn,
    read: ReadFn,
    states: list[Any],
    n_steps: Any,
    mask: Any,
    go_backwards: bool,
    return_sequences: bool,
    zero_output_for_mask: bool,
) -> tuple[Any, Any, list[Any]]:
    """The ``tf.while_loop`` over time; arguments and result as in :func:`fused_rnn`."""
    dtype = states[0].dtype
    # without return_sequences a scalar stands in for the TensorArray (nothing is written)
    out_ta: Any = tf.constant(0, dtype)
    if return_sequences:
        out_ta = tf.TensorArray(
            dtype, size=n_steps, element_shape=tf.TensorShape([None, states[0].shape[-1]])
        )
    loop_kwargs = {"maximum_iterations": n_steps, "parallel_iterations": 32}

    if mask is None:

        def body(t: Any, out: Any, *carry: Any) -> tuple[Any, ...]:
            new = step(read(t), list(carry))
            if return_sequences:
                out = out.write(t, new[0])
            return (t + 1, out, *new)

        result = tf.while_loop(
            lambda t, *_: t < n_steps, body, (0, out_ta, *states), **loop_kwargs
        )
        new_states = list(result[2:])
        last_output = new_states[0]
    else:
        mask_ta = tf.TensorArray(tf.bool, size=n_steps).unstack(
            _time_major_mask(mask, go_backwards)
        )

        def masked_body(t: Any, out: Any, prev_out: Any, *carry: Any) -> tuple[Any, ...]:
            keep = mask_ta.read(t)
            new = step(read(t), list(carry))
            new = [tf.where(keep, n, s) for n, s in zip(new, carry, strict=True)]
            # Keras' contract: a masked step repeats the previous output (zeros before the first)
            # or, with zero_output_for_mask, outputs zeros
            fill = tf.zeros_like(prev_out) if zero_output_for_mask else prev_out
            y = tf.where(keep, new[0], fill)
            if return_sequences:
                out = out.write(t, y)
            return (t + 1, out, y, *new)

        init = (0, out_ta, tf.zeros_like(states[0]), *states)
        result = tf.while_loop(lambda t, *_: t < n_steps, masked_body, init, **loop_kwargs)
        last_output = result[2]
        new_states = list(result[3:])
    if return_sequences:
        outputs = tf.transpose(result[1].stack(), [1, 0, 2])
    else:
        outputs = tf.expand_dims(last_output, 1)
    return last_output, outputs, new_states
