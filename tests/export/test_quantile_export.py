"""SavedModels of probabilistic networks serve ``quantiles`` equal to ``predict(quantiles=...)``
(in-process and in a fresh process without forecastkit), and every SavedModel refuses malformed
requests with a message instead of computing nonsense (issue 16, item 10).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.data import to_panel
from forecastkit.exceptions import ExportError

tf = pytest.importorskip("tensorflow")

LEVELS = [0.05, 0.25, 0.5, 0.75, 0.95]
H = 4


@pytest.fixture(scope="module")
def monthly():
    return fk.datasets.make_trend_seasonal(n_series=6, length=(40, 60), season_length=12,
                                           seed=3, freq="MS")


@pytest.fixture(scope="module", params=[
    {"loss": "quantile"},
    {"distribution": "student_t", "strategy": "seq2seq"},
])
def probabilistic(request, monthly):
    return fk.RNNForecaster(horizon=H, season_length=12, units=(6,), lookback=(12, 18),
                            epochs=2, n_models=2, random_state=0, **request.param).fit(monthly)


@pytest.fixture(scope="module")
def exported(probabilistic, tmp_path_factory):
    """The SavedModel with quantiles of each probabilistic network, exported once for the
    in-process and the fresh-process checks (an export traces every member)."""
    return fk.export_saved_model(probabilistic, tmp_path_factory.mktemp("quantiles") / "m",
                                 quantiles=LEVELS)


@pytest.fixture(scope="module")
def not_quantile_exportable(monthly):
    """A point network and a recursive distribution network, fitted once for the refusals
    of both probabilistic parameters (the export refuses them before writing anything)."""
    point = fk.RNNForecaster(horizon=H, units=(4,), lookback=8, epochs=1, n_models=1,
                             random_state=0).fit(monthly)
    recursive = fk.RNNForecaster(horizon=H, units=(4,), lookback=8, epochs=1, n_models=1,
                                 distribution="normal", strategy="recursive",
                                 random_state=0).fit(monthly)
    return point, recursive


def _served(export_dir, inputs, signature="serve_masked"):
    model = tf.saved_model.load(str(export_dir))
    fn = model.signatures[signature]
    names = fn.structured_input_signature[1]
    return {k: v.numpy() for k, v in fn(**{k: tf.constant(inputs[k]) for k in names}).items()}


def test_served_quantiles_equal_predict(probabilistic, exported, monthly):
    f, path = probabilistic, exported
    meta = json.loads((path / "assets" / "forecastkit.json").read_text())
    assert meta["quantile_levels"] == LEVELS
    assert meta["signatures"]["serve"]["outputs"]["quantiles"]["shape"] == [None, H, 5]
    inputs = f.serving_inputs(to_panel(monthly))
    out = _served(path, inputs)
    expected = f.predict_quantiles_array(LEVELS)
    atol = 1e-5 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(out["quantiles"], expected, rtol=0, atol=atol)
    np.testing.assert_allclose(out["forecast"], f.predict_array(), rtol=0, atol=atol)


def test_served_quantiles_in_a_fresh_process_without_forecastkit(probabilistic, exported,
                                                                 monthly, tmp_path):
    import sysconfig

    from tests.export.test_fresh_process import _python_without_forecastkit

    f, path = probabilistic, exported
    inputs = f.serving_inputs(to_panel(monthly))
    np.savez(tmp_path / "inputs.npz", **inputs)
    child = tmp_path / "child.py"
    child.write_text(
        "import sys, json\n"
        "sys.path.append(sys.argv[1])\n"
        "import numpy as np, tensorflow as tf\n"
        "try:\n    import forecastkit\n    fk = True\nexcept ImportError:\n    fk = False\n"
        "data = np.load(sys.argv[3])\n"
        "fn = tf.saved_model.load(sys.argv[2]).signatures['serve_masked']\n"
        "names = fn.structured_input_signature[1]\n"
        "out = fn(**{k: tf.constant(data[k]) for k in names})\n"
        "np.save(sys.argv[4], out['quantiles'].numpy())\n"
        "print(json.dumps({'forecastkit': fk}))\n"
    )
    site = sysconfig.get_paths()["purelib"]
    proc = _python_without_forecastkit(
        [str(child), site, str(path), str(tmp_path / "inputs.npz"), str(tmp_path / "q.npy")],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == {"forecastkit": False}
    expected = f.predict_quantiles_array(LEVELS)
    atol = 1e-5 * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(np.load(tmp_path / "q.npy"), expected, rtol=0, atol=atol)


def test_quantile_export_refusals(not_quantile_exportable, probabilistic, tmp_path):
    point, recursive = not_quantile_exportable
    with pytest.raises(ExportError, match="cannot serve quantiles"):
        fk.export_saved_model(point, tmp_path / "a", quantiles=LEVELS)
    with pytest.raises(ExportError, match="outside"):
        fk.export_saved_model(probabilistic, tmp_path / "b", quantiles=[0.5, 1.5])
    with pytest.raises(ExportError, match="sampling"):
        fk.export_saved_model(recursive, tmp_path / "c", quantiles=LEVELS)
    assert not any((tmp_path / d).exists() for d in "abc")


@pytest.mark.parametrize("params", [{"deseasonalize": False}, {"deseasonalize": True}])
def test_malformed_requests_are_refused_with_a_message(monthly, tmp_path, params):
    f = fk.RNNForecaster(horizon=H, season_length=12, units=(4,), lookback=12, epochs=1,
                         n_models=1, random_state=0, **params).fit(monthly)
    path = fk.export_saved_model(f, tmp_path / "m")
    fn = tf.saved_model.load(str(path)).signatures["serve_masked"]
    good = f.serving_inputs(to_panel(monthly))
    width = good["history"].shape[1]

    def call(**changes):
        feed = {**good, **changes}
        names = fn.structured_input_signature[1]
        return fn(**{k: tf.constant(feed[k]) for k in names})

    narrow = {"history": good["history"][:, 1:], "mask": good["mask"][:, 1:]}
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError, TypeError),
                       match=f"{width}"):
        call(**narrow)
    empty = {k: v[:0] for k, v in good.items()}
    with pytest.raises(tf.errors.InvalidArgumentError, match="no series"):
        call(**empty)
    huge = good["history"].copy()
    huge[0, -1] = 2e38
    with pytest.raises(tf.errors.InvalidArgumentError, match="float32"):
        call(history=huge)
    np.testing.assert_allclose(call()["forecast"].numpy(), f.predict_array(), rtol=1e-5)


def test_export_to_an_unwritable_place_is_an_export_error(monthly, tmp_path):
    f = fk.baselines.Naive(horizon=H).fit(monthly)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError):
        fk.export_saved_model(f, blocker / "model")


def test_series_input_quantile_frame_matches_array(probabilistic, monthly):
    one = monthly[monthly["unique_id"] == monthly["unique_id"].iloc[0]]
    y = pd.Series(one["y"].to_numpy(), index=pd.DatetimeIndex(one["ds"], freq="MS"))
    q = probabilistic.predict(y=y, quantiles=LEVELS)
    np.testing.assert_allclose(q[[f"q{v:g}" for v in LEVELS]].to_numpy(),
                               probabilistic.predict_quantiles_array(LEVELS, y=y)[0])
