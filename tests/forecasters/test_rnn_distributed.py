"""RNNForecaster under a tf.distribute strategy (Keras' convention: fit inside
``strategy.scope()``). Runs in a fresh process, where two logical CPUs can still be made."""

import json
import subprocess
import sys

import numpy as np

SCRIPT = r"""
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import forecastkit as fk

df = fk.datasets.make_trend_seasonal(n_series=6, length=70, season_length=12, seed=3)
kw = dict(horizon=6, season_length=12, epochs=1, n_models=1, units=(8,), random_state=0,
          batch_size=64)
out = {}
strategies = {"one": tf.distribute.MirroredStrategy(["/cpu:0"]),
              "two": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])}
for name in ("none", "one", "two"):
    if name == "none":
        f = fk.RNNForecaster(**kw).fit(df)
    else:
        with strategies[name].scope():
            f = fk.RNNForecaster(**kw).fit(df)
            out[name + "_inside"] = f.predict_array().tolist()
    out[name] = f.predict_array().tolist()
    out[name + "_replicas"] = f.members_[0].distribute_strategy.num_replicas_in_sync
    out[name + "_loss"] = f.history_[0]["loss"]
with strategies["two"].scope():  # one strategy per process: its collectives are keyed by it
    q = fk.RNNForecaster(loss="quantile", **kw).fit(df)
out["quantiles"] = q.predict_quantiles_array([0.1, 0.5, 0.9]).tolist()
# Batches that do not split evenly over two replicas: 63 windows a batch, and 7 series'
# validation windows (4 and 3), which Keras' own fit fails on.
odd = fk.datasets.make_trend_seasonal(n_series=7, length=70, season_length=12, seed=3)
odd_kw = {**kw, "batch_size": 63, "early_stopping": True, "epochs": 2}
for name, scope in (("odd_none", None), ("odd_two", strategies["two"])):
    if scope is None:
        g = fk.RNNForecaster(**odd_kw).fit(odd)
    else:
        with scope.scope():
            g = fk.RNNForecaster(**odd_kw).fit(odd)
    out[name] = g.predict_array().tolist()
    out[name + "_history"] = g.history_[0]
print(json.dumps(out))
"""


def test_fit_inside_a_mirrored_strategy_scope_trains_one_model_across_replicas():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    none, one, two = (np.array(out[k]) for k in ("none", "one", "two"))
    assert none.shape == one.shape == two.shape == (6, 6)  # one row per series, not per replica
    assert out["two_replicas"] == 2 and out["none_replicas"] == 1
    # The global batch split over two replicas trains the same model as one replica does.
    np.testing.assert_allclose(two, one, rtol=1e-4)
    np.testing.assert_allclose(out["two_loss"], out["one_loss"], rtol=1e-4)
    # Forecasts inside and outside the scope are the same.
    np.testing.assert_allclose(np.array(out["two_inside"]), two, rtol=1e-6)
    # And what a fit without a strategy trains, on the same stream of windows.
    np.testing.assert_allclose(two, none, rtol=1e-4)
    np.testing.assert_allclose(out["two_loss"], out["none_loss"], rtol=1e-4)
    odd_none, odd_two = np.array(out["odd_none"]), np.array(out["odd_two"])
    assert np.all(np.isfinite(out["odd_two_history"]["val_loss"]))
    # Not the same steps: Keras weighs each replica's part of a batch equally (32 and 31
    # windows here) and clips each replica's gradient before the sum. Close, still.
    assert np.abs(odd_two - odd_none).max() / np.abs(odd_none).max() < 0.01
    np.testing.assert_allclose(out["odd_two_history"]["val_loss"],
                               out["odd_none_history"]["val_loss"], rtol=1e-2)
    q = np.array(out["quantiles"])
    assert q.shape == (6, 6, 3) and np.all(np.diff(q, axis=-1) >= 0)
