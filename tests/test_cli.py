import importlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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


def _shortest_and_longest(n, seed, *frames):
    """Stands in for compare.sample_series: the two shortest series of the first frame and its
    longest, so that a default backtest meets the dataset's hardest case."""
    lengths = frames[0].groupby("unique_id", sort=False).size().sort_values(kind="stable")
    ids = [*lengths.index[:2], lengths.index[-1]]
    return tuple(f[f.unique_id.isin(ids)].reset_index(drop=True) for f in frames)


@pytest.mark.parametrize("dataset", list_datasets())
def test_backtest_and_compare_run_with_their_defaults_on_every_dataset(dataset, tmp_path,
                                                                      monkeypatch, capsys):
    compare_module = importlib.import_module("forecastkit.evaluation.compare")
    monkeypatch.setattr(compare_module, "sample_series", _shortest_and_longest)
    warned = {}
    for command in ("backtest", "compare"):
        out = tmp_path / command
        code = main([command, "--dataset", dataset, "--models", "naive,theta", "--out", str(out),
                     "--sample", "3", "--no-progress", "--n-jobs", "1"])
        assert code == 0
        # the ragged-split warning (others, e.g. Theta's on series with zeros, may come too)
        warned[command] = "too short" in capsys.readouterr().err
        per = pd.read_csv(out / "per_series.csv.gz")
        assert per.unique_id.nunique() == 3 and set(per.model) == {"naive", "theta", "naive2"}
        assert np.isfinite(per[["smape", "mase"]].to_numpy()).all()
    # Backtest windows: every series in the latest; the report says how many were left out
    # of earlier ones, and per_series.csv.gz each series' count.
    per = pd.read_csv(tmp_path / "backtest" / "per_series.csv.gz")
    counts = per[per.model == "naive"].groupby("unique_id").size()
    assert (per.groupby("unique_id").n_windows.first().loc[counts.index] == counts).all()
    assert per.window.max() == 2 and (per[per.window == 2].groupby("model").size() == 3).all()
    report = (tmp_path / "backtest" / "report.md").read_text()
    short = int((counts < 3).sum())
    assert (f"{short} series too short for all 3 windows" in report if short
            else "Every series is scored in all 3 windows" in report)
    assert warned == {"backtest": short > 0, "compare": False}


def test_console_module_runs():
    done = subprocess.run([sys.executable, "-m", "forecastkit.cli", "datasets"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "m4-hourly" in done.stdout
    done = subprocess.run([sys.executable, "-m", "forecastkit.cli", "backtest"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--dataset" in done.stderr  # argparse usage error


def _free_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BASE = ["backtest", "--dataset", "m3-other", "--models", "naive", "--sample", "2",
        "--n-windows", "1", "--n-jobs", "1", "--no-progress"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n-jobs", "0"], "--n-jobs must be a positive number of workers, or -1"),
        (["--n-jobs", "-3"], "--n-jobs must be"),
        (["--seed", "-1"], "--seed must be a non-negative integer, got -1"),
        (["--sample", "0"], "--sample must be"),
        (["--n-windows", "0"], "--n-windows must be"),
        (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --backend dask"),
    ],
)
def test_bad_numbers_and_flags_give_a_clear_error(extra, message, tmp_path, capsys):
    code = main([*BASE, "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("forecastkit: error: ") and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("where", ["under-a-file", "a-file", "unwritable"])
def test_an_output_folder_that_cannot_be_written_gives_a_clear_error(where, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    out = {"under-a-file": tmp_path / "file" / "out", "a-file": tmp_path / "file",
           # /proc takes no new folders, even from root (a chmod would not stop root)
           "unwritable": Path("/proc/forecastkit-test-out")}[where]
    code = main([*BASE, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"forecastkit: error: --out {str(out)!r} cannot be used"), err
    assert (tmp_path / "file").read_text() == "x"


def test_an_unreachable_scheduler_fails_fast_with_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    from forecastkit.evaluation._execution import CONNECT_TIMEOUT

    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "forecastkit.cli", *BASE, "--out", str(tmp_path / "out"),
         "--backend", "dask", "--scheduler", address],
        capture_output=True, text=True, timeout=120,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("forecastkit: error: cannot reach the Dask scheduler at "
                                  f"{address!r}"), done.stderr
    assert "Traceback" not in done.stderr
    # Dask's own default waits 30 s; the command gives up after its connection timeout.
    assert CONNECT_TIMEOUT <= elapsed < CONNECT_TIMEOUT + 20


def test_fresh_starts_a_damaged_run_over(tmp_path, capsys):
    out = tmp_path / "bt"
    argv = [*BASE, "--out", str(out)]
    assert main(argv) == 0
    first = pd.read_csv(out / "forecasts.csv.gz")
    unit = next((out / "units").glob("naive__*.csv.gz"))
    unit.write_bytes(unit.read_bytes()[:10])  # truncated
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("forecastkit: error: stored backtest unit") and unit.name in err
    assert "--fresh" in err
    assert main([*argv, "--fresh"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "forecasts.csv.gz"), first)


def test_compare_with_quantiles_writes_probabilistic_scores(tmp_path):
    out = tmp_path / "prob"
    code = main(["compare", "--dataset", "m3-monthly", "--models", "naive,snaive", "--sample",
                 "6", "--out", str(out), "--n-jobs", "1", "--no-progress",
                 "--quantiles", "0.025,0.1,0.5,0.9,0.975"])
    assert code == 0
    report = (out / "report.md").read_text()
    assert "coverage" in report.lower() and (out / "calibration.png").is_file()


def test_bad_quantiles_flag_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compare", "--dataset", "m3-monthly", "--models", "naive", "--out",
              str(tmp_path), "--quantiles", "0.5,1.5"])
    assert exc.value.code == 2 and "(0, 1)" in capsys.readouterr().err


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    import forecastkit

    assert forecastkit.__version__ == version("forecastkit")
    done = subprocess.run([sys.executable, "-m", "forecastkit", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert done.stdout.strip() == f"forecastkit {forecastkit.__version__}"
