"""The exported SavedModels deploy: a fresh Python process with TensorFlow and without
forecastkit reproduces ``forecaster.predict``, and ``saved_model_cli`` shows and runs them.

Every configuration is checked in ONE child process (each TensorFlow import costs seconds): it
loads each SavedModel with ``tf.saved_model.load``, calls its signatures, and runs
``saved_model_cli``'s own entry point (``show --all`` and ``run``) for each. One more process runs
the installed ``saved_model_cli`` console script, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

CHILD = r'''
import contextlib, io, json, sys
from pathlib import Path
sys.path.append(sys.argv[1])  # site-packages only: no .pth files, so no editable forecastkit
try:
    import forecastkit  # noqa: F401
    FK = "importable"
except ImportError:
    FK = "not importable"
import numpy as np
import tensorflow as tf
from tensorflow.python.tools import saved_model_cli

def cli(*argv):
    sys.argv = ["saved_model_cli", *argv]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            saved_model_cli.main()
        except SystemExit as stop:
            if stop.code not in (None, 0):
                raise
    return out.getvalue()

work = Path(sys.argv[2])
report = {"forecastkit": FK, "modules": sorted(m for m in sys.modules if "forecastkit" in m)}
for case in json.loads((work / "cases.json").read_text()):
    data = np.load(work / f"{case}.npz")
    model = tf.saved_model.load(str(work / case / "1"))
    outputs = {}
    for sig in ("serve", "serve_masked"):
        fn = model.signatures[sig]
        names = fn.structured_input_signature[1]
        rows = data["full"] if sig == "serve" else np.ones(len(data["history"]), bool)
        feed = {k: tf.constant(data[k][rows]) for k in names}
        outputs[sig] = fn(**feed)["forecast"].numpy()
    np.savez(work / f"{case}.out.npz", **outputs)
    show = cli("show", "--all", "--dir", str(work / case / "1"))
    feeds = []
    for k in ("history", "position"):
        if k in data.files:
            np.save(work / f"{case}_{k}.npy", data[k][data["full"]])
            feeds.append(f"{k}={work / case}_{k}.npy")
    cli("run", "--dir", str(work / case / "1"), "--tag_set", "serve", "--signature_def",
        "serve", "--inputs", ";".join(feeds), "--outdir", str(work / f"{case}_cli"),
        "--overwrite")
    report[case] = {"show": show}
(work / "report.json").write_text(json.dumps(report))
'''


def _python_without_forecastkit(args, cwd, timeout=600):
    """Run the venv's Python isolated (-I) and without site (-S): the editable install of
    forecastkit is a .pth hook, so only site-packages' plain packages are importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return subprocess.run([sys.executable, "-I", "-S", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_fresh_process_reproduces_predict_and_saved_model_cli(fitted_cases, tmp_path):
    for name, case in fitted_cases.items():
        (tmp_path / name).symlink_to(case.export_dir.parent, target_is_directory=True)
        full = case.inputs["mask"].all(axis=1)
        np.savez(tmp_path / f"{name}.npz", full=full, **case.inputs)
    (tmp_path / "cases.json").write_text(json.dumps(list(fitted_cases)))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    site = sysconfig.get_paths()["purelib"]
    proc = _python_without_forecastkit([str(script), site, str(tmp_path)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["forecastkit"] == "not importable" and report["modules"] == []

    for name, case in fitted_cases.items():
        atol = 1e-5 * max(1.0, float(np.abs(case.expected).max()))
        full = case.inputs["mask"].all(axis=1)
        out = np.load(tmp_path / f"{name}.out.npz")
        np.testing.assert_allclose(out["serve_masked"], case.expected, rtol=0, atol=atol,
                                   err_msg=name)
        np.testing.assert_allclose(out["serve"], case.expected[full], rtol=0, atol=atol,
                                   err_msg=name)
        # saved_model_cli show --all: every signature, with its input names, dtypes and shapes.
        show = report[name]["show"]
        width, horizon = case.inputs["history"].shape[1], case.forecaster.horizon
        for sig in ("serve", "serve_masked", "serving_default"):
            assert f"signature_def['{sig}']" in show, name
        assert show.count("inputs['history']") == 3 and show.count("inputs['mask']") == 1
        assert show.count(f"shape: (-1, {width})") == 4, name  # 3 x history + 1 x mask
        assert show.count("outputs['forecast']") == 3
        assert show.count(f"shape: (-1, {horizon})") == 3, name
        assert show.count("inputs['position']") == (3 if case.forecaster.use_position_ else 0)
        # saved_model_cli run --signature_def serve: the forecast, as predict gives it.
        cli_out = np.load(tmp_path / f"{name}_cli" / "forecast.npy")
        np.testing.assert_allclose(cli_out, case.expected[full], rtol=0, atol=atol, err_msg=name)


def test_saved_model_cli_console_script(fitted_cases, tmp_path):
    cli = Path(sys.executable).with_name("saved_model_cli")
    if not cli.exists():
        pytest.skip("saved_model_cli is not installed next to this Python")
    case = fitted_cases["lstm_recursive_calendar"]  # three inputs: history, mask, position
    np.save(tmp_path / "history.npy", case.inputs["history"])
    np.save(tmp_path / "mask.npy", case.inputs["mask"])
    np.save(tmp_path / "position.npy", case.inputs["position"])
    feeds = ";".join(f"{k}={tmp_path / k}.npy" for k in ("history", "mask", "position"))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run(
        [str(cli), "run", "--dir", str(case.export_dir), "--tag_set", "serve",
         "--signature_def", "serve_masked", "--inputs", feeds, "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    got = np.load(tmp_path / "out" / "forecast.npy")
    atol = 1e-5 * max(1.0, float(np.abs(case.expected).max()))
    np.testing.assert_allclose(got, case.expected, rtol=0, atol=atol)
