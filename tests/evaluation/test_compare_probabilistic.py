"""compare(quantiles=...) and the report of a probabilistic comparison."""

import numpy as np
import pandas as pd
import pytest
from _dummies import GaussianLast, LastValue

from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation.compare import compare
from forecastkit.evaluation.report import write_report
from forecastkit.evaluation.scoring import calibration
from forecastkit.exceptions import NotProbabilisticError

H, M = 6, 12
LEVELS = [0.025, 0.1, 0.5, 0.9, 0.975]
QCOLS = ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
KW = dict(horizon=H, season_length=M, n_jobs=1, progress=False)


@pytest.fixture(scope="module")
def split():
    df = make_trend_seasonal(n_series=5, length=(60, 80), season_length=M, seed=2)
    test = df.groupby("unique_id", sort=False).tail(H)
    return df.drop(test.index).reset_index(drop=True), test.reset_index(drop=True)


@pytest.fixture(scope="module")
def result(split):
    train, test = split
    models = {"gauss": GaussianLast(), "wide": GaussianLast(scale=3.0), "plain": LastValue()}
    return compare(models, train, test, quantiles=LEVELS, skip_unsupported=True,
                   combinations={"both": ["gauss", "wide"], "mixed": ["gauss", "plain"]}, **KW)


@pytest.fixture(scope="module")
def report_dir(result, tmp_path_factory):
    out = tmp_path_factory.mktemp("prob-report")
    write_report(result, out, command="pytest prob")
    return out


def test_compare_scores_quantiles_beside_the_point_metrics(result):
    table = result.metrics
    assert result.is_probabilistic
    prob = ["coverage_95", "acd_95", "msis_95", "coverage_80", "acd_80", "msis_80",
            "pinball", "crps"]
    assert [c for c in table.columns if c in prob] == prob
    # Naive2 (added for OWA) has its textbook intervals, so it is scored too.
    assert table.loc[["gauss", "wide", "both", "naive2"], prob].notna().all().all()
    # The point-only model and a combination with it: point only
    assert table.loc[["plain", "mixed"], prob].isna().all().all()
    assert table.loc[["naive2", "plain", "mixed"], "owa"].notna().all()
    for model in ("gauss", "wide"):
        rows = result.per_series[result.per_series.model == model]
        assert table.loc[model, "msis_95"] == pytest.approx(rows.msis_95.mean())


def test_a_combination_averages_its_members_quantiles(result):
    fc = result.forecasts
    keys = ["unique_id", "ds"]
    both = fc[fc.model == "both"].set_index(keys)[QCOLS]
    gauss = fc[fc.model == "gauss"].set_index(keys)[QCOLS]
    wide = fc[fc.model == "wide"].set_index(keys)[QCOLS]
    pd.testing.assert_frame_equal(both, (gauss + wide) / 2)
    assert (np.diff(both.to_numpy(), axis=1) >= 0).all()  # still non-crossing


def test_a_users_model_without_quantiles_is_refused(split):
    train, test = split
    with pytest.raises(NotProbabilisticError, match="'plain'"):
        compare({"gauss": GaussianLast(), "plain": LastValue()}, train, test,
                quantiles=LEVELS, **KW)
    with pytest.raises(NotProbabilisticError, match="'naive2'"):  # named by the user
        compare({"gauss": GaussianLast(), "naive2": LastValue()}, train, test,
                quantiles=LEVELS, **KW)


def test_the_report_shows_the_probabilistic_scores(result, report_dir):
    report = (report_dir / "report.md").read_text()
    for text in ["## Probabilistic scores", "| model | coverage 95% | ACD 95% | MSIS 95%",
                 "scaled pinball | CRPS |", "Quantile levels forecast: 0.025, 0.1, 0.5, 0.9, "
                 "0.975", "![Calibration", "calibration.png", "calibration.csv"]:
        assert text in report, text
    assert result.probabilistic_table() in report
    assert result.table() in report
    note = next(ln for ln in report.splitlines() if ln.startswith("Scored on point"))
    assert all(f"`{m}`" in note for m in ("plain", "mixed"))
    assert "`gauss`" not in note and "`naive2`" not in note
    row = next(ln for ln in report.splitlines() if ln.startswith("| wide |")
               and ln.count("|") == 10)
    assert f"{result.metrics.loc['wide', 'coverage_95']:.3f}" in row


def test_the_report_writes_calibration_files(result, report_dir):
    png = report_dir / "calibration.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = pd.read_csv(report_dir / "calibration.csv", index_col="level")
    expected = calibration(result.forecasts)
    assert list(saved.columns) == ["gauss", "wide", "naive2", "both"]
    np.testing.assert_allclose(saved.to_numpy(), expected.to_numpy(), rtol=1e-5)
    forecasts = pd.read_csv(report_dir / "forecasts.csv.gz")
    assert set(QCOLS) <= set(forecasts.columns)


def test_a_point_report_has_no_probabilistic_part(split, tmp_path):
    train, test = split
    res = compare({"plain": LastValue()}, train, test, **KW)
    assert not res.is_probabilistic and res.probabilistic_table() == ""
    write_report(res, tmp_path, command="pytest point")
    report = (tmp_path / "report.md").read_text()
    assert "Probabilistic" not in report and "calibration" not in report
    assert not (tmp_path / "calibration.png").exists()
    assert "coverage_95" not in res.metrics
