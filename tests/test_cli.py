import subprocess
import sys

import pandas as pd
import pytest

from forecastkit.cli import main
from forecastkit.datasets import list_datasets


def test_datasets_and_models_are_listed(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in list_datasets():
        assert name in out
    assert "m3-monthly" in out and " 18 " in out
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ["naive2", "theta", "ets", "lstm", "gru", "bilstm", "lstm-stacked"]:
        assert name in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--dataset", "m5-daily", "--models", "naive", "--out", "x"],
         "unknown dataset 'm5-daily'; valid names: m3-yearly"),
        (["backtest", "--dataset", "m3-other", "--models", "naive,prophet", "--out", "x"],
         "unknown model name(s) ['prophet']; valid names: naive, snaive"),
    ],
)
def test_bad_names_give_a_clear_error(argv, message, capsys, tmp_path):
    argv = [a if a != "x" else str(tmp_path / "out") for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_compare_on_a_sample(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "--dataset", "m3-other", "--models", "naive,snaive", "--out",
                 str(out), "--sample", "5", "--n-jobs", "1", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| naive2 |" in printed and str(out / "report.md") in printed
    metrics = pd.read_csv(out / "metrics.csv", index_col="model")
    assert set(metrics.index) == {"naive", "snaive", "naive2"}
    report = (out / "report.md").read_text()
    assert "forecastkit compare --dataset m3-other" in report
    assert pd.read_csv(out / "forecasts.csv.gz").unique_id.nunique() == 5


def test_backtest_on_a_sample(tmp_path, capsys):
    out = tmp_path / "bt"
    code = main(["backtest", "--dataset", "m3-other", "--models", "naive", "--out", str(out),
                 "--sample", "4", "--n-windows", "2", "--n-jobs", "1", "--no-progress"])
    assert code == 0
    cv = pd.read_csv(out / "forecasts.csv.gz")
    assert sorted(cv.window.unique()) == [0, 1]
    assert set(cv.model) == {"naive", "naive2"}
    assert (out / "report.md").exists() and (out / "manifest.json").exists()
    # The official test split is never used by backtest: its last window ends with train.
    from forecastkit.datasets import load_m3

    train, _, _ = load_m3("other")
    last = train.groupby("unique_id").ds.max()
    w1 = cv[cv.window == 1].groupby("unique_id").ds.max()
    assert (w1 == last.loc[w1.index]).all()


def test_console_module_runs():
    done = subprocess.run([sys.executable, "-m", "forecastkit.cli", "datasets"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "m4-hourly" in done.stdout
    done = subprocess.run([sys.executable, "-m", "forecastkit.cli", "backtest"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--dataset" in done.stderr  # argparse usage error
