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
    # Keras' own distributed fit differs slightly from its plain one (float order of the
    # distributed input pipeline); the forecasts agree to well within a percent.
    assert np.abs(two - none).max() / np.abs(none).max() < 0.01
    q = np.array(out["quantiles"])
    assert q.shape == (6, 6, 3) and np.all(np.diff(q, axis=-1) >= 0)
