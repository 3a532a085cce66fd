"""The experiment scripts: the shared runner's per-set rows (experiments/_common.py), the
validation selection script's combined scores (experiments/select_rnn.py), the probabilistic
study and the covariates study's windows (experiments/covariates.py)."""

from __future__ import annotations

import json
import sys
import warnings
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


def test_tuned_row_named_alone_runs_without_its_base(common, tmp_path):
    args = common.parser("t", ["theta"], None).parse_args(
        ["--models", "theta,tuned", "--sample", "8", "--n-jobs", "1", "--no-progress",
         "--out", str(tmp_path)]
    )
    res = common.run_sets(
        "t", {"m3-other": {"Theta": 4.41}}, "smape", args, {},
        combinations={"tuned+theta": ["tuned", "theta"]},
        tuned={"tuned": ("naive", {"m3-other": {}}), "unasked": ("naive", {})},
    )["m3-other"]
    manifest = json.loads((tmp_path / "m3-other" / "manifest.json").read_text())
    # Neither the base nor the row not asked for is fitted (naive2 always is: OWA's scale).
    assert set(manifest["models"]) == {"naive2", "theta", "tuned"}
    assert manifest["models"]["tuned"].startswith("Naive(")
    assert {"tuned", "tuned+theta"} <= set(res.metrics.index)


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


# --------------------------------------------------------------------------- probabilistic study


@pytest.fixture()
def prob(monkeypatch):
    """experiments/probabilistic.py and its helper modules, imported fresh."""
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import probabilistic

    yield probabilistic
    for name in ("probabilistic", "_prob_report", "_statsforecast", "_common", "select_rnn",
                 "select_conformal"):
        sys.modules.pop(name, None)


def _smape(y, f):
    import numpy as np

    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def _theta_reference(train, test, horizon):
    """Per series: Theta's median and 95% interval fitted on that series alone, and the
    actuals (a plain loop, no compare)."""
    import forecastkit as fk

    out = {}
    for sid, g in train.groupby("unique_id"):
        f = fk.baselines.Theta(horizon=horizon).fit(_one_series(g["y"].to_numpy()))
        q = f.predict(quantiles=[0.025, 0.5, 0.975])
        actual = test[test["unique_id"] == sid]["y"].to_numpy()
        out[sid] = (actual, q["q0.025"].to_numpy(), q["q0.5"].to_numpy(), q["q0.975"].to_numpy())
    return out


def test_probabilistic_study_end_to_end_on_a_tiny_sample(prob, tmp_path):
    import numpy as np
    import pandas as pd

    import forecastkit as fk
    from forecastkit.evaluation.compare import sample_series

    prob.main(["--models", "snaive,theta,conformal-theta,arima", "--sample", "5", "--sets",
               "m3-other", "--arima-sample", "2", "--n-jobs", "1", "--no-progress",
               "--out", str(tmp_path)])
    text = (tmp_path / "report.md").read_text()
    for expected in ("## Goals (issue 17), per set", "## All sets", "### m3-other (5 series",
                     "Sample of 2 series", "arima ran on a seeded sample"):
        assert expected in text
    # Theta's sMAPE of the median and 95% coverage against a plain per-series loop.
    train, test, info = fk.datasets.load_dataset("m3-other")
    train, test = sample_series(5, 0, train, test)
    ref = _theta_reference(train, test, info.horizon)
    metrics = pd.read_csv(tmp_path / "m3-other" / "metrics.csv", index_col="model")
    assert metrics.loc["theta", "smape"] == pytest.approx(
        np.mean([_smape(a, med) for a, _, med, _ in ref.values()]), rel=1e-6)
    assert metrics.loc["theta", "coverage_95"] == pytest.approx(
        np.mean([np.mean((a >= lo) & (a <= hi)) for a, lo, _, hi in ref.values()]))
    assert "arima" not in metrics.index  # sampled: in the sample's table only
    # The sample's table: ARIMA on 2 series, Theta restricted to the same 2.
    sampled = pd.read_csv(tmp_path / "m3-other" / "sampled" / "metrics.csv", index_col="model")
    per_series = pd.read_csv(tmp_path / "m3-other" / "sampled" / "per_series.csv.gz")
    ids = set(per_series.loc[per_series["model"] == "arima", "unique_id"])
    assert len(ids) == 2 and set(per_series["unique_id"]) == ids
    assert sampled.loc["theta", "smape"] == pytest.approx(
        np.mean([_smape(ref[i][0], ref[i][2]) for i in ids]), rel=1e-6)
    assert np.isfinite(sampled.loc["arima", "msis_95"])


def test_median_scoring_and_the_derived_point_reference(prob):
    """Rows are scored on q0.5; the reference row is the recommended model's y_pred, point
    only. A signed conformal median differs from its point forecast, so both are checked."""
    import numpy as np

    import forecastkit as fk
    from forecastkit.evaluation.compare import sample_series

    report = sys.modules["_prob_report"]
    train, test, info = fk.datasets.load_dataset("m3-other")
    train, test = sample_series(12, 1, train, test)
    conformal = fk.forecasters.ConformalIntervals(fk.baselines.Theta(horizon=info.horizon),
                                                  n_windows=2, method="signed")
    res = fk.evaluation.compare({"rec": conformal}, train, test, horizon=info.horizon,
                                season_length=1, quantiles=[0.025, 0.5, 0.975], n_jobs=1,
                                progress=False)
    scored = report.median_scored(res, test, "point-ref", "rec")
    rows = res.forecasts[res.forecasts["model"] == "rec"]
    by_series = list(rows.groupby("unique_id"))
    median = np.mean([_smape(g["y"].to_numpy(), g["q0.5"].to_numpy()) for _, g in by_series])
    point = np.mean([_smape(g["y"].to_numpy(), g["y_pred"].to_numpy()) for _, g in by_series])
    assert median != pytest.approx(point)
    assert scored.metrics.loc["rec", "smape"] == pytest.approx(median, rel=1e-9)
    assert scored.metrics.loc["point-ref", "smape"] == pytest.approx(point, rel=1e-9)
    assert np.isnan(scored.metrics.loc["point-ref", "coverage_95"])
    assert np.isfinite(scored.metrics.loc["rec", "coverage_95"])


def test_goals_are_judged_per_set_and_na_without_their_models(prob):
    import pandas as pd

    report = sys.modules["_prob_report"]
    metrics = pd.DataFrame({"acd_95": [0.01, 0.04, None], "msis_95": [5.0, 6.0, None],
                            "owa": [0.905, 0.9, 0.9]},
                           index=["rec", "sf-autoets", "point"])
    g = report.goals(metrics, "rec", "point")
    assert (g["acd_met"], g["msis_met"], g["owa_met"]) == (True, True, True)  # 0.905 <= 0.909
    g = report.goals(metrics.assign(owa=[0.91, 0.9, 0.9]), "rec", "point")
    assert g["owa_met"] is False
    g = report.goals(metrics.drop(index="sf-autoets"), "rec", "point")
    assert g["msis_met"] is None and g["acd_met"] is True
    assert report.meeting_both(metrics) == ["rec"]


def test_conformal_windows_rule(prob):
    import pandas as pd

    def frame(lengths):
        return pd.concat([pd.DataFrame({"unique_id": i, "ds": range(n), "y": 1.0})
                          for i, n in enumerate(lengths)])

    # 10 series want ceil(100 / 10) = 10 windows; the shortest (60, horizon 5) allows 60 // 5 - 2.
    assert prob.conformal_windows(frame([60] * 10), 5) == 10
    assert prob.conformal_windows(frame([40] + [100] * 9), 5) == 6
    assert prob.conformal_windows(frame([12] * 200), 6) == 1  # enough series; short anyway


def test_select_conformal_rule(prob):
    import pandas as pd
    import select_conformal

    def metrics(acd, msis, owa):
        return pd.DataFrame({"acd_95": acd + [None], "msis_95": msis + [None],
                             "owa": owa + [1.0]}, index=["absolute", "signed", "point"])

    assert select_conformal.choose(metrics([0.01, 0.01], [5.0, 4.0], [1.0, 1.0])) == "signed"
    # signed's median loses more than 1% OWA: not eligible
    assert select_conformal.choose(metrics([0.01, 0.01], [5.0, 4.0], [1.0, 1.02])) == "absolute"
    # neither within the ACD goal: the lower ACD among those keeping the point's OWA
    assert select_conformal.choose(metrics([0.05, 0.03], [4.0, 5.0], [1.0, 1.0])) == "signed"
    assert select_conformal.choose(metrics([0.05, 0.01], [4.0, 3.0], [1.0, 1.05])) == "absolute"


def test_unknown_model_name_is_named(prob, capsys):
    with pytest.raises(SystemExit, match="thetta"):
        prob.main(["--models", "theta,thetta", "--sets", "m3-other"])


def test_statsforecast_adapter_reads_its_intervals_as_quantiles(prob):
    pytest.importorskip("statsforecast")
    import numpy as np
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    import forecastkit as fk
    from forecastkit.evaluation.compare import sample_series

    sfa = sys.modules["_statsforecast"]
    train, _test, info = fk.datasets.load_dataset("m3-quarterly")
    train, _ = sample_series(3, 0, train, _test)
    model = sfa.StatsForecastModel("AutoETS", season_length=4, horizon=info.horizon).fit(train)
    levels = [0.025, 0.1, 0.5, 0.9, 0.975]
    q = model.predict_quantiles_array(levels)
    ref = StatsForecast(models=[AutoETS(season_length=4)], freq=1, n_jobs=1).forecast(
        df=train, h=info.horizon, level=[80, 95]).sort_values(["unique_id", "ds"])
    ids = fk.data.to_panel(train).ids
    assert list(ref["unique_id"].unique()) == list(ids)
    for j, col in enumerate(["AutoETS-lo-95", "AutoETS-lo-80", "AutoETS", "AutoETS-hi-80",
                             "AutoETS-hi-95"]):
        np.testing.assert_allclose(q[:, :, j], ref[col].to_numpy().reshape(3, -1), rtol=1e-10)
    assert (sfa.coverage_of(0.025), sfa.coverage_of(0.5), sfa.coverage_of(0.0125)) == (
        95, None, 97.5)


def test_registry_builds_the_study_s_probabilistic_models():
    from forecastkit.evaluation.registry import MODELS, make_model

    model = make_model("conformal-theta", horizon=8, season_length=4, seed=1, n_windows=3)
    assert type(model).__name__ == "ConformalIntervals"
    assert (model.n_windows, model.horizon, model.season_length) == (3, 8, 4)
    assert type(model.forecaster).__name__ == "Theta"
    assert (model.forecaster.horizon, model.forecaster.season_length) == (8, 4)
    # The wrapper needs TensorFlow exactly when the model it wraps does.
    assert MODELS["conformal-lstm-validated"].kind == "rnn"
    assert MODELS["conformal-theta"].kind == "baseline"
    for name, params in [("lstm-quantile", {"loss": "quantile"}),
                         ("lstm-normal", {"distribution": "normal"}),
                         ("lstm-student-t", {"distribution": "student_t"})]:
        assert MODELS[name].kind == "rnn" and MODELS[name].params == {"cell": "lstm", **params}


# --------------------------------------------------------------------------- covariates study


@pytest.fixture()
def covariates(monkeypatch):
    """experiments/covariates.py with one more model: a seasonal naive that records the last
    date of the y and X it was given in fit and the X it was given in predict."""
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import covariates

    import forecastkit as fk

    seen = []

    class Spy(fk.baselines.SeasonalNaive):
        def fit(self, y, X=None, static=None):
            seen.append(("fit", y["ds"].max(), X["ds"].max(), y))
            return super().fit(y)

        def predict(self, horizon=None, X=None, **kwargs):
            seen.append(("predict", None, X["ds"].max(), None))
            return super().predict(horizon, **kwargs)

    monkeypatch.setitem(covariates.MODELS, "spy", lambda seed: Spy(season_length=7))
    monkeypatch.setitem(covariates.X_COLUMNS, "spy", covariates.GAMES)
    covariates.seen = seen
    yield covariates
    for name in ("covariates", "_common"):
        sys.modules.pop(name, None)


@pytest.mark.parametrize("validation", [False, True])
def test_covariates_study_windows_and_what_each_fit_sees(covariates, tmp_path, validation):
    import pandas as pd

    flag = ["--validation"] if validation else []
    assert covariates.main(["--models", "spy", "--out", str(tmp_path), *flag]) == 0
    out = tmp_path / "validation" if validation else tmp_path
    # The test period is the last 56 days; validation forecasts the 28 days before it.
    last_day = pd.Timestamp("2016-06-19") if validation else pd.Timestamp("2016-08-14")
    n = 2 if validation else 4
    origins = [last_day - pd.Timedelta(days=14 * (n - k) - 1) for k in range(n)]
    stored = sorted((out / "forecasts").glob("spy-seed0-w*.csv"))
    assert len(stored) == n
    for k, file in enumerate(stored):
        f = pd.read_csv(file, parse_dates=["ds"])
        assert f["ds"].min() == origins[k] and f["ds"].max() == origins[k] + pd.Timedelta(days=13)
        assert f["unique_id"].nunique() == 20
    fits = [s for s in covariates.seen if s[0] == "fit"]
    predicts = [s for s in covariates.seen if s[0] == "predict"]
    for k in range(n):
        # Each fit ends the day before its origin; no fit and no predict sees past the data's
        # last day, which in validation is the day before the test period.
        assert fits[k][1] == origins[k] - pd.Timedelta(days=1)
        assert fits[k][2] <= last_day and predicts[k][2] <= last_day
    metrics = pd.read_csv(out / "metrics.csv", index_col=0)
    assert metrics.loc["spy", "windows"] == n
    if validation:
        assert "validation" in (out / "report.md").read_text().split("\n")[0]


def test_covariates_study_floor_raises_forecasts_to_the_recent_lowest_positive_count(
        covariates, tmp_path):
    """``spy-floor``: the spy's stored forecasts (fitted once, for both rows), each below the
    station's lowest positive count of the 28 days before the origin raised to it; checked
    against a loop over stations on the data."""
    import numpy as np
    import pandas as pd

    import forecastkit as fk

    assert covariates.main(["--models", "spy-floor", "--out", str(tmp_path),
                            "--validation"]) == 0
    assert len([s for s in covariates.seen if s[0] == "fit"]) == 2  # the base, once a window
    store = tmp_path / "validation" / "forecasts"
    train, _, _, _ = fk.datasets.load_chicago(test_days=56)
    raised = 0
    for k in range(2):
        base = pd.read_csv(store / f"spy-seed0-w{k}.csv", parse_dates=["ds"])
        floor = pd.read_csv(store / f"spy-floor-seed0-w{k}.csv", parse_dates=["ds"])
        origin = base["ds"].min()
        for sid, part in base.groupby("unique_id"):
            days = train[(train.unique_id == sid) & (train.ds < origin)
                         & (train.ds >= origin - pd.Timedelta(days=28)) & (train.y > 0)]
            want = np.maximum(part["y_pred"].to_numpy(), days["y"].min())
            got = floor.loc[floor.unique_id == sid, "y_pred"].to_numpy()
            np.testing.assert_allclose(got, want)
            raised += int((got > part["y_pred"].to_numpy()).sum())
    assert raised > 0  # the seasonal naive repeats a week with a quiet day now and then
    metrics = pd.read_csv(tmp_path / "validation" / "metrics.csv", index_col=0)
    assert {"spy", "spy-floor"} <= set(metrics.index)
    with pytest.raises(SystemExit):
        covariates.main(["--models", "spy-floor-closed", "--out", str(tmp_path)])


def test_covariates_study_closed_rows_fit_on_shut_days_as_missing(covariates, tmp_path):
    import numpy as np
    import pandas as pd

    import forecastkit as fk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the seasonal naive's one warning about filling
        assert covariates.main(["--models", "spy,spy-closed", "--out", str(tmp_path),
                                "--validation"]) == 0
    fits = [s[3] for s in covariates.seen if s[0] == "fit"]
    plain, closed = fits[0], fits[2]  # window 0 of each model
    train = fk.datasets.load_chicago(test_days=56)[0]
    expected = train[train["ds"] <= plain["ds"].max()]
    # The plain row sees the data as published; the closed row the same rows with NaN exactly
    # where a station had zero rides (Montrose's two shut days of June 2016 are later than
    # window 0's last training day, so the history holds the 238 earlier ones).
    pd.testing.assert_frame_equal(plain.reset_index(drop=True),
                                  expected.reset_index(drop=True))
    assert not plain["y"].isna().any()
    zero = (expected["y"] == 0).to_numpy()
    np.testing.assert_array_equal(closed["y"].isna().to_numpy(), zero)
    np.testing.assert_array_equal(closed["y"].to_numpy()[~zero], expected["y"].to_numpy()[~zero])
    assert zero.sum() == 238
    metrics = pd.read_csv(tmp_path / "validation" / "metrics.csv", index_col=0)
    assert {"spy", "spy-closed"} <= set(metrics.index)


def test_gap_statistics_measures_each_way_against_the_complete_windows(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import gap_statistics

    from forecastkit.data import gap_filling

    default = gap_filling.LONG_GAP_SEASONS
    try:
        assert gap_statistics.main(["--set", "m3-monthly", "--rates", "0.1",
                                    "--patterns", "random", "--long-gap", "0.25,1"]) == 0
    finally:
        for name in ("gap_statistics", "missing_data", "_common"):
            sys.modules.pop(name, None)
    assert gap_filling.LONG_GAP_SEASONS == default  # the scan leaves the library's rule
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("m3-monthly random 10%: ") and len(lines) == 6
    assert "long >= 0.25 m" in lines[2] and "long >= 1 m" in lines[3]
    errors = [[float(v) for v in line.split()[-3::2]] for line in lines[1:]]
    # Every way is off the complete windows by something small but not nothing.
    assert all(0 < e < 0.5 for row in errors for e in row), errors


@pytest.mark.parametrize("value", ["x", "0,1", "-0.5"])
def test_gap_statistics_refuses_a_long_gap_that_is_not_a_positive_number(monkeypatch, capsys,
                                                                          value):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import gap_statistics

    try:
        with pytest.raises(SystemExit) as stop:
            gap_statistics.main(["--long-gap", value])
    finally:
        for name in ("gap_statistics", "missing_data", "_common"):
            sys.modules.pop(name, None)
    assert stop.value.code == 2
    assert "--long-gap" in capsys.readouterr().err


def test_fill_error_scores_each_fill_against_the_knocked_out_values(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(EXPERIMENTS))
    import fill_error

    try:
        assert fill_error.main(["--sets", "m4-hourly", "--rates", "0.1", "--patterns",
                                "random", "--sample", "6"]) == 0
    finally:
        for name in ("fill_error", "missing_data", "_common"):
            sys.modules.pop(name, None)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| set | pattern | rate | linear | seasonal | split | around | auto |"
    cells = lines[2].strip("|").split("|")
    assert [c.strip() for c in cells[:3]] == ["m4-hourly", "random", "10%"]
    errors = [float(c.strip().strip("*")) for c in cells[3:]]
    assert all(0 < e < 5 for e in errors) and len(errors) == 5
    # hourly data with random single gaps: a short run is split off as linear, so "split" is
    # "linear"; drawn around the daily season, the line comes closer
    assert errors[2] == errors[0] and errors[3] < errors[0]
    assert f"**{min(errors):.4f}**" in lines[2]
