"""How ``fit`` hands its streams to Keras (``_rnn_training.keras_streams``): one iterator of
the training stream for the whole fit and a cached validation stream, where Keras alone makes
new iterators every epoch.

The reference is Keras' own iteration of the unchanged streams: the fit must train bit for bit
as it does."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal
from forecastkit.forecasters import _rnn_training

PARAMS = dict(cell="lstm", units=(8,), lookback=(12, 8), horizon=4, season_length=12,
              epochs=4, batch_size=16, n_models=2, random_state=3, early_stopping=True,
              patience=10, windows_per_epoch=48)


def _keras_own_iteration(train, validation):
    return train, None, validation


def _fit(**kw):
    panel = make_trend_seasonal(n_series=5, length=(40, 60), season_length=12, seed=2)
    return fk.RNNForecaster(**{**PARAMS, **kw}).fit(panel)


def test_one_iterator_trains_bit_for_bit_as_keras_own_iteration(monkeypatch):
    # every epoch draws a new order and a new subset of windows (windows_per_epoch), and early
    # stopping reads the validation stream every epoch: a shifted order or a stale cache shows
    ours = _fit()
    monkeypatch.setattr(_rnn_training, "keras_streams", _keras_own_iteration)
    keras_own = _fit()
    assert ours.history_ == keras_own.history_
    assert all(len(h["loss"]) == PARAMS["epochs"] for h in ours.history_)
    for a, b in zip(ours.members_, keras_own.members_, strict=True):
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)


def test_members_trained_in_one_graph_also_train_as_before(monkeypatch):
    ours = _fit(ensemble_training="joint", epochs=3)
    monkeypatch.setattr(_rnn_training, "keras_streams", _keras_own_iteration)
    keras_own = _fit(ensemble_training="joint", epochs=3)
    assert ours.history_ == keras_own.history_
    np.testing.assert_array_equal(ours.predict_array(), keras_own.predict_array())


def test_the_repeated_stream_gives_each_epoch_the_batches_of_every_other_new_iterator():
    def stream():  # a new order each iteration, as the training stream's shuffle keys
        keys = tf.data.Dataset.random(seed=5, rerandomize_each_iteration=True).take(1)
        batches = keys.flat_map(lambda k: tf.data.Dataset.range(6).map(lambda i: (i + k) % 97))
        return batches.apply(tf.data.experimental.assert_cardinality(6))  # as window_dataset

    fresh = stream()
    orders = [list(fresh.as_numpy_iterator()) for _ in range(6)]
    assert orders[0] != orders[1]  # the key moves with each iteration
    train, steps, _ = _rnn_training.keras_streams(stream(), None)
    assert steps == 6
    it = iter(train)
    got = [[int(next(it)) for _ in range(6)] for _ in range(3)]
    # Keras discards the iterator it makes at each epoch's end: epoch k read order 2k
    assert got == [orders[0], orders[2], orders[4]]


def test_a_stream_of_unknown_length_is_left_to_keras_and_validation_is_cached():
    unknown = tf.data.Dataset.range(10).filter(lambda i: i % 2 == 0)
    val = tf.data.Dataset.range(3)
    train, steps, cached = _rnn_training.keras_streams(unknown, val)
    assert train is unknown and steps is None
    assert list(cached.as_numpy_iterator()) == [0, 1, 2]
    assert "CacheDataset" in type(cached).__name__
    known = tf.data.Dataset.range(4)
    train, steps, none = _rnn_training.keras_streams(known, None)
    assert steps == 4 and none is None
    assert train.cardinality() == tf.data.INFINITE_CARDINALITY
