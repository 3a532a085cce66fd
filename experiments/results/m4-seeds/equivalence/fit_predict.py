"""Fit M4 Weekly lstm-tuned and forecast the test horizon, optionally with another shuffle order.

    python fit_predict.py <old|new> <seed> <shuffle offset or -> <out.csv>

The seed sets the members' initial weights and the window subset as in the M4 study; a shuffle
offset changes only the order the windows are visited in (old code, commit 353f3c4:
TensorFlow's global seed set just before each member's fit; new code: the stream's shuffle seed
plus the offset). Run the old code from a worktree of that commit with PYTHONPATH pointing to it.
"""
import sys
import time

import tensorflow as tf

import forecastkit as fk
from forecastkit.evaluation.registry import make_model


def main(which: str, seed: int, offset: str, out: str) -> None:
    train, _, _ = fk.datasets.load_m4("weekly")
    m = make_model("lstm", horizon=13, season_length=1, seed=seed)
    m.set_params(lookback=(104, 78, 156))
    if which == "new":
        m.set_params(max_windows=100_000, windows_per_epoch=None)
    if offset != "-" and which == "old":
        fit_member = type(m)._train_member

        def reshuffled(self, member, train, val, epochs, restore_best=True):
            tf.random.set_seed(int(offset) + len(getattr(self, "members_", [])))
            return fit_member(self, member, train, val, epochs, restore_best)

        type(m)._train_member = reshuffled
    elif offset != "-":
        from forecastkit.forecasters import _rnn_training

        stream = _rnn_training.TrainingData.dataset

        def reshuffled(self, lookback, batch_size, seed, validation=False):
            return stream(self, lookback, batch_size, seed + int(offset), validation)

        _rnn_training.TrainingData.dataset = reshuffled
    start = time.time()
    forecasts = m.fit(train).predict()
    print("seconds", round(time.time() - start, 1))
    forecasts.to_csv(out, index=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
