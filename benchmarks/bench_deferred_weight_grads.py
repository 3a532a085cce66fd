"""Does a weight gradient taken as one product after the loop speed up the LSTM train step?

TensorFlow's gradient of the fused loop adds each step's share of the weight gradient inside
the backward loop: one small product per step. The alternative tried here (a record of a
negative result; the layers do not use it) runs the loop against ``stop_gradient`` weights under
an inner ``GradientTape``, with a zero tensor added to every step's pre-activation. The tape
then gives the pre-activation gradients of all steps at once, and ``tf.custom_gradient`` turns
them into the weight gradient with one (timesteps * batch)-row product. The patch covers the
case benchmarked (LSTM, no mask, last output only); it is checked against the unpatched layer's
gradients before timing.

A model ``Input -> LSTM -> Dense(1)`` (batch 256, one input feature) is trained with Adam for
each of: the unpatched layer (one loop), the patched one, and ``keras.layers.LSTM``. Steps are
timed in interleaved rounds after warm-up; medians in ms and ratios to Keras are printed.

Run: ``python benchmarks/bench_deferred_weight_grads.py [--steps 48] [--units 64] [--jit on]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import forecastkit.layers as fkl  # noqa: E402
from forecastkit.layers import _fastpath  # noqa: E402

BATCH = 256
unpatched = _fastpath._recurrence


def deferred(kind, cell, x, states, mask, rec_mask, go_backwards, return_sequences,
             zero_output_for_mask):
    """``_fastpath._recurrence`` with the weight gradient as one product after the loop."""
    if kind != "lstm" or mask is not None or return_sequences:
        raise NotImplementedError("the benchmark patches the unmasked many-to-one LSTM only")
    dtype = states[0].dtype
    n_steps = x.shape[0]
    kernel, recurrent, bias = _fastpath._weights(cell, dtype)
    stacked = tf.concat([kernel, recurrent], 0)
    units, width = recurrent.shape[0], stacked.shape[0]
    act, gate = cell.activation, cell.recurrent_activation

    @tf.custom_gradient
    def core(x, stacked, bias, h0, c0):
        zero = tf.zeros([n_steps, tf.shape(x)[1], 4 * units], dtype)
        with tf.GradientTape() as tape:
            tape.watch([x, zero, h0, c0])
            x_ta = tf.TensorArray(dtype, size=n_steps, element_shape=x.shape[1:]).unstack(x)
            e_ta = tf.TensorArray(dtype, size=n_steps, element_shape=zero.shape[1:]).unstack(zero)
            a_ta = tf.TensorArray(dtype, size=n_steps, element_shape=tf.TensorShape([None, width]))
            w, b = tf.stop_gradient(stacked), tf.stop_gradient(bias)

            def body(t, a_ta, h, c):
                a = tf.concat([x_ta.read(t), h if rec_mask is None else h * rec_mask], 1)
                z = tf.nn.bias_add(tf.matmul(a, w), b) + e_ta.read(t)
                z_i, z_f, z_g, z_o = tf.split(z, 4, axis=1)
                c = gate(z_f) * c + gate(z_i) * act(z_g)
                return t + 1, a_ta.write(t, tf.stop_gradient(a)), gate(z_o) * act(c), c

            _, a_ta, h, c = tf.while_loop(lambda t, *_: t < n_steps, body, (0, a_ta, h0, c0),
                                          maximum_iterations=n_steps, parallel_iterations=32)
        inputs = tf.reshape(a_ta.stack(), [-1, width])

        def grad(dh, dc):
            dh = tf.zeros_like(h) if dh is None else dh
            dc = tf.zeros_like(c) if dc is None else dc
            dx, dz, dh0, dc0 = tape.gradient([h, c], [x, zero, h0, c0], output_gradients=[dh, dc])
            dz = tf.reshape(dz, [-1, 4 * units])
            return dx, tf.matmul(inputs, dz, transpose_a=True), tf.reduce_sum(dz, 0), dh0, dc0

        return (h, c), grad

    h, c = core(x, stacked, bias, states[0], states[1])
    return h, tf.expand_dims(h, 1), [h, c]


def _gradients(layer, x):
    with tf.GradientTape() as tape:
        out = layer(x)
        loss = tf.reduce_sum(out * out)
    return [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--jit", default="on")
    parser.add_argument("--rounds", type=int, default=40, help="timed train steps per model")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, args.steps, 1)).astype("float32")
    y = rng.standard_normal((BATCH, 1)).astype("float32")

    layer = fkl.LSTM(args.units, batch_splits=1)
    layer.build((None, args.steps, 1))
    reference = _gradients(layer, tf.constant(x))
    _fastpath._recurrence = deferred
    patched = _gradients(layer, tf.constant(x))
    _fastpath._recurrence = unpatched
    worst = max(float(np.abs(a - b).max() / np.abs(a).max())
                for a, b in zip(reference, patched, strict=True))
    if worst > 1e-5:
        raise SystemExit(f"the patched gradients differ by {worst:.2e} (relative)")

    models = {}
    for name, recurrence, layer_class in (("one loop", unpatched, fkl.LSTM),
                                          ("deferred", deferred, fkl.LSTM),
                                          ("keras", unpatched, keras.layers.LSTM)):
        _fastpath._recurrence = recurrence  # the model is traced at its first step, below
        keras.utils.set_random_seed(0)
        inputs = keras.Input((args.steps, 1))
        kwargs = {} if layer_class is keras.layers.LSTM else {"batch_splits": 1}
        hidden = layer_class(args.units, **kwargs)(inputs)
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse",
                      jit_compile=args.jit == "on")
        for _ in range(3):
            model.train_on_batch(x, y)
        models[name] = model
    _fastpath._recurrence = unpatched
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[name].append(time.perf_counter() - start)
    ms = {name: 1e3 * statistics.median(t) for name, t in times.items()}
    print(f"LSTM {args.steps}x{args.units} jit {args.jit}: gradients agree to {worst:.1e}; "
          f"one loop {ms['one loop']:.1f} ms ({ms['one loop'] / ms['keras']:.2f}x Keras), "
          f"deferred {ms['deferred']:.1f} ms ({ms['deferred'] / ms['keras']:.2f}x Keras), "
          f"Keras {ms['keras']:.1f} ms")


if __name__ == "__main__":
    main()
