"""RNNForecaster under a MultiWorkerMirroredStrategy: two worker processes on this machine,
each with its own ``TF_CONFIG`` (localhost ports), train one global model.

The reference is the same forecaster fitted in this process without a strategy: the two
workers split each global batch and sum the halves' gradients, which is the same step up to
float order."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import forecastkit as fk
from forecastkit.exceptions import InvalidInputError
from forecastkit.forecasters._multi_worker import local_cluster

WORKER = r"""
import json, os, sys
index, out = int(sys.argv[1]), sys.argv[2]  # TF_CONFIG comes in the environment
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import tensorflow as tf
import forecastkit as fk

strategy = tf.distribute.MultiWorkerMirroredStrategy()
df = fk.datasets.make_trend_seasonal(n_series=6, length=70, season_length=12, seed=3)
kw, STOPPING = json.loads(sys.argv[3]), json.loads(sys.argv[4])
result = {"replicas": strategy.num_replicas_in_sync}
# Worker 1 trains the second model on noisy values: its shard of the data differs from what
# worker 0 would have read, yet a global model still ends with one set of weights.
noise = 0.05 * index * np.random.default_rng(0).standard_normal(len(df))
noisy = df.assign(y=df["y"] * (1 + noise))
# One series: its one validation window leaves worker 1's half of the batch empty, and a
# large step makes early stopping stop and restore.
one = df[df["unique_id"] == df["unique_id"].iloc[0]]
with strategy.scope():
    f = fk.RNNForecaster(**kw).fit(df)
    joint = fk.RNNForecaster(**{**kw, "ensemble_training": "joint"}).fit(noisy)
    stopped = fk.RNNForecaster(**{**kw, **STOPPING}).fit(one)
    try:  # a seed drawn in each worker would give each its own order of windows
        fk.RNNForecaster(**{**kw, "random_state": None}).fit(df)
    except fk.exceptions.InvalidInputError as err:
        result["unseeded"] = str(err)
result.update(forecasts=f.predict_array().tolist(), history=f.history_,
              joint=joint.predict_array(y=df).tolist(), joint_history=joint.history_,
              stopped=stopped.predict_array().tolist(), stopped_history=stopped.history_)
if index == 0:  # the chief saves; a fresh load serves the same forecasts
    f.save(out)
    result["loaded"] = fk.load(out).predict_array().tolist()
print(json.dumps(result))
"""

KW = dict(horizon=6, season_length=12, epochs=2, n_models=2, units=(8,), random_state=0,
          batch_size=64, early_stopping=True)
STOPPING = dict(n_models=1, epochs=30, patience=1, learning_rate=0.05)


def _run_workers(tmp_path, n=2, timeout=600):
    """Start ``n`` workers; their last stdout lines as JSON. Every worker is killed at the
    end: one that failed leaves the others waiting in a collective."""
    logs = [(tmp_path / f"out{i}.txt", tmp_path / f"err{i}.txt") for i in range(n)]
    workers = []
    try:
        for i, config in enumerate(local_cluster(n)):
            # No GPU: one would be shared by both workers.
            env = {**os.environ, "TF_CONFIG": config, "CUDA_VISIBLE_DEVICES": ""}
            out, err = logs[i]
            with open(out, "w") as o, open(err, "w") as e:
                workers.append(subprocess.Popen(
                    [sys.executable, "-c", WORKER, str(i), str(tmp_path / "saved"),
                     json.dumps(KW), json.dumps(STOPPING)], stdout=o, stderr=e, env=env))
        deadline = time.monotonic() + timeout
        # Until all have finished, one has failed (the others would wait for it in a
        # collective) or the time is up.
        while any(w.poll() is None for w in workers) and time.monotonic() < deadline:
            if any(w.poll() not in (None, 0) for w in workers):
                break
            time.sleep(0.5)
    finally:
        for w in workers:
            w.kill()
    for w in workers:
        w.wait()
    for w, (_, err) in zip(workers, logs, strict=True):
        assert w.returncode == 0, err.read_text()[-3000:]
    return [json.loads(out.read_text().strip().splitlines()[-1]) for out, _ in logs]


def test_two_workers_train_one_global_model(tmp_path):
    results = _run_workers(tmp_path)
    chief, other = results
    assert chief["replicas"] == other["replicas"] == 2
    forecasts = np.array(chief["forecasts"])
    assert forecasts.shape == (6, 6) and np.all(np.isfinite(forecasts))
    # One global model: both workers hold the same weights, so the same forecasts, bit for bit.
    np.testing.assert_array_equal(forecasts, np.array(other["forecasts"]))
    assert chief["history"] == other["history"]  # the logs are global, not a worker's own
    # Trained on different data in each worker, the joint model is still one model: workers
    # that trained apart would disagree here.
    np.testing.assert_array_equal(np.array(chief["joint"]), np.array(other["joint"]))
    assert chief["joint_history"] == other["joint_history"]
    np.testing.assert_array_equal(np.array(chief["loaded"]), forecasts)
    # It is the model one process trains on all the data, up to float order.
    alone = fk.RNNForecaster(**KW).fit(
        fk.datasets.make_trend_seasonal(n_series=6, length=70, season_length=12, seed=3))
    reference = alone.predict_array()
    assert np.abs(forecasts - reference).max() / np.abs(reference).max() < 0.01
    for mine, ref in zip(chief["history"], alone.history_, strict=True):
        assert mine.keys() == ref.keys() == {"loss", "val_loss"}
        # The first epoch's mean loss is over the same windows with nearly the same weights.
        np.testing.assert_allclose(mine["loss"][0], ref["loss"][0], rtol=1e-3)
        np.testing.assert_allclose(mine["val_loss"], ref["val_loss"], rtol=1e-2)
    # An empty half of a batch leaves the losses finite, and early stopping stops both
    # workers at the same epoch.
    history = chief["stopped_history"][0]
    assert chief["stopped_history"] == other["stopped_history"]
    assert np.all(np.isfinite(history["loss"])) and np.all(np.isfinite(history["val_loss"]))
    assert len(history["loss"]) < STOPPING["epochs"]
    np.testing.assert_array_equal(np.array(chief["stopped"]), np.array(other["stopped"]))
    # No seed is refused, with a forecastkit error naming the parameter, on every worker.
    assert "random_state" in chief["unseeded"] and "random_state" in other["unseeded"]


def test_local_cluster_gives_each_worker_its_place_and_a_port_of_its_own():
    configs = [json.loads(c) for c in local_cluster(3)]
    hosts = configs[0]["cluster"]["worker"]
    assert len(set(hosts)) == 3 and all(h.startswith("localhost:") for h in hosts)
    assert all(c["cluster"]["worker"] == hosts for c in configs)
    assert [c["task"] for c in configs] == [{"type": "worker", "index": i} for i in range(3)]


def test_local_cluster_refuses_a_count_that_is_not_a_positive_integer():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidInputError, match="n_workers"):
            local_cluster(bad)
