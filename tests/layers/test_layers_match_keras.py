"""Our cells and sequence layers against Keras' built-in layers, with identical weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import forecastkit.layers as fkl

PAIRS = {
    "rnn": (fkl.SimpleRNN, keras.layers.SimpleRNN, fkl.SimpleRNNCell),
    "lstm": (fkl.LSTM, keras.layers.LSTM, fkl.LSTMCell),
    "gru": (fkl.GRU, keras.layers.GRU, fkl.GRUCell),
}
BATCH, STEPS, FEATURES, UNITS = 4, 7, 3, 5
TOL = 1e-5


def _inputs() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")


def _mask(kind: str | None) -> np.ndarray | None:
    if kind is None:
        return None
    mask = np.ones((BATCH, STEPS), bool)
    if kind == "right":
        mask[1, 4:] = False
        mask[3, 2:] = False
    else:
        mask[1, :3] = False
        mask[2, :5] = False
    return mask


def _forward_and_grads(layer, x, mask):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, mask=mask)
        outs = out if isinstance(out, (list, tuple)) else [out]
        # weights differ per position so that every output element matters for the gradient
        loss = sum(tf.reduce_sum(o * o * (1.0 + 0.1 * k)) for k, o in enumerate(outs))
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return [o.numpy() for o in outs], [g.numpy() for g in grads]


def _assert_same(ours, ref, mask, **kwargs):
    x = _inputs()
    ref(x)
    ours(x)
    ours.set_weights(ref.get_weights())
    out_ref, grad_ref = _forward_and_grads(ref, x, mask)
    out_ours, grad_ours = _forward_and_grads(ours, x, mask)
    assert len(out_ref) == len(out_ours)
    for a, b in zip(out_ours, out_ref, strict=True):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)
    for a, b in zip(grad_ours, grad_ref, strict=True):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)


@pytest.mark.parametrize(("fast", "mask_kind"), [(True, None), (True, "right"), (True, "left"),
                                                 (False, None), (False, "left")])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_outputs_and_gradients_match_keras(cell, return_sequences, mask_kind, fast):
    ours_class, ref_class, _ = PAIRS[cell]
    kwargs = {"return_sequences": return_sequences}
    _assert_same(ours_class(UNITS, fast=fast, **kwargs), ref_class(UNITS, **kwargs),
                 _mask(mask_kind))


@pytest.mark.parametrize("mask_kind", [None, "left"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_go_backwards_and_return_state_match_keras(cell, mask_kind):
    ours_class, ref_class, _ = PAIRS[cell]
    kwargs = {"return_sequences": True, "return_state": True, "go_backwards": True}
    _assert_same(ours_class(UNITS, **kwargs), ref_class(UNITS, **kwargs), _mask(mask_kind))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_inside_bidirectional_matches_keras(cell):
    ours_class, ref_class, _ = PAIRS[cell]
    ours = keras.layers.Bidirectional(ours_class(UNITS, return_sequences=True))
    ref = keras.layers.Bidirectional(ref_class(UNITS, return_sequences=True))
    _assert_same(ours, ref, _mask("right"))


@pytest.mark.parametrize(
    ("cell", "kwargs"),
    [
        ("rnn", {"activation": "relu"}),
        ("lstm", {"unit_forget_bias": False, "recurrent_activation": "hard_sigmoid"}),
        ("gru", {"reset_after": False}),
        ("gru", {"use_bias": False}),
    ],
)
def test_variants_match_keras(cell, kwargs):
    """Non-default arguments take the generic or autodiff loop; still Keras' numbers."""
    ours_class, ref_class, _ = PAIRS[cell]
    _assert_same(ours_class(UNITS, return_sequences=True, **kwargs),
                 ref_class(UNITS, return_sequences=True, **kwargs), _mask("left"))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cell_in_keras_rnn_exchanges_weights_both_ways(cell):
    _, ref_class, cell_class = PAIRS[cell]
    x = _inputs()
    ours = keras.layers.RNN(cell_class(UNITS), return_sequences=True)
    ref = ref_class(UNITS, return_sequences=True)
    ours(x)
    ref(x)
    assert [w.shape for w in ours.weights] == [w.shape for w in ref.weights]
    assert [w.name for w in ours.weights] == ["kernel", "recurrent_kernel", "bias"]
    ours.set_weights(ref.get_weights())
    np.testing.assert_allclose(ours(x), ref(x), atol=TOL)
    ours.set_weights([w * 0.5 for w in ours.get_weights()])
    ref.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), ref(x), atol=TOL)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_padded_batch_equals_each_sequence_alone(cell, side, fast):
    layer = PAIRS[cell][0](UNITS, fast=fast)
    rng = np.random.default_rng(1)
    lengths = [7, 3, 5, 1]
    seqs = [rng.normal(size=(n, FEATURES)).astype("float32") for n in lengths]
    padded = np.full((len(seqs), STEPS, FEATURES), 99.0, "float32")  # junk that must not leak
    mask = np.zeros((len(seqs), STEPS), bool)
    for k, s in enumerate(seqs):
        where = slice(0, len(s)) if side == "right" else slice(STEPS - len(s), STEPS)
        padded[k, where] = s
        mask[k, where] = True
    batch_out = layer(padded, mask=mask).numpy()
    for k, s in enumerate(seqs):
        alone = layer(s[None]).numpy()[0]
        np.testing.assert_allclose(batch_out[k], alone, atol=TOL, rtol=TOL)


def test_masking_layer_mask_is_consumed():
    x = _inputs()
    x[0, 5:] = 0.0
    inputs = keras.Input((None, FEATURES))
    masked = keras.layers.Masking(0.0)(inputs)
    model = keras.Model(inputs, fkl.LSTM(UNITS)(masked))
    ref = keras.Model(inputs, keras.layers.LSTM(UNITS)(masked))
    model.set_weights(ref.get_weights())
    np.testing.assert_allclose(model(x), ref(x), atol=TOL)
    np.testing.assert_allclose(model(x)[0], model(x[:1, :5])[0], atol=TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_many_features_take_the_upfront_projection(cell):
    """With >= UPFRONT_MIN_FEATURES inputs the projection of all steps is one product."""
    from forecastkit.layers import _fastpath

    ours_class, ref_class, _ = PAIRS[cell]
    x = np.random.default_rng(2).normal(size=(3, 4, _fastpath.UPFRONT_MIN_FEATURES))
    x = x.astype("float32")
    ours, ref = ours_class(UNITS, return_sequences=True), ref_class(UNITS, return_sequences=True)
    ours(x)
    ref(x)
    ours.set_weights(ref.get_weights())
    mask = np.ones((3, 4), bool)
    mask[0, :2] = False
    out_ref, grad_ref = _forward_and_grads(ref, x, mask)
    out_ours, grad_ours = _forward_and_grads(ours, x, mask)
    for a, b in zip(out_ours + grad_ours, out_ref + grad_ref, strict=True):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fast_path_runs_the_fused_loop_and_matches_the_cell_loop(cell, monkeypatch):
    """fast="auto" goes through the fused loop, fast=False never does; same numbers either way."""
    from forecastkit.layers import _fastpath

    calls = []
    original = _fastpath.fused_rnn

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(_fastpath, "fused_rnn", counting)
    layer_class = PAIRS[cell][0]
    fast = layer_class(UNITS, return_sequences=True, return_state=True)
    loop = layer_class(UNITS, return_sequences=True, return_state=True, fast=False)
    x, mask = _inputs(), _mask("left")
    fast(x)
    loop(x)
    loop.set_weights([w * 0.7 for w in fast.get_weights()])
    fast.set_weights(loop.get_weights())
    calls.clear()
    out_fast, grads_fast = _forward_and_grads(fast, x, mask)
    assert calls == [fast.kind]
    out_loop, grads_loop = _forward_and_grads(loop, x, mask)
    assert calls == [fast.kind]
    for a, b in zip(out_fast + grads_fast, out_loop + grads_loop, strict=True):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)
