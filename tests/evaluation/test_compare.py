import numpy as np
import pandas as pd
import pytest
from _dummies import LastValue

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation.compare import compare, sample_series
from forecastkit.evaluation.report import markdown_table, write_report
from forecastkit.exceptions import InvalidInputError

H, M = 6, 12


class ScaledLast(LastValue):
    """The last value times ``factor``: a worse forecaster the larger |factor - 1| is."""

    def __init__(self, horizon=None, factor=1.0):
        self.horizon = horizon
        self.factor = factor

    def _predict(self, panel, horizon):
        return self.factor * super()._predict(panel, horizon)


@pytest.fixture(scope="module")
def split():
    panel_df = make_trend_seasonal(n_series=5, length=(60, 80), season_length=M, seed=1)
    test = panel_df.groupby("unique_id", sort=False).tail(H)
    train = panel_df.drop(test.index)
    return train.reset_index(drop=True), test.reset_index(drop=True)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("compare")


@pytest.fixture(scope="module")
def result(split, out_dir):
    train, test = split
    models = {"last": LastValue(), "up20": ScaledLast(factor=1.2), "snaive":
              fk.baselines.SeasonalNaive(season_length=M)}
    return compare(models, train, test, horizon=H, season_length=M, out_dir=out_dir,
                   n_jobs=1, progress=False)


@pytest.fixture(scope="module")
def report_path(result, out_dir):
    return write_report(result, out_dir, command="pytest compare", notes="A note.",
                        published=pd.DataFrame({"method": ["Theta"], "smape": [13.85]}))


def test_outputs_are_written(result, out_dir, report_path):
    for name in ["metrics.csv", "per_series.csv.gz", "forecasts.csv.gz", "report.md",
                 "forecasts.png", "error_distribution.png", "error_by_step.png"]:
        assert (out_dir / name).stat().st_size > 0, name
    for png in out_dir.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out_dir / "report.md").read_text()
    for text in ["Date:", "Machine:", "`pytest compare`", "| model | sMAPE", "Theta", "13.850",
                 "error_by_step.png", "A note.", f"5 series, horizon {H}, season length {M}"]:
        assert text in report
    assert result.table() in report
    assert report_path == out_dir / "report.md"
    # round_trip: pandas 2's default float parser can be one unit in the last place off
    saved = pd.read_csv(out_dir / "forecasts.csv.gz", float_precision="round_trip")
    assert len(saved) == len(result.forecasts)
    np.testing.assert_array_equal(saved["y_pred"], result.forecasts["y_pred"])


def test_compare_alone_keeps_only_its_units(split, tmp_path):
    train, test = split
    compare({"last": LastValue()}, train, test, horizon=H, season_length=M, out_dir=tmp_path,
            n_jobs=1, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "records", "units"]


def test_report_without_plots(result, tmp_path):
    write_report(result, tmp_path, n_plot_series=0, title="No plots")
    assert not list(tmp_path.glob("*.png"))
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# No plots\n") and "## Plots" not in report
    assert (tmp_path / "metrics.csv").exists()


def test_metrics_and_ranks_agree_with_a_direct_computation(result, split, report_path):
    train, _ = split
    fc = result.forecasts
    assert set(fc.model) == {"last", "up20", "snaive", "naive2"}  # Naive2 added for OWA
    smape, mase = {}, {}
    for model, g in fc.groupby("model"):
        s, m = [], []
        for sid, f in g.groupby("unique_id"):
            y, p = f.y.to_numpy(), f.y_pred.to_numpy()
            hist = train[train.unique_id == sid].y.to_numpy()
            s.append(np.mean(200 * np.abs(y - p) / (np.abs(y) + np.abs(p))))
            m.append(np.mean(np.abs(y - p)) / np.mean(np.abs(hist[M:] - hist[:-M])))
        smape[model], mase[model] = np.mean(s), np.mean(m)
    table = result.metrics
    for model in smape:
        assert table.loc[model, "smape"] == pytest.approx(smape[model])
        assert table.loc[model, "mase"] == pytest.approx(mase[model])
        owa = 0.5 * (smape[model] / smape["naive2"] + mase[model] / mase["naive2"])
        assert table.loc[model, "owa"] == pytest.approx(owa)
    assert table.loc["naive2", "owa"] == pytest.approx(1.0)
    # rank 1 is the smallest value; the table is sorted by OWA
    for col in ("smape", "mase", "owa"):
        expected = pd.Series(smape if col == "smape" else mase if col == "mase" else
                             table["owa"].to_dict()).rank(method="min")
        assert table[f"rank_{col}"].astype(int).to_dict() == expected.astype(int).to_dict()
    assert table.index[0] == min(table.index, key=lambda k: table.loc[k, "owa"])
    assert table.loc["last", "smape"] < table.loc["up20", "smape"]
    saved = pd.read_csv(report_path.parent / "metrics.csv", index_col="model")
    assert list(saved.index) == list(table.index)


def test_rerun_reuses_finished_models(split, tmp_path):
    train, test = split
    kw = dict(horizon=H, season_length=M, out_dir=tmp_path, n_jobs=1, progress=False)
    compare({"last": LastValue()}, train, test, **kw)
    units = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "units").iterdir()}
    compare({"last": LastValue()}, train, test, **kw)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "units").iterdir()} == units


def test_registry_names_and_bad_test_split(split):
    train, test = split
    kw = dict(horizon=H, season_length=M, progress=False)
    res = compare(["naive", "snaive"], train, test, n_jobs=1, **kw)
    assert list(res.metrics.sort_index().index) == ["naive", "naive2", "snaive"]
    short = test.groupby("unique_id", sort=False).head(H - 1)
    sid = test.unique_id.iloc[0]
    with pytest.raises(InvalidInputError, match=f"{sid}.*{H - 1} test points"):
        compare(["naive"], train, short, **kw)
    with pytest.raises(InvalidInputError, match="unknown model"):
        compare(["naive", "prophet"], train, test, **kw)
    with pytest.raises(TypeError):
        compare(["naive"], train, test, H, M)  # horizon and season_length are keyword-only


def test_sample_series_keeps_the_same_series(split):
    train, test = split
    a, b = sample_series(3, 0, train, test)
    assert a.unique_id.nunique() == 3
    assert set(a.unique_id) == set(b.unique_id)
    again, _ = sample_series(3, 0, train, test)
    pd.testing.assert_frame_equal(a, again)


def test_markdown_table():
    text = markdown_table(pd.DataFrame({"a": ["x"], "b": [1.23456]}))
    assert text.splitlines() == ["| a | b |", "| --- | --- |", "| x | 1.235 |"]
