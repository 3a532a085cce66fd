"""``epochs="short"`` and ``make_model("lstm-fast")``: issue 19's cheaper recommended network.

The short schedule is 0.4 of ``"auto"``'s epochs at the same batch sizes; ``lstm-fast`` is it at
learning rate 3e-3 with the members in one graph. The reference for the named model is the same
network written out parameter by parameter (what experiments/m3.py's ``lstm-joint-short-lr3``
row trains on each M3 set).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation.registry import MODELS, make_model
from forecastkit.forecasters import InvalidParameterError
from forecastkit.forecasters._rnn_training import resolve_schedule

TINY = dict(units=(4,), lookback=(12, 9), n_models=2)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_trend_seasonal(n_series=4, length=(40, 60), season_length=12, seed=3)


@pytest.mark.parametrize("n_windows, expected", [(49_999, (8, 64)), (50_000, (4, 256))])
def test_short_schedule_is_0_4_of_auto_at_the_same_batch_sizes(n_windows, expected):
    short = resolve_schedule("short", "auto", False, n_windows)
    auto = resolve_schedule("auto", "auto", False, n_windows)
    assert (short.epochs, short.batch_size) == expected
    assert short.batch_size == auto.batch_size and short.small == auto.small
    assert short.epochs == round(0.4 * auto.epochs)
    # With early stopping it is a cap, as "auto" is.
    assert resolve_schedule("short", "auto", True, n_windows).epochs == 100


def test_short_schedule_trains_its_epochs_and_survives_saving(panel, tmp_path):
    f = fk.RNNForecaster(horizon=6, season_length=12, epochs="short", random_state=0,
                         **{**TINY, "n_models": 1}).fit(panel)
    assert (f.epochs_, f.batch_size_) == (8, 64)
    assert [len(h["loss"]) for h in f.history_] == [8]
    g = fk.load(f.save(tmp_path / "est"))
    assert (g.epochs, g.epochs_) == ("short", 8)
    np.testing.assert_array_equal(g.predict()["y_pred"], f.predict()["y_pred"])


def test_unknown_epochs_name_is_refused(panel):
    with pytest.raises(InvalidParameterError, match="epochs"):
        fk.RNNForecaster(horizon=6, season_length=12, epochs="quick").fit(panel)


def test_lstm_fast_is_the_short_schedule_at_3e_3_in_one_graph(panel):
    spec = MODELS["lstm-fast"]
    assert spec.kind == "rnn"
    assert spec.params == {"cell": "lstm", "ensemble_training": "joint", "epochs": "short",
                           "learning_rate": 3e-3}
    named = make_model("lstm-fast", horizon=6, season_length=12, seed=0, **TINY).fit(panel)
    written = fk.RNNForecaster(horizon=6, season_length=12, random_state=0, cell="lstm",
                               ensemble_training="joint", epochs=8, batch_size=64,
                               learning_rate=3e-3, **TINY).fit(panel)
    assert (named.epochs_, named.batch_size_) == (8, 64)
    np.testing.assert_array_equal(named.predict()["y_pred"], written.predict()["y_pred"])
