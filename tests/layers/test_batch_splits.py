"""``batch_splits``: the fast path runs the batch as several independent loops.

The reference is Keras' built-in layer with the same weights: splitting the rows into groups
must change neither the outputs, the final states nor any gradient, whatever the groups' sizes
(uneven, or empty when there are more loops than rows), with masks, backwards, and a batch
size known only when the graph runs.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import forecastkit.layers as fkl
from forecastkit.exceptions import InvalidInputError
from forecastkit.layers import sequence

# the same gradient probe as the comparison of every configuration with Keras (this folder
# is on sys.path under pytest's default import mode)
from test_layers_match_keras import _forward_and_grads  # noqa: E402  isort: skip

PAIRS = {
    "rnn": (fkl.SimpleRNN, keras.layers.SimpleRNN),
    "lstm": (fkl.LSTM, keras.layers.LSTM),
    "gru": (fkl.GRU, keras.layers.GRU),
}
BATCH, STEPS, FEATURES, UNITS = 5, 6, 2, 4
TOL = 1e-5


def _data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    mask = np.ones((BATCH, STEPS), bool)
    mask[1, :2] = False  # left padding, as forecastkit pads histories
    mask[4, :5] = False
    return x, mask


@pytest.mark.parametrize("splits", [2, 3, 7])  # groups 3+2, 2+2+1, and two empty ones
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_split_batch_matches_keras_with_masks_backwards_and_states(cell, splits):
    ours_class, ref_class = PAIRS[cell]
    kw = dict(return_sequences=True, return_state=True, go_backwards=True)
    x, mask = _data()
    ours, ref = ours_class(UNITS, batch_splits=splits, **kw), ref_class(UNITS, **kw)
    ref(x)
    ours(x)
    ours.set_weights(ref.get_weights())
    for m in (None, mask):
        got, want = _forward_and_grads(ours, x, m), _forward_and_grads(ref, x, m)
        for a, b in zip(got[0] + got[1], want[0] + want[1], strict=True):
            np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_batch_size_known_only_at_run_time_is_split_as_a_static_one(cell):
    ours_class, _ = PAIRS[cell]
    x, mask = _data()
    one, split = ours_class(UNITS, batch_splits=1), ours_class(UNITS, batch_splits=3)
    one(x)
    split(x)
    split.set_weights(one.get_weights())
    spec = (tf.TensorSpec((None, STEPS, FEATURES)), tf.TensorSpec((None, STEPS), tf.bool))
    run = tf.function(lambda a, m: split(a, mask=m), input_signature=spec)
    np.testing.assert_allclose(run(x, mask).numpy(), one(x, mask=mask).numpy(),
                               atol=TOL, rtol=TOL)
    # one row: the other two loops run on empty groups
    np.testing.assert_allclose(run(x[:1], mask[:1]).numpy(), one(x[:1], mask=mask[:1]).numpy(),
                               atol=TOL, rtol=TOL)


def test_dropout_masks_are_drawn_for_the_whole_batch_before_the_split():
    x, _ = _data()
    layer = fkl.LSTM(UNITS, dropout=0.3, recurrent_dropout=0.3)
    layer(x)
    seed_state = layer.cell.seed_generator.state.numpy()
    out = []
    for splits in (1, 2):
        layer.batch_splits = splits  # read when the layer runs
        layer.cell.seed_generator.state.assign(seed_state)  # the same draws both times
        out.append(layer(x, training=True).numpy())
    np.testing.assert_allclose(out[1], out[0], atol=TOL, rtol=TOL)
    assert not np.allclose(out[0], layer(x, training=False).numpy())  # dropout acted


def test_a_trained_model_with_split_batches_survives_a_keras_round_trip(tmp_path):
    x, _ = _data()
    inputs = keras.Input((STEPS, FEATURES))
    model = keras.Model(inputs, keras.layers.Dense(1)(fkl.GRU(UNITS, batch_splits=2)(inputs)))
    model.compile("adam", "mse")
    model.fit(x, np.ones((BATCH, 1), "float32"), epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.layers[1].batch_splits == 2
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_auto_is_one_loop_where_a_gpu_is_visible_and_two_on_a_multicore_cpu(monkeypatch):
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: [])
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert sequence.resolve_batch_splits("auto") == sequence.AUTO_CPU_BATCH_SPLITS == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert sequence.resolve_batch_splits("auto") == 1
    monkeypatch.setattr(tf.config, "list_logical_devices",
                        lambda kind=None: ["/device:GPU:0"] if kind == "GPU" else [])
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert sequence.resolve_batch_splits("auto") == 1
    assert sequence.resolve_batch_splits(3) == 3


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "two", None])
def test_batch_splits_that_is_not_auto_or_a_positive_integer_is_refused(bad):
    with pytest.raises(InvalidInputError, match="batch_splits"):
        fkl.LSTM(UNITS, batch_splits=bad)


def test_auto_is_one_loop_under_xla(monkeypatch):
    """XLA runs independent loops one after the other: "auto" keeps one loop there."""
    from forecastkit.layers import _fastpath

    seen = []
    real = _fastpath.fused_rnn

    def spy(*args, **kwargs):
        seen.append(kwargs["batch_splits"])
        return real(*args, **kwargs)

    monkeypatch.setattr(_fastpath, "fused_rnn", spy)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    layer = fkl.LSTM(UNITS)
    x, _ = _data()
    layer(x)
    plain = tf.function(lambda a: layer(a))(x)
    compiled = tf.function(lambda a: layer(a), jit_compile=True)(x)
    assert seen[-2:] == [2, 1]
    np.testing.assert_allclose(compiled.numpy(), plain.numpy(), atol=TOL, rtol=TOL)
