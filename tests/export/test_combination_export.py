"""Combinations export as SavedModels and are served without forecastkit, equal to predict.

The classical members fit themselves inside the graph on the histories sent, so the served
forecast must equal ``predict`` (training histories) and ``predict(y=query)`` (new ones) to
1e-4 of each series' scale; the graph computes in float64 from the float32 history, so the
agreement is in fact near 1e-7. One child process without forecastkit on ``sys.path`` loads
every SavedModel with TensorFlow alone (each TensorFlow import costs seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import warnings

import numpy as np
import pandas as pd
import pytest

from forecastkit.exceptions import ExportError

tf = pytest.importorskip("tensorflow")

import forecastkit as fk  # noqa: E402
from forecastkit.forecasters.combination import Combination  # noqa: E402
from forecastkit.forecasters.validated import ValidatedCombination  # noqa: E402

H = 6
B = fk.baselines
TOLERANCE = 1e-4  # of max(1, the series' largest forecast)


def _relative_error(got, expected) -> float:
    scale = np.maximum(1.0, np.abs(expected).max(axis=1, keepdims=True))
    return float(np.max(np.abs(got - expected) / scale))


def _serve(export_dir, inputs, signature="serve_masked"):
    model = tf.saved_model.load(str(export_dir))
    fn = model.signatures[signature]
    names = fn.structured_input_signature[1]
    return fn(**{k: tf.constant(inputs[k]) for k in names})["forecast"].numpy()


@pytest.fixture(scope="module")
def monthly():
    return fk.datasets.make_trend_seasonal(n_series=5, length=(30, 60), season_length=12,
                                           seed=2, freq="MS")


def _classical_members():
    return [("theta", B.Theta(season_length=12, horizon=H, n_jobs=1)),
            ("comb", B.Comb(season_length=12, horizon=H, n_jobs=1)),
            ("snaive", B.SeasonalNaive(season_length=12, horizon=H)),
            ("inner", Combination([("drift", B.Drift(horizon=H)),
                                   ("naive2", B.Naive2(season_length=12, horizon=H))],
                                  weights=[1.0, 3.0], horizon=H))]


@pytest.mark.parametrize("make", [
    lambda: Combination(_classical_members()),
    lambda: Combination(_classical_members(), combine="median"),
    lambda: ValidatedCombination(_classical_members(), n_windows=2),
    lambda: ValidatedCombination(_classical_members(), candidates=[["theta", "comb"]],
                                 refit=False),
    lambda: B.Theta(season_length=12, horizon=H, n_jobs=1),
], ids=["mean", "median", "validated", "validated-norefit", "theta-alone"])
def test_classical_combinations_serve_what_predict_gives(make, monthly,
                                                         combination_helpers, tmp_path):
    served_inputs = combination_helpers.served_inputs
    f = make()
    query = fk.datasets.make_trend_seasonal(n_series=3, length=(20, 45), season_length=12,
                                            seed=8, freq="MS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f.fit(monthly)
        expected, expected_query = f.predict_array(), f.predict_array(y=query)
    export_dir = fk.export_saved_model(f, tmp_path / "model")
    meta = json.loads((export_dir / "assets" / "forecastkit.json").read_text())
    width = int(f.panel_.lengths.max())
    assert meta["lookback"] == width == meta["training_lengths"]["max"]
    assert meta["signatures"]["serve_masked"]["inputs"]["mask"]["shape"] == [None, width]
    assert meta["horizon"] == H and not meta["season_position"]
    got = _serve(export_dir, served_inputs(f, monthly, width))
    assert _relative_error(got, expected) < TOLERANCE
    assert _relative_error(_serve(export_dir, served_inputs(f, query, width)),
                           expected_query) < TOLERANCE
    # "serve" takes full-width histories: the longest training series.
    full = served_inputs(f, monthly, width)
    rows = full["mask"].all(axis=1)
    got = _serve(export_dir, {"history": full["history"][rows]}, "serve")
    assert _relative_error(got, expected[rows]) < TOLERANCE


def test_metadata_describes_the_graph(monthly, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ValidatedCombination(_classical_members(), candidates=[["theta", "inner"]]).fit(
            monthly)
    meta = json.loads((fk.export_saved_model(f, tmp_path) / "assets" /
                       "forecastkit.json").read_text())
    assert meta["forecaster"] == "ValidatedCombination"
    graph = meta["graph"]
    assert graph["selected"] == ["theta", "inner"]
    members = graph["chosen"]["members"]
    assert members["theta"]["class"] == "Theta"
    assert members["inner"]["members"]["naive2"]["class"] == "Naive2"
    assert members["inner"]["weights"] == [1.0, 3.0]
    assert [e["name"] for e in meta["model"]["estimators"]] == ["theta", "comb", "snaive",
                                                               "inner"]


def test_a_member_outside_the_graph_is_named_and_nothing_is_written(monthly, tmp_path):
    members = [("theta", B.Theta(season_length=12, horizon=H, n_jobs=1)),
               ("ets", B.ETS(season_length=12, horizon=H, n_jobs=1))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ValidatedCombination(members, candidates=[["theta", "ets"]]).fit(monthly)
    (tmp_path / "model" / "1").mkdir(parents=True)
    (tmp_path / "model" / "1" / "saved_model.pb").write_text("the version being served")
    with pytest.raises(ExportError, match="chosen 'theta\\+ets' -> member 'ets' is a ETS"):
        fk.export_saved_model(f, tmp_path / "model", overwrite=True)
    # The version already there is left as it was.
    assert (tmp_path / "model" / "1" / "saved_model.pb").read_text() == "the version being served"
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["1"]
    # An unchosen candidate that cannot go into the graph does not matter.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ValidatedCombination(members, candidates=[["theta"], ["ets"]]).fit(monthly)
    g.selected_ = ("theta",)
    g.best_estimator_ = B.Theta(season_length=12, horizon=H, n_jobs=1).fit(monthly)
    assert fk.export_saved_model(g, tmp_path / "other").is_dir()


def test_bad_requests_fail_with_a_message(monthly, tmp_path):
    f = Combination([("naive", B.Naive(horizon=H)), ("drift", B.Drift(horizon=H))]).fit(monthly)
    export_dir = fk.export_saved_model(f, tmp_path)
    width = int(f.panel_.lengths.max())
    history = np.ones((2, width), np.float32)
    mask = np.ones_like(history)
    bad_mask = mask.copy()
    bad_mask[0] = 0.0  # nothing observed
    nan = history.copy()
    nan[1, 3] = np.nan
    for inputs, message in [({"history": nan, "mask": mask}, "NaN or infinite"),
                            ({"history": history, "mask": bad_mask}, "last history step"),
                            # finite histories whose forecast passes float32's largest
                            ({"history": np.linspace(0, 3.3e38, width, dtype=np.float32)[None]
                              .repeat(2, 0), "mask": mask}, "forecast is not finite")]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            _serve(export_dir, inputs)
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError),
                       match=f"must have {width} steps|shape"):
        _serve(export_dir, {"history": history[:, 1:], "mask": mask[:, 1:]})
    # No series: a request error that says so, as for every SavedModel.
    with pytest.raises(tf.errors.InvalidArgumentError, match="no series"):
        _serve(export_dir, {"history": history[:0], "mask": mask[:0]})


# ----------------------------------------------------------------------------- with a network


@pytest.fixture(scope="module")
def network_cases(lstm_validated, combination_helpers):
    """The recommended configuration on three data sets: the M3 Monthly sample as it is, and
    two synthetic ones with the candidate forced to each classical partner, so that both are
    served whatever the validation would choose there."""
    fit_lstm_validated = combination_helpers.fit_lstm_validated
    rng = np.random.default_rng(4)
    seasonal = fk.datasets.make_trend_seasonal(n_series=6, length=(36, 72), season_length=12,
                                               seed=3, freq="MS")
    frames = []
    for k, n in enumerate((40, 55, 70, 48)):
        y = 50 + np.cumsum(rng.normal(0.4 * (k - 1), 1.5, n))
        frames.append(pd.DataFrame({"unique_id": f"w{k}", "ds": np.arange(n), "y": y}))
    flat = pd.concat(frames, ignore_index=True)

    def cut(df, k):
        return df[df.groupby("unique_id").cumcount(ascending=False) >= k]

    return [
        lstm_validated,
        fit_lstm_validated("seasonal", seasonal, cut(seasonal, 5), H, 12,
                           candidates=[["lstm", "theta"]]),
        fit_lstm_validated("non-seasonal", flat, cut(flat, 7), H, 1,
                           candidates=[["lstm", "comb"]]),
    ]


CHILD = r'''
import json, sys
from pathlib import Path
sys.path.append(sys.argv[1])  # site-packages only: no .pth files, so no editable forecastkit
try:
    import forecastkit  # noqa: F401
    FK = "importable"
except ImportError:
    FK = "not importable"
import numpy as np
import tensorflow as tf

work = Path(sys.argv[2])
report = {"forecastkit": FK, "modules": sorted(m for m in sys.modules if "forecastkit" in m)}
for case in json.loads((work / "cases.json").read_text()):
    model = tf.saved_model.load(str(work / case / "1"))
    fn = model.signatures["serve_masked"]
    names = fn.structured_input_signature[1]
    out = {}
    for part in ("train", "query"):
        data = np.load(work / f"{case}_{part}.npz")
        out[part] = fn(**{k: tf.constant(data[k]) for k in names})["forecast"].numpy()
    np.savez(work / f"{case}.out.npz", **out)
(work / "report.json").write_text(json.dumps(report))
'''


def _python_without_forecastkit(args, cwd, timeout=600):
    """The venv's Python isolated (-I) and without site (-S): the editable install of
    forecastkit is a .pth hook, so only site-packages' plain packages are importable (as in
    test_fresh_process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return subprocess.run([sys.executable, "-I", "-S", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_lstm_validated_is_served_without_forecastkit_equal_to_predict(
        network_cases, combination_helpers, tmp_path):
    networks, served_inputs = combination_helpers.networks, combination_helpers.served_inputs
    for case in network_cases:
        f = case.forecaster
        export_dir = fk.export_saved_model(f, tmp_path / case.name)
        meta = json.loads((export_dir / "assets" / "forecastkit.json").read_text())
        width = meta["lookback"]
        assert width == max(int(f.panel_.lengths.max()),
                            *(n.model_.inputs[0].shape[1] for n in networks(f)))
        for part, y in (("train", case.train), ("query", case.query)):
            np.savez(tmp_path / f"{case.name}_{part}.npz", **served_inputs(f, y, width))
    (tmp_path / "cases.json").write_text(json.dumps([c.name for c in network_cases]))
    (tmp_path / "child.py").write_text(CHILD)
    site = sysconfig.get_paths()["purelib"]
    proc = _python_without_forecastkit([str(tmp_path / "child.py"), site, str(tmp_path)],
                                       cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["forecastkit"] == "not importable" and report["modules"] == []

    errors = {}
    for case in network_cases:
        out = np.load(tmp_path / f"{case.name}.out.npz")
        errors[case.name] = (_relative_error(out["train"], case.expected),
                             _relative_error(out["query"], case.expected_query))
        chosen = case.forecaster.selected_
        assert len(chosen) == 2 or case.name == "m3-monthly", chosen
    print("served vs predict, largest error relative to the series scale:", errors,
          file=sys.stderr)
    assert max(max(e) for e in errors.values()) < TOLERANCE, errors
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_bounded_combination_serves_its_bound(monthly, combination_helpers, tmp_path):
    """Combination(floor=...) raises its forecasts in the graph as predict does."""
    members = _classical_members()[2:]  # the seasonal naive and the inner combination
    plain = Combination(members).fit(monthly)
    level = float(np.quantile(plain.predict_array(), 0.3))
    for floor, window in [("recent_min", np.int64(2)), (level, None)]:  # a numpy int too
        f = Combination(members, floor=floor, floor_window=window).fit(monthly)
        expected = f.predict_array()
        assert (plain.predict_array() < expected).any(), "some forecasts must be raised"
        export_dir = fk.export_saved_model(f, tmp_path / f"model-{window}")
        meta = json.loads((export_dir / "assets" / "forecastkit.json").read_text())
        assert meta["graph"]["floor"] == {"floor": floor, "window": window}
        width = int(f.panel_.lengths.max())
        got = _serve(export_dir, combination_helpers.served_inputs(f, monthly, width))
        assert _relative_error(got, expected) < TOLERANCE
