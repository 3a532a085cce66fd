"""RNNForecaster(callbacks=...): Keras callbacks (TensorBoard, custom) watch every network's
training; verbose=2 shows Keras' progress per epoch; neither changes the forecasts, the saved
model or the identity stored runs are resumed by."""

from pathlib import Path

import keras
import numpy as np
import pytest

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation.identity import describe
from forecastkit.forecasters import InvalidParameterError

SMALL = dict(horizon=4, season_length=12, units=(4,), lookback=12, epochs=2, batch_size=32,
             random_state=0)


@pytest.fixture(scope="module")
def panel():
    return make_trend_seasonal(n_series=3, length=60, season_length=12, seed=0)


class EpochCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.models, self.epochs = [], 0

    def on_train_begin(self, logs=None):
        self.models.append(self.model.name)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def test_callbacks_see_every_members_epochs_and_change_nothing(panel):
    counter = EpochCounter()
    watched = fk.RNNForecaster(**SMALL, n_models=2, callbacks=[counter]).fit(panel)
    assert counter.models == ["member_0", "member_1"]
    assert counter.epochs == 2 * 2
    plain = fk.RNNForecaster(**SMALL, n_models=2).fit(panel)
    np.testing.assert_array_equal(watched.predict_array(), plain.predict_array())


def test_tensorboard_writes_each_network_as_its_own_run(panel, tmp_path):
    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path / "logs"))
    # patience 1: the probe stops soon (up to 100 epochs otherwise); its run is written all the same
    fk.RNNForecaster(**{**SMALL, "epochs": "probe"}, n_models=2, patience=1,
                     callbacks=[board]).fit(panel)
    runs = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert runs == ["member_0", "member_1", "probe"]
    for run in runs:
        events = list((tmp_path / "logs" / run / "train").glob("events.out.tfevents.*"))
        assert events and events[0].stat().st_size > 0, run
    assert board.log_dir == str(tmp_path / "logs")  # the user's object is left as given


def test_verbose_2_shows_keras_progress_per_epoch(panel, capsys):
    fk.RNNForecaster(**SMALL, n_models=1, verbose=2).fit(panel)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out


def test_something_else_than_a_callback_is_refused(panel):
    with pytest.raises(InvalidParameterError, match=r"callbacks\[1\] is a str"):
        fk.RNNForecaster(**SMALL, callbacks=[EpochCounter(), "tensorboard"]).fit(panel)


def test_callbacks_are_not_saved_and_leave_the_run_identity_alone(panel, tmp_path):
    f = fk.RNNForecaster(**SMALL, n_models=1, callbacks=[EpochCounter()]).fit(panel)
    f.save(tmp_path / "f")
    loaded = fk.load(tmp_path / "f")
    assert loaded.callbacks is None
    np.testing.assert_array_equal(loaded.predict_array(), f.predict_array())
    # Runs stored before the parameter existed describe the forecaster without it.
    assert "callbacks" not in describe(fk.RNNForecaster(**SMALL))
    assert "callbacks=['EpochCounter']" in describe(f)
    assert describe(f) == describe(fk.RNNForecaster(**SMALL, n_models=1,
                                                    callbacks=[EpochCounter()]))


def test_log_dir_paths_are_folders_per_member(tmp_path):
    from forecastkit.forecasters._rnn_training import _per_member

    board = keras.callbacks.TensorBoard(log_dir=str(tmp_path))
    copy = _per_member(board, "member_3")
    assert Path(copy.log_dir) == tmp_path / "member_3" and copy is not board
    other = EpochCounter()
    assert _per_member(other, "member_3") is other
