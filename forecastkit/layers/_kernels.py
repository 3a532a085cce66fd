"""Recurrences with hand-written backward passes (TensorFlow), used by the fast path.

Automatic differentiation of a ``tf.while_loop`` keeps a stack of every intermediate tensor of
every step, and in the backward loop multiplies ``h_{t-1}^T dz_t`` for the recurrent-kernel
gradient at each step, a small product plus an accumulation per step. These kernels store only
what the backward pass needs (gate values and the state sequences), and compute the weight
gradients after the backward loop as one large product,
``dW_h = H_{prev}^T DZ`` over (timesteps * batch) rows, which runs near the machine's matmul peak.

Each kernel takes the input side (:class:`_Inputs`, time-major and in processing order) and
returns the sequence of (masked) hidden states; the caller derives outputs from it.

On the 2-core CPU these kernels measured slower than TensorFlow's gradient of the plain loop
in 5 of 6 cases (BENCHMARKS.md, "Recurrent layers")
(materialising the per-step gradients for the single large product costs more memory traffic
than it saves), so the fast path uses them only when asked (``use_kernels=True``).
The equations are those of :mod:`forecastkit.layers.cells` with Keras' default activations
(tanh and sigmoid; ReLU for the simple cell); other activations use the autodiff loop.

Masks: ``keep`` is a float tensor (timesteps, batch, 1), 1 on real steps; a masked step carries
the previous states, ``s_t = keep * candidate + (1 - keep) * s_{t-1}``.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

_LOOP = {"parallel_iterations": 32}


def _ta(dtype: Any, n: Any, value: Any = None, like: Any = None) -> Any:
    """A TensorArray of ``n`` elements shaped like ``like`` (or filled from ``value``)."""
    if value is not None:
        like = value[0]
    shape = None if like is None else like.shape
    ta = tf.TensorArray(dtype, size=n, clear_after_read=False, element_shape=shape)
    return ta if value is None else ta.unstack(value)


def _length(xp: Any) -> Any:
    """Number of steps: static when known, which lets TensorFlow size the loop's arrays."""
    return xp.shape[0] if xp.shape[0] is not None else tf.shape(xp)[0]


class _Inputs:
    """The input side of a recurrence: step ``t``'s projection, and the gradients of its tensors.

    With ``kernel`` None, ``x`` (timesteps, batch, gates * units) is the projection already
    (bias included). Otherwise ``x`` (timesteps, batch, features) is projected one step at a
    time; for few features that is cheaper than storing a (timesteps, batch, gates * units)
    array, and the kernel's gradient is still one product over all steps.
    """

    def __init__(self, x: Any, kernel: Any = None, bias: Any = None) -> None:
        self.tensors = [x] if kernel is None else [t for t in (x, kernel, bias) if t is not None]
        self.has_kernel, self.has_bias = kernel is not None, bias is not None

    def bind(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """Take this side's tensors off the front of ``args``; return the rest."""
        k = len(self.tensors)
        self.x, rest = args[0], args[k:]
        self.kernel = args[1] if self.has_kernel else None
        self.bias = args[2] if self.has_kernel and self.has_bias else None
        self.steps = _ta(self.x.dtype, _length(self.x), self.x)
        return rest

    def read(self, t: Any) -> Any:
        step = self.steps.read(t)
        if self.kernel is None:
            return step
        z = tf.matmul(step, self.kernel)
        return z if self.bias is None else tf.nn.bias_add(z, self.bias)

    def grads(self, dz: Any) -> list[Any]:
        """Gradients of the tensors given ``dz`` (timesteps, batch, width), d loss / d proj."""
        if self.kernel is None:
            return [dz]
        width = dz.shape[-1]
        flat = tf.reshape(dz, [-1, width])
        dx = tf.reshape(tf.matmul(flat, self.kernel, transpose_b=True), tf.shape(self.x))
        out = [dx, _weight_grad(self.x, dz)]
        return out + [tf.reduce_sum(flat, axis=0)] if self.has_bias else out


def _prev(first: Any, seq: Any) -> Any:
    """The sequence shifted one step: (first, seq[0], ..., seq[T-2])."""
    return tf.concat([tf.expand_dims(first, 0), seq[:-1]], axis=0)


def _zeros_if_none(grad: Any, like: Any) -> Any:
    return tf.zeros_like(like) if grad is None else grad


def _sigmoid_grad(y: Any, dy: Any) -> Any:
    """dy * y * (1 - y) in one fused kernel (y = sigmoid(x))."""
    return tf.raw_ops.SigmoidGrad(y=y, dy=dy)


def _tanh_grad(y: Any, dy: Any) -> Any:
    """dy * (1 - y^2) in one fused kernel (y = tanh(x))."""
    return tf.raw_ops.TanhGrad(y=y, dy=dy)


def _masked(keep_t: Any, new: Any, old: Any) -> Any:
    return old + keep_t * (new - old)


def _weight_grad(h_prev: Any, dz: Any) -> Any:
    """sum_t h_{t-1}^T dz_t as one product over (timesteps * batch) rows."""
    units, width = h_prev.shape[-1], dz.shape[-1]  # (features for the input kernel)
    return tf.matmul(tf.reshape(h_prev, [-1, units]), tf.reshape(dz, [-1, width]), transpose_a=True)


def _split_carry(d: Any, keep_t: Any) -> tuple[Any, Any]:
    """Gradient of a masked state: (part reaching the candidate, part passing to s_{t-1})."""
    if keep_t is None:
        return d, None
    into = d * keep_t
    return into, d - into


def simple_rnn(inp: _Inputs, h0: Any, rec: Any, keep: Any, rec_mask: Any, relu: bool) -> Any:
    """``H`` (timesteps, batch, units) for ``h_t = act(x_t W + b + (h_{t-1} * rec_mask) @ rec)``."""
    n = _length(inp.tensors[0])
    act = tf.nn.relu if relu else tf.tanh

    @tf.custom_gradient
    def run(*args: Any) -> Any:
        h0, rec = inp.bind(args)
        xs, ks = inp, None if keep is None else _ta(keep.dtype, n, keep)
        dtype = h0.dtype

        def body(t: Any, hs: Any, h: Any) -> tuple[Any, ...]:
            hr = h if rec_mask is None else h * rec_mask
            new = act(xs.read(t) + tf.matmul(hr, rec))
            if ks is not None:
                new = _masked(ks.read(t), new, h)
            return t + 1, hs.write(t, new), new

        init = (0, _ta(dtype, n, like=h0), h0)
        _, hs, _ = tf.while_loop(lambda t, *_: t < n, body, init, **_LOOP)
        big_h = hs.stack()

        def grad(d_h: Any) -> tuple[Any, Any, Any]:
            d_h = _zeros_if_none(d_h, big_h)
            dhs, hs_ta = _ta(dtype, n, d_h), _ta(dtype, n, big_h)
            kb = None if keep is None else _ta(keep.dtype, n, keep)

            def back(i: Any, dzs: Any, dh: Any) -> tuple[Any, ...]:
                t = n - 1 - i
                into, keep_part = _split_carry(dh + dhs.read(t), None if kb is None else kb.read(t))
                h_t = hs_ta.read(t)  # equals the candidate wherever `into` is non-zero
                if relu:
                    dz = tf.raw_ops.ReluGrad(gradients=into, features=h_t)
                else:
                    dz = _tanh_grad(h_t, into)
                dprev = tf.matmul(dz, rec, transpose_b=True)
                if rec_mask is not None:
                    dprev = dprev * rec_mask
                if keep_part is not None:
                    dprev = dprev + keep_part
                return i + 1, dzs.write(t, dz), dprev

            init = (0, _ta(dtype, n, like=h0), tf.zeros_like(h0))
            _, dzs, dh0 = tf.while_loop(lambda i, *_: i < n, back, init, **_LOOP)
            dz = dzs.stack()
            h_prev = _prev(h0, big_h)
            if rec_mask is not None:
                h_prev = h_prev * rec_mask
            return (*inp.grads(dz), dh0, _weight_grad(h_prev, dz))

        return big_h, grad

    return run(*inp.tensors, h0, rec)


def lstm(inp: _Inputs, h0: Any, c0: Any, rec: Any, keep: Any, rec_mask: Any) -> tuple[Any, Any]:
    """``(H, C)``, each (timesteps, batch, units), of the LSTM with gates ``i, f, g, o``."""
    n = _length(inp.tensors[0])
    dtype = h0.dtype
    width = rec.shape[-1]

    @tf.custom_gradient
    def run(*args: Any) -> Any:
        h0, c0, rec = inp.bind(args)
        xs, ks = inp, None if keep is None else _ta(keep.dtype, n, keep)

        def body(t: Any, seqs: tuple[Any, ...], h: Any, c: Any) -> tuple[Any, ...]:
            hr = h if rec_mask is None else h * rec_mask
            z_i, z_f, z_g, z_o = tf.split(xs.read(t) + tf.matmul(hr, rec), 4, axis=1)
            i, f, g, o = tf.sigmoid(z_i), tf.sigmoid(z_f), tf.tanh(z_g), tf.sigmoid(z_o)
            c_new = f * c + i * g
            tc = tf.tanh(c_new)
            h_new = o * tc
            if ks is not None:
                k = ks.read(t)
                c_new, h_new = _masked(k, c_new, c), _masked(k, h_new, h)
            # writes keep a reference to each tensor (no copy), for the backward pass
            seqs = tuple(
                ta.write(t, v) for ta, v in zip(seqs, (h_new, c_new, i, f, g, o, tc), strict=True)
            )
            return t + 1, seqs, h_new, c_new

        init = (0, tuple(_ta(dtype, n, like=h0) for _ in range(7)), h0, c0)
        _, seqs, _, _ = tf.while_loop(lambda t, *_: t < n, body, init, **_LOOP)
        big_h, big_c = seqs[0].stack(), seqs[1].stack()
        saved = seqs[2:]

        def grad(d_h: Any, d_c: Any) -> tuple[Any, ...]:
            d_h, d_c = _zeros_if_none(d_h, big_h), _zeros_if_none(d_c, big_c)
            dhs, dcs = _ta(dtype, n, d_h), _ta(dtype, n, d_c)
            cprev_ta = _ta(dtype, n, _prev(c0, big_c))
            kb = None if keep is None else _ta(keep.dtype, n, keep)

            def back(j: Any, dzs: Any, dh: Any, dc: Any) -> tuple[Any, ...]:
                t = n - 1 - j
                k = None if kb is None else kb.read(t)
                dh_in, dh_keep = _split_carry(dh + dhs.read(t), k)
                dc_in, dc_keep = _split_carry(dc + dcs.read(t), k)
                i, f, g, o, tc = (ta.read(t) for ta in saved)
                # values of the candidate step; they matter only where dh_in, dc_in are not 0
                dcc = dc_in + _tanh_grad(tc, dh_in * o)
                dz = tf.concat(
                    [
                        _sigmoid_grad(i, dcc * g),
                        _sigmoid_grad(f, dcc * cprev_ta.read(t)),
                        _tanh_grad(g, dcc * i),
                        _sigmoid_grad(o, dh_in * tc),
                    ],
                    axis=1,
                )
                dprev = tf.matmul(dz, rec, transpose_b=True)
                if rec_mask is not None:
                    dprev = dprev * rec_mask
                dc_prev = dcc * f
                if k is not None:
                    dprev, dc_prev = dprev + dh_keep, dc_prev + dc_keep
                return j + 1, dzs.write(t, dz), dprev, dc_prev

            dz_like = tf.TensorSpec([h0.shape[0], width], dtype)
            init = (0, _ta(dtype, n, like=dz_like), tf.zeros_like(h0), tf.zeros_like(c0))
            _, dzs, dh0, dc0 = tf.while_loop(lambda j, *_: j < n, back, init, **_LOOP)
            dz = dzs.stack()
            h_prev = _prev(h0, big_h)
            if rec_mask is not None:
                h_prev = h_prev * rec_mask
            return (*inp.grads(dz), dh0, dc0, _weight_grad(h_prev, dz))

        return (big_h, big_c), grad

    return run(*inp.tensors, h0, c0, rec)


def gru(inp: _Inputs, h0: Any, rec: Any, rec_bias: Any, keep: Any, rec_mask: Any) -> Any:
    """``H`` (timesteps, batch, units) of the reset-after GRU with gates ``z, r, n``.

    The input side ``inp`` holds the input bias (row 0 of Keras' GRU bias); ``rec_bias``
    (3 units,) is the recurrent bias (row 1).
    """
    n = _length(inp.tensors[0])
    units = h0.shape[-1]
    dtype = h0.dtype

    @tf.custom_gradient
    def run(*args: Any) -> Any:
        h0, rec, rec_bias = inp.bind(args)
        xs, ks = inp, None if keep is None else _ta(keep.dtype, n, keep)

        def body(t: Any, seqs: tuple[Any, ...], h: Any) -> tuple[Any, ...]:
            hr = h if rec_mask is None else h * rec_mask
            m_zr, m_n = tf.split(tf.matmul(hr, rec) + rec_bias, [2 * units, units], axis=1)
            x_zr, x_n = tf.split(xs.read(t), [2 * units, units], axis=1)
            z, r = tf.split(tf.sigmoid(x_zr + m_zr), 2, axis=1)
            cand = tf.tanh(x_n + r * m_n)
            h_new = cand + z * (h - cand)
            if ks is not None:
                h_new = _masked(ks.read(t), h_new, h)
            seqs = tuple(
                ta.write(t, v) for ta, v in zip(seqs, (h_new, z, r, cand, m_n), strict=True)
            )
            return t + 1, seqs, h_new

        init = (0, tuple(_ta(dtype, n, like=h0) for _ in range(5)), h0)
        _, seqs, _ = tf.while_loop(lambda t, *_: t < n, body, init, **_LOOP)
        big_h = seqs[0].stack()
        saved = seqs[1:]

        def grad(d_h: Any) -> tuple[Any, ...]:
            dhs = _ta(dtype, n, _zeros_if_none(d_h, big_h))
            hprev_ta = _ta(dtype, n, _prev(h0, big_h))
            kb = None if keep is None else _ta(keep.dtype, n, keep)

            def back(j: Any, dxs: Any, dms: Any, dh: Any) -> tuple[Any, ...]:
                t = n - 1 - j
                into, keep_part = _split_carry(dh + dhs.read(t), None if kb is None else kb.read(t))
                z, r, cand, m_n = (ta.read(t) for ta in saved)
                d_pre_n = _tanh_grad(cand, into * (1.0 - z))
                d_pre_z = _sigmoid_grad(z, into * (hprev_ta.read(t) - cand))
                d_pre_r = _sigmoid_grad(r, d_pre_n * m_n)
                dm = tf.concat([d_pre_z, d_pre_r, d_pre_n * r], 1)
                dprev = tf.matmul(dm, rec, transpose_b=True)
                if rec_mask is not None:
                    dprev = dprev * rec_mask
                dprev = dprev + into * z
                if keep_part is not None:
                    dprev = dprev + keep_part
                dxs = dxs.write(t, tf.concat([d_pre_z, d_pre_r, d_pre_n], 1))
                return j + 1, dxs, dms.write(t, dm), dprev

            like = tf.TensorSpec([h0.shape[0], 3 * units], dtype)
            init = (0, _ta(dtype, n, like=like), _ta(dtype, n, like=like), tf.zeros_like(h0))
            _, dxs, dms, dh0 = tf.while_loop(lambda j, *_: j < n, back, init, **_LOOP)
            dm = dms.stack()
            h_prev = _prev(h0, big_h)
            if rec_mask is not None:
                h_prev = h_prev * rec_mask
            d_bias = tf.reduce_sum(tf.reshape(dm, [-1, 3 * units]), axis=0)
            return (*inp.grads(dxs.stack()), dh0, _weight_grad(h_prev, dm), d_bias)

        return big_h, grad

    return run(*inp.tensors, h0, rec, rec_bias)
