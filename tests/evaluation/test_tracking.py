"""MLflow tracking of comparisons, backtests and the command line, against a local store.

Every check reads the run back through MLflow's own client (an independent reader of what was
logged) and compares it with the figures forecastkit returned.
"""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from _dummies import LastValue
from mlflow.tracking import MlflowClient

import forecastkit as fk
from forecastkit import cli
from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation import tracking
from forecastkit.evaluation.compare import compare
from forecastkit.evaluation.report import write_report
from forecastkit.evaluation.scoring import backtest_metrics, summarize_models

H, M = 6, 12


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh SQLite store; MLflow's process-wide URI and experiment left as they were."""
    monkeypatch.chdir(tmp_path)  # artifacts go to ./mlruns
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.fixture(scope="module")
def split():
    df = make_trend_seasonal(n_series=4, length=(50, 60), season_length=M, seed=3)
    test = df.groupby("unique_id", sort=False).tail(H)
    return df.drop(test.index).reset_index(drop=True), test.reset_index(drop=True)


def _models():
    return {"last": LastValue(), "snaive": fk.baselines.SeasonalNaive(season_length=M)}


def test_compare_logs_parameters_metrics_and_the_report(store, split, tmp_path):
    train, test = split
    result = compare(_models(), train, test, horizon=H, season_length=M, n_jobs=1,
                     progress=False, combinations={"last+snaive": ["last", "snaive"]},
                     tracking_uri=store)
    run = MlflowClient(tracking_uri=store).get_run(result.tracking.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "compare"
    assert run.data.params["horizon"] == str(H)
    assert run.data.params["season_length"] == str(M)
    assert run.data.params["model.snaive"].startswith("SeasonalNaive(")
    assert "season_length=12" in run.data.params["model.snaive"]
    # every metric of every model, including the combination (its "+" made a legal key)
    for model, row in result.metrics.iterrows():
        for column in ("smape", "mase", "owa"):
            key = f"{tracking.metric_key(model)}.{column}"
            assert run.data.metrics[key] == pytest.approx(row[column]), key
    assert "last_snaive.owa" in run.data.metrics
    assert "naive2.smape" in run.data.metrics  # compare's own Naive2 for OWA
    report = write_report(result, tmp_path / "report", command="pytest")
    logged = {a.path for a in MlflowClient(tracking_uri=store).list_artifacts(run.info.run_id)}
    assert {"report.md", "metrics.csv", "forecasts.png", "models.json"} <= logged
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="report.md",
                                                tracking_uri=store)
    assert Path(local).read_text() == report.read_text()


def test_backtest_logs_each_models_metrics_over_series_and_windows(store, split):
    train, _ = split
    cv = fk.backtest(_models(), train, H, n_windows=2, n_jobs=1, progress=False,
                     tracking_uri=store, season_length=M)
    run = MlflowClient(tracking_uri=store).get_run(cv.attrs["mlflow_run"].run_id)
    assert run.data.params["n_windows"] == "2"
    assert run.data.tags["forecastkit.kind"] == "backtest"
    # reference: the mean over series and windows of the per-series sMAPE, by model
    per_series = backtest_metrics(cv, train, M)
    for model, smape in per_series.groupby("model")["smape"].mean().items():
        assert run.data.metrics[f"{model}.smape"] == pytest.approx(smape)
    expected = summarize_models(per_series)
    assert run.data.metrics["snaive.mase"] == pytest.approx(expected.loc["snaive", "mase"])


def test_runs_go_to_the_named_experiment(store, split, monkeypatch):
    train, test = split
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "m3 study")
    result = compare({"last": LastValue()}, train, test, horizon=H, season_length=M, n_jobs=1,
                     progress=False, tracking_uri=store)
    experiment = MlflowClient(tracking_uri=store).get_experiment(result.tracking.experiment_id)
    assert experiment.name == "m3 study"


def test_no_tracking_logs_nothing(split, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train, test = split
    result = compare({"last": LastValue()}, train, test, horizon=H, season_length=M, n_jobs=1,
                     progress=False)
    write_report(result, tmp_path / "report", n_plot_series=0)
    assert result.tracking is None
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


@pytest.mark.parametrize("command", ["compare", "backtest"])
def test_the_command_line_logs_a_named_run_with_its_report(command, store, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [command, "--dataset", "m3-other", "--models", "naive,snaive", "--sample", "4",
            "--out", str(out), "--n-jobs", "1", "--no-progress", "--mlflow", store]
    assert cli.main(argv) == 0
    client = MlflowClient(tracking_uri=store)
    (experiment,) = [e for e in client.search_experiments() if e.name == "forecastkit"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == f"{command} m3-other"
    assert run.data.params["dataset"] == "m3-other"
    metrics = pd.read_csv(out / "metrics.csv", index_col="model")
    assert run.data.metrics["snaive.smape"] == pytest.approx(metrics.loc["snaive", "smape"])
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"report.md", "metrics.csv", "per_series.csv.gz"} <= logged
    assert not any(name in logged for name in ("units", "records", "manifest.json"))


def test_command_line_default_store_is_the_tracking_modules():
    # MLflow caches a store per URI, so one process cannot reopen ./mlflow.db elsewhere: the
    # default is checked where the parser puts it.
    args = cli.build_parser().parse_args(["compare", "--dataset", "m3-other", "--models",
                                          "naive", "--out", "x", "--mlflow"])
    assert args.mlflow == cli.DEFAULT_TRACKING_URI == tracking.DEFAULT_TRACKING_URI
    args = cli.build_parser().parse_args(["compare", "--dataset", "m3-other", "--models",
                                          "naive", "--out", "x"])
    assert args.mlflow is None


def test_metric_keys_keep_only_characters_mlflow_accepts():
    assert tracking.metric_key("lstm+theta") == "lstm_theta"
    assert tracking.metric_key("m3-monthly/lstm.owa 2") == "m3-monthly/lstm.owa 2"


def test_a_failed_metric_log_marks_the_run_failed(store, monkeypatch):
    def broken(run, metrics, prefix=""):
        raise RuntimeError("store went away")

    monkeypatch.setattr(tracking, "log_metrics_table", broken)
    with pytest.raises(RuntimeError, match="went away"):
        tracking.track_run(store, kind="compare", models={}, params={},
                           metrics=pd.DataFrame({"smape": [1.0]}, index=["m"]))
    (run,) = MlflowClient(tracking_uri=store).search_runs(
        [MlflowClient(tracking_uri=store).get_experiment_by_name("forecastkit").experiment_id])
    assert run.info.status == "FAILED"


def test_metrics_tables_log_only_finite_numbers(store):
    run = tracking.start_run(store, kind="compare")
    table = pd.DataFrame({"smape": [1.5, np.nan], "owa": [0.9, np.inf], "name": ["a", "b"]},
                         index=["m1", "m2"])
    assert tracking.log_metrics_table(run, table) == 2
    logged = MlflowClient(tracking_uri=store).get_run(run.run_id).data.metrics
    assert logged == {"m1.smape": 1.5, "m1.owa": 0.9}
