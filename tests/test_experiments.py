"""The experiment scripts: the shared runner's per-set rows (experiments/_common.py) and the
validation selection script's combined scores (experiments/select_rnn.py)."""

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


def _one_series(values):
    import pandas as pd

    return pd.DataFrame({"unique_id": "s", "ds": range(len(values)), "y": values})


class _NaiveAsRNN:
    """Stands in for RNNForecaster in select_rnn: last value repeated (no training)."""

    def __init__(self, horizon, season_length, random_state=None, **params):
        import forecastkit as fk

        self._naive = fk.baselines.Naive(horizon=horizon)
        self.history_ = [{"loss": [0.0]}]
        self.batch_size_ = params.get("batch_size", 64)

    def fit(self, df):
        self._naive.fit(df)
        return self

    def predict(self):
        return self._naive.predict()


@pytest.fixture()
def select_rnn_naive(monkeypatch, tmp_path):
    """experiments/select_rnn.py writing to ``tmp_path``, with the naive stand-in network."""
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import select_rnn

    monkeypatch.setattr(select_rnn, "OUT", tmp_path)
    monkeypatch.setattr(select_rnn.fk, "RNNForecaster", _NaiveAsRNN)
    return select_rnn


def _sampled_m3_other(n):
    """The training frame of the ``n`` M3 Other series select_rnn's ``--sample n`` draws."""
    import numpy as np

    import forecastkit as fk

    train, _test, info = fk.datasets.load_dataset("m3-other")
    ids = np.random.default_rng(0).choice(train["unique_id"].unique(), n, replace=False)
    return train[train["unique_id"].isin(ids)], info


def test_select_rnn_scores_each_config_combined_with_each_partner(select_rnn_naive, tmp_path):
    import numpy as np

    import forecastkit as fk

    rows = select_rnn_naive.main(["--dataset", "m3-other", "--sample", "6", "--configs", "base",
                                  "--combine", "naive,theta"])
    got = {r["config"]: r["smape"] for r in rows}
    assert set(got) == {"base", "base+naive", "base+theta"}
    # The mean of a forecast with itself is that forecast.
    assert got["base+naive"] == pytest.approx(got["base"])
    # base+theta against a plain loop over the series: mean of Naive and Theta, then sMAPE.
    train, info = _sampled_m3_other(6)
    expected = []
    for _, g in train.groupby("unique_id"):
        y = g.sort_values("ds")["y"].to_numpy()
        fit, actual = y[:-info.horizon], y[-info.horizon:]
        naive = np.repeat(fit[-1], info.horizon)
        one = _one_series(fit)
        theta = fk.baselines.Theta(horizon=info.horizon).fit(one).predict()["y_pred"].to_numpy()
        f = (naive + theta) / 2
        expected.append(np.mean(200 * np.abs(actual - f) / (np.abs(actual) + np.abs(f))))
    assert got["base+theta"] == pytest.approx(float(np.mean(expected)), rel=1e-9)
    written = (tmp_path / "m3-other.csv").read_text().splitlines()
    assert len(written) == 1 + 3  # header and one row per scored config


@pytest.mark.parametrize("argv, named", [
    (["--configs", "base,bse"], "bse"),
    (["--configs", "base", "--combine", "theta,cmb"], "cmb"),
])
def test_select_rnn_names_an_unknown_config_or_partner(monkeypatch, tmp_path, capsys, argv,
                                                       named):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import select_rnn

    monkeypatch.setattr(select_rnn, "OUT", tmp_path)
    with pytest.raises(SystemExit):
        select_rnn.main(["--dataset", "m3-other", *argv])
    assert named in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # stopped before anything ran or was written


def test_select_rnn_window_2_scores_the_horizon_before_the_last(select_rnn_naive):
    import numpy as np

    rows = select_rnn_naive.main(["--dataset", "m3-other", "--sample", "6", "--configs", "base",
                                  "--window", "2"])
    # Against a plain loop: fit on all but the last two horizons, score the naive forecast on
    # the horizon before the last one.
    train, info = _sampled_m3_other(6)
    h, expected = info.horizon, []
    for _, g in train.groupby("unique_id"):
        y = g.sort_values("ds")["y"].to_numpy()
        fit, actual = y[:-2 * h], y[-2 * h:-h]
        f = np.repeat(fit[-1], h)
        expected.append(np.mean(200 * np.abs(actual - f) / (np.abs(actual) + np.abs(f))))
    assert rows[0]["window"] == 2 and rows[0]["series"] == 6
    assert rows[0]["smape"] == pytest.approx(float(np.mean(expected)), rel=1e-9)


def test_select_rnn_rejects_a_window_below_1(select_rnn_naive, tmp_path, capsys):
    with pytest.raises(SystemExit):
        select_rnn_naive.main(["--dataset", "m3-other", "--window", "0"])
    assert "--window" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_validation_window_leaves_out_series_with_no_history_before_it(select_rnn_naive,
                                                                      capsys):
    import pandas as pd

    h = 4
    frame = pd.concat([
        pd.DataFrame({"unique_id": "long", "ds": range(20), "y": range(1, 21)}),
        pd.DataFrame({"unique_id": "two_h", "ds": range(2 * h), "y": range(1, 2 * h + 1)}),
    ])
    fit, val = select_rnn_naive.validation_split(frame, h, window=2)
    # "long": fitted on its first 12 points, scored on points 12-15; "two_h" has nothing left
    # to fit on, so it is dropped from both parts, and the run says so.
    assert fit.groupby("unique_id")["ds"].max().to_dict() == {"long": 11}
    assert val["unique_id"].unique().tolist() == ["long"]
    assert val["ds"].tolist() == [12, 13, 14, 15]
    assert "1 series have no history" in capsys.readouterr().err
