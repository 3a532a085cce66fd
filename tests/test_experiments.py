"""The experiment scripts' shared runner: per-set tuned rows (experiments/_common.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


@pytest.fixture()
def common(monkeypatch):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import _common

    yield _common
    sys.modules.pop("_common", None)


def _run(common, tmp_path, tuned):
    args = common.parser("t", ["naive", "theta"], None).parse_args(
        ["--sample", "8", "--n-jobs", "1", "--no-progress", "--out", str(tmp_path)]
    )
    return common.run_sets(
        "t", {"m3-other": {"Theta": 4.41}}, "smape", args, {},
        combinations={"tuned+theta": ["tuned", "theta"]}, tuned=tuned,
    )["m3-other"]


def test_tuned_row_without_parameters_repeats_the_base_model(common, tmp_path):
    res = _run(common, tmp_path, {"tuned": ("naive", {})})
    metrics = res.metrics
    assert metrics.loc["tuned", "smape"] == pytest.approx(metrics.loc["naive", "smape"])
    # The combination with an aliased row averages the base model's forecasts with Theta.
    assert "tuned+theta" in metrics.index
    manifest = json.loads((tmp_path / "m3-other" / "manifest.json").read_text())
    assert "tuned" not in manifest["models"]  # not refitted


def test_tuned_row_with_parameters_is_refitted(common, tmp_path):
    res = _run(common, tmp_path, {"tuned": ("theta", {"m3-other": {"n_jobs": 1}})})
    manifest = json.loads((tmp_path / "m3-other" / "manifest.json").read_text())
    assert "tuned" in manifest["models"] and "n_jobs=1" in manifest["models"]["tuned"]
    # Same method, other parameters: the refitted row scores as Theta does.
    metrics = res.metrics
    assert metrics.loc["tuned", "smape"] == pytest.approx(metrics.loc["theta", "smape"])
    assert "tuned+theta" in metrics.index


def test_combination_with_members_per_set(common, tmp_path):
    args = common.parser("t", ["naive", "theta"], None).parse_args(
        ["--sample", "8", "--n-jobs", "1", "--no-progress", "--out", str(tmp_path),
         "--sets", "m3-other"]
    )
    per_set = {"best": {"m3-other": ["theta"], "m3-yearly": ["naive"]}}
    sets = {"m3-yearly": {"Theta": 16.90}, "m3-other": {"Theta": 4.41}}
    res = common.run_sets("t", sets, "smape", args, {}, combinations=per_set)["m3-other"]
    metrics = res.metrics
    # On m3-other the row is Theta's forecasts; the m3-yearly entry (not run) does not apply.
    assert metrics.loc["best", "smape"] == pytest.approx(metrics.loc["theta", "smape"])
    assert metrics.loc["best", "smape"] != pytest.approx(metrics.loc["naive", "smape"])


@pytest.mark.parametrize("config", [
    {"combinations": {"best": {"m3-othr": ["theta"]}}},
    {"tuned": {"tuned": ("theta", {"m3-othr": {"n_jobs": 1}})}},
])
def test_unknown_set_name_in_a_per_set_entry_is_an_error(common, tmp_path, config):
    args = common.parser("t", ["naive", "theta"], None).parse_args(
        ["--sample", "8", "--n-jobs", "1", "--no-progress", "--out", str(tmp_path)]
    )
    with pytest.raises(SystemExit, match="m3-othr"):
        common.run_sets("t", {"m3-other": {"Theta": 4.41}}, "smape", args, {}, **config)
