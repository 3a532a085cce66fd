"""recurrent_stack, serialization, configs, dropout and the clipped default optimizer."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import forecastkit as fk
import forecastkit.layers as fkl
from forecastkit.exceptions import InvalidInputError


def _task(n=96, steps=10, seed=0):
    """A learnable task: the target is the mean of the real (unpadded) steps."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, steps, 1)).astype("float32")
    lengths = rng.integers(3, steps + 1, size=n)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    x[~mask] = 0.0
    y = np.array([x[k, : lengths[k], 0].mean() for k in range(n)], "float32")[:, None]
    return x, y


def _model(stack, steps=10):
    inputs = keras.Input((steps, 1))
    h = keras.layers.Masking(0.0)(inputs)
    for layer in stack:
        h = layer(h)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def test_stack_structure():
    stack = fkl.recurrent_stack("gru", units=(8, 6, 4))
    assert [type(layer) for layer in stack] == [fkl.GRU] * 3
    assert [layer.return_sequences for layer in stack] == [True, True, False]
    assert [layer.cell.units for layer in stack] == [8, 6, 4]
    bi = fkl.recurrent_stack("rnn", units=5, bidirectional=True, merge_mode="sum",
                             return_sequences=True, dropout=0.1, activation="relu")
    assert isinstance(bi[0], keras.layers.Bidirectional)
    assert bi[0].merge_mode == "sum" and bi[0].forward_layer.return_sequences
    assert bi[0].forward_layer.cell.dropout == 0.1
    assert bi[0].forward_layer.cell.activation is keras.activations.relu


@pytest.mark.parametrize("bad", [{"cell": "transformer"}, {"units": ()}, {"units": (4, 0)},
                                 {"units": (4, 2.5)}, {"units": True}, {"merge_mode": "max"}])
def test_stack_rejects_bad_configuration(bad):
    with pytest.raises(InvalidInputError):
        fkl.recurrent_stack(**bad)


def test_stack_masks_flow_through_every_layer():
    x, _ = _task(n=4)
    model = _model(fkl.recurrent_stack("lstm", units=(4, 3), bidirectional=True))
    padded = np.concatenate([x, np.zeros((4, 5, 1), "float32")], axis=1)
    longer = _model(fkl.recurrent_stack("lstm", units=(4, 3), bidirectional=True), steps=15)
    longer.set_weights(model.get_weights())
    # trailing padding changes nothing when the mask reaches both layers and both directions
    np.testing.assert_allclose(longer(padded), model(x), atol=1e-5)


@pytest.mark.slow  # ~10 s each, nearly all of it Keras tracing the train step
@pytest.mark.parametrize(("cell", "bidirectional"), [("lstm", False), ("gru", True)])
def test_stack_trains_and_survives_keras_round_trip(cell, bidirectional, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _task()
    model = _model(fkl.recurrent_stack(cell, units=(8, 8), bidirectional=bidirectional))
    # XLA compilation would take longer than this whole test's training
    model.compile(optimizer=fkl.default_optimizer(learning_rate=1e-2), loss="mse",
                  jit_compile=False)
    before = float(np.mean((model(x).numpy() - y) ** 2))
    model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    after = float(np.mean((model(x).numpy() - y) ** 2))
    assert after < 0.5 * before
    path = tmp_path / "stack.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    assert isinstance(loaded.layers[2], (fkl.LSTM, keras.layers.Bidirectional))


@pytest.mark.parametrize("layer_class", [fkl.SimpleRNN, fkl.LSTM, fkl.GRU])
def test_layer_config_round_trip(layer_class):
    layer = layer_class(3, return_sequences=True, go_backwards=True, dropout=0.2,
                        kernel_regularizer="l2", fast=False, name="rec")
    clone = layer_class.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone.cell.dropout == 0.2 and clone.go_backwards and clone.fast is False
    assert not hasattr(layer, "units")  # arguments are read through .cell, not forwarded
    cell_clone = type(layer.cell).from_config(layer.cell.get_config())
    assert cell_clone.get_config() == layer.cell.get_config()


def test_cell_arguments():
    lstm = fkl.LSTMCell(4)
    lstm.build((None, 2))
    bias = lstm.bias.numpy()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    rnn = fkl.SimpleRNNCell(5, activation="relu", recurrent_initializer="identity")
    rnn.build((None, 2))
    np.testing.assert_array_equal(rnn.recurrent_kernel.numpy(), np.eye(5))
    gru = fkl.GRUCell(3)
    gru.build((None, 2))
    assert gru.bias.shape == (2, 9)
    assert fkl.GRUCell(3, reset_after=False).get_config()["reset_after"] is False
    with pytest.raises(InvalidInputError, match="units"):
        fkl.LSTMCell(0)
    with pytest.raises(InvalidInputError, match="fast"):
        fkl.LSTM(3, fast="sometimes")


def test_regularizers_reach_the_loss():
    layer = fkl.GRU(3, kernel_regularizer=keras.regularizers.L2(1.0))
    layer(np.ones((2, 4, 2), "float32"))
    expected = float(np.sum(layer.cell.kernel.numpy() ** 2))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), expected, rtol=1e-5)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("layer_class", [fkl.SimpleRNN, fkl.LSTM, fkl.GRU])
def test_dropout_only_while_training(layer_class, fast):
    x = np.random.default_rng(0).normal(size=(8, 6, 3)).astype("float32")
    layer = layer_class(4, dropout=0.5, recurrent_dropout=0.5, seed=1, fast=fast)
    plain = layer_class(4, fast=fast)
    plain(x)
    layer(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, training=False), plain(x), atol=1e-6)
    assert not np.allclose(layer(x, training=True), plain(x), atol=1e-3)
    assert np.isfinite(layer(x, training=True)).all()


def _exploding_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((30, 1))
    h = fkl.SimpleRNN(8, activation="relu",
                      recurrent_initializer=keras.initializers.Identity(gain=2.0))(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(h))


def test_clipnorm_keeps_an_exploding_network_finite():
    x = np.abs(np.random.default_rng(0).normal(size=(16, 30, 1))).astype("float32") + 0.5
    y = np.zeros((16, 1), "float32")
    # the setting explodes: plain SGD with the same learning rate ends in non-finite weights
    unclipped = _exploding_model()
    unclipped.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=False)
    unclipped.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert not all(np.isfinite(w).all() for w in unclipped.get_weights())

    clipped = _exploding_model()
    optimizer = fkl.default_optimizer(learning_rate=0.1)
    assert optimizer.clipnorm == 1.0
    clipped.compile(optimizer=optimizer, loss="mse", jit_compile=False)
    clipped.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert all(np.isfinite(w).all() for w in clipped.get_weights())


def test_public_names():
    assert fk.layers.LSTM is fkl.LSTM
    for name in fkl.__all__:
        assert getattr(fk.layers, name) is not None
