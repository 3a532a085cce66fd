"""RNNForecaster(batch_splits=...): the members' recurrent layers run each batch as several
loops. The reference is the same forecaster with one loop: the same windows, the same steps,
so the same forecasts up to the float rounding of the gradients' sums."""

from __future__ import annotations

import numpy as np

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal

PARAMS = dict(cell="gru", units=(8,), lookback=(12, 8), horizon=4, season_length=12, epochs=2,
              batch_size=32, n_models=2, random_state=0, strategy="seq2seq")


def _layers(f):
    return [layer for member in f.members_ for layer in member.layers
            if isinstance(layer, fk.layers.GRU)]


def test_split_batches_train_what_one_loop_trains_and_are_saved(tmp_path):
    df = make_trend_seasonal(n_series=7, length=(40, 60), season_length=12, seed=4)
    one = fk.RNNForecaster(**PARAMS).fit(df)
    split = fk.RNNForecaster(**PARAMS, batch_splits=3).fit(df)
    # encoder and decoder of both members
    assert [la.batch_splits for la in _layers(split)] == [3] * 4
    assert [la.batch_splits for la in _layers(one)] == [1] * 4
    for a, b in zip(one.history_, split.history_, strict=True):
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4)
    np.testing.assert_allclose(split.predict_array(), one.predict_array(), rtol=1e-4)
    split.save(tmp_path / "split")
    loaded = fk.load(tmp_path / "split")
    assert loaded.batch_splits == 3 and [la.batch_splits for la in _layers(loaded)] == [3] * 4
    np.testing.assert_array_equal(loaded.predict_array(), split.predict_array())
