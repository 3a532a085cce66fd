"""Probabilistic backtests: quantile columns, support checks, resume, scores and summaries."""

import importlib

import numpy as np
import pandas as pd
import pytest
from _dummies import GaussianLast, GlobalMean, LastValue
from scipy.stats import norm

from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.evaluation.compare import summarize_models
from forecastkit.evaluation.scoring import calibration
from forecastkit.exceptions import InvalidInputError, NotProbabilisticError, PersistenceError

backtest_module = importlib.import_module("forecastkit.evaluation.backtest")

LEVELS = [0.025, 0.1, 0.5, 0.9, 0.975]
QCOLS = ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
H, M = 5, 12
KW = dict(horizon=H, n_windows=2, n_jobs=1, progress=False)


def _history(df, sid, cutoff):
    g = df[df.unique_id == sid]
    return g[g.ds <= cutoff].y.to_numpy()


def _gaussian_quantiles(hist, levels, horizon, scale=1.0):
    """GaussianLast's quantiles written out: last + scale * sd(diff) * sqrt(k) * z(level)."""
    k = np.arange(1, horizon + 1)[:, None]
    return hist[-1] + scale * np.std(np.diff(hist)) * np.sqrt(k) * norm.ppf(levels)[None, :]


def _pinball(y, q, levels):
    d = y[:, None] - q
    return np.mean(np.where(d >= 0, levels * d, (levels - 1) * d))


def _msis(y, lo, hi, hist, m, alpha):
    score = (hi - lo) + 2 / alpha * (lo - y) * (y < lo) + 2 / alpha * (y - hi) * (y > hi)
    return np.mean(score) / np.mean(np.abs(hist[m:] - hist[:-m]))


@pytest.fixture
def cv(panel_df):
    return backtest({"gauss": GaussianLast(), "wide": GaussianLast(scale=3.0)}, panel_df,
                    quantiles=LEVELS, **KW)


def test_quantile_columns_hold_each_folds_quantiles(cv, panel_df):
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "y_pred", *QCOLS, "model",
                                "window"]
    for (model, sid, _), g in cv.groupby(["model", "unique_id", "window"]):
        hist = _history(panel_df, sid, g.cutoff.iloc[0])
        scale = 3.0 if model == "wide" else 1.0
        expected = _gaussian_quantiles(hist, np.array(LEVELS), H, scale)
        np.testing.assert_allclose(g[QCOLS].to_numpy(), expected, rtol=1e-12)
        np.testing.assert_array_equal(g.y_pred, hist[-1])
    # the levels are sorted whatever order they are asked in
    again = backtest(GaussianLast(), panel_df, quantiles=LEVELS[::-1], **KW)
    np.testing.assert_array_equal(again[QCOLS].to_numpy(),
                                  cv[cv.model == "gauss"][QCOLS].to_numpy())


def test_refitting_every_other_window_gives_the_same_quantiles(cv, panel_df):
    # A local model forecasts a window it was not fitted at from that window's history.
    sparse = backtest({"gauss": GaussianLast()}, panel_df, quantiles=LEVELS, refit=False,
                      **KW)
    pd.testing.assert_frame_equal(sparse, cv[cv.model == "gauss"].reset_index(drop=True))


def test_a_model_without_quantiles_is_named_unless_skipped(panel_df):
    models = {"gauss": GaussianLast(), "plain": LastValue()}
    with pytest.raises(NotProbabilisticError, match="'plain'.*LastValue.*skip_unsupported"):
        backtest(models, panel_df, quantiles=LEVELS, **KW)
    cv = backtest(models, panel_df, quantiles=LEVELS, skip_unsupported=True, **KW)
    plain = cv[cv.model == "plain"]
    assert plain[QCOLS].isna().all().all() and plain.y_pred.notna().all()
    assert cv[cv.model == "gauss"][QCOLS].notna().all().all()
    per = backtest_metrics(cv, panel_df, season_length=M)
    prob = ["coverage_95", "acd_95", "msis_95", "coverage_80", "msis_80", "pinball", "crps"]
    assert per[per.model == "plain"][prob].isna().all().all()
    assert per[per.model == "plain"].smape.notna().all()
    assert per[per.model == "gauss"][prob].notna().all().all()


def test_bad_levels_are_refused(panel_df):
    for bad in ([], [0.5, 0.5], [0.0, 0.5], [1.2]):
        with pytest.raises(InvalidInputError):
            backtest(GaussianLast(), panel_df, quantiles=bad, **KW)


def test_stored_units_keep_quantiles_and_levels_must_match(cv, panel_df, tmp_path,
                                                           monkeypatch):
    monkeypatch.setattr(backtest_module, "SERIES_PER_UNIT", 2)  # blocks of series, too
    models = {"gauss": GaussianLast(), "wide": GaussianLast(scale=3.0)}
    first = backtest(models, panel_df, quantiles=LEVELS, out_dir=tmp_path, **KW)
    pd.testing.assert_frame_equal(first, cv)
    stored = pd.read_csv(next((tmp_path / "units").iterdir()))
    assert set(QCOLS) <= set(stored.columns)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "units").iterdir()}
    again = backtest(models, panel_df, quantiles=LEVELS, out_dir=tmp_path, **KW)
    pd.testing.assert_frame_equal(again, cv)  # reloaded, quantiles included
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "units").iterdir()} == stamps
    with pytest.raises(PersistenceError, match="quantiles"):
        backtest(models, panel_df, quantiles=[0.1, 0.9], out_dir=tmp_path, **KW)
    with pytest.raises(PersistenceError, match="quantiles"):
        backtest(models, panel_df, out_dir=tmp_path, **KW)  # a point run on a quantile store


def test_a_unit_stored_without_quantiles_is_refused(panel_df, tmp_path, monkeypatch):
    # The same model stored point-only (skipped), then asked for quantiles: never NaN.
    monkeypatch.setattr(GaussianLast, "supports_quantiles", False)
    backtest({"g": GaussianLast()}, panel_df, quantiles=LEVELS, skip_unsupported=True,
             out_dir=tmp_path, **KW)
    monkeypatch.setattr(GaussianLast, "supports_quantiles", True)
    with pytest.raises(PersistenceError, match="no quantile forecasts.*fresh=True"):
        backtest({"g": GaussianLast()}, panel_df, quantiles=LEVELS, out_dir=tmp_path, **KW)
    fresh = backtest({"g": GaussianLast()}, panel_df, quantiles=LEVELS, out_dir=tmp_path,
                     fresh=True, **KW)
    assert fresh[QCOLS].notna().all().all()


def test_probabilistic_metrics_match_a_hand_computation(cv, panel_df):
    per = backtest_metrics(cv, panel_df, season_length=M)
    assert len(per) == 2 * 2 * panel_df.unique_id.nunique()
    levels = np.array(LEVELS)
    for row in per.itertuples():
        f = cv[(cv.model == row.model) & (cv.unique_id == row.unique_id)
               & (cv.window == row.window)]
        y, q = f.y.to_numpy(), f[QCOLS].to_numpy()
        hist = _history(panel_df, row.unique_id, row.cutoff)
        scale = np.mean(np.abs(hist[M:] - hist[:-M]))
        cov95 = np.mean((y >= q[:, 0]) & (y <= q[:, 4]))
        assert row.coverage_95 == pytest.approx(cov95)
        assert row.acd_95 == pytest.approx(abs(cov95 - 0.95))
        assert row.coverage_80 == pytest.approx(np.mean((y >= q[:, 1]) & (y <= q[:, 3])))
        assert row.msis_95 == pytest.approx(_msis(y, q[:, 0], q[:, 4], hist, M, 0.05))
        assert row.msis_80 == pytest.approx(_msis(y, q[:, 1], q[:, 3], hist, M, 0.2))
        assert row.pinball == pytest.approx(_pinball(y, q, levels) / scale)
        assert row.crps == pytest.approx(2 * _pinball(y, q, levels))
        # the point metrics still score y_pred
        p = f.y_pred.to_numpy()
        assert row.smape == pytest.approx(np.mean(200 * np.abs(y - p) / (np.abs(y) + np.abs(p))))


def test_only_the_intervals_whose_levels_were_forecast_are_scored(panel_df):
    cv = backtest(GaussianLast(), panel_df, quantiles=[0.1, 0.5, 0.9], **KW)
    per = backtest_metrics(cv, panel_df, season_length=M)
    assert {"coverage_80", "acd_80", "msis_80", "pinball", "crps"} <= set(per.columns)
    assert not {"coverage_95", "msis_95", "acd_95"} & set(per.columns)


def test_a_non_finite_quantile_is_named(cv, panel_df):
    bad = cv.copy()
    sid = bad.unique_id.iloc[3]
    bad.loc[3, "q0.9"] = np.inf
    with pytest.raises(InvalidInputError, match=f"model 'gauss', series {sid!r}.*q0.9"):
        backtest_metrics(bad, panel_df, season_length=M)


def test_summary_takes_acd_from_the_mean_coverage(cv, panel_df):
    per = backtest_metrics(cv, panel_df, season_length=M)
    table = summarize_models(per, seconds=cv.attrs["seconds"])
    for model in ("gauss", "wide"):
        rows = per[per.model == model]
        for col in ("coverage_95", "msis_95", "coverage_80", "msis_80", "pinball", "crps"):
            assert table.loc[model, col] == pytest.approx(rows[col].mean())
        assert table.loc[model, "acd_95"] == pytest.approx(abs(rows.coverage_95.mean() - 0.95))
        assert table.loc[model, "acd_80"] == pytest.approx(abs(rows.coverage_80.mean() - 0.8))
    assert table.loc["wide", "coverage_95"] >= table.loc["gauss", "coverage_95"]
    # point-only summaries keep their columns as before
    point = summarize_models(backtest_metrics(backtest(LastValue(), panel_df, **KW), panel_df,
                                              season_length=M))
    assert "coverage_95" not in point and "smape" in point


def test_calibration_values(cv):
    table = calibration(cv)
    assert list(table.columns) == ["gauss", "wide"]
    np.testing.assert_array_equal(table.index, LEVELS)
    for model in ("gauss", "wide"):
        g = cv[cv.model == model]
        for level, col in zip(LEVELS, QCOLS, strict=True):
            share = sum(y <= q for y, q in zip(g.y, g[col], strict=True)) / len(g)
            assert table.loc[level, model] == pytest.approx(share)


def test_a_global_model_with_quantiles(panel_df):
    class GlobalGauss(GlobalMean):
        supports_quantiles = True

        def _predict_quantiles(self, panel, horizon, levels):
            point = self._predict(panel, horizon)
            return point[:, :, None] + np.asarray(levels)[None, None, :] - 0.5

    cv = backtest({"g": GlobalGauss()}, panel_df, quantiles=[0.25, 0.5, 0.75], refit=False,
                  **KW)
    np.testing.assert_allclose(cv["q0.5"], cv["y_pred"])
    np.testing.assert_allclose(cv["q0.75"] - cv["q0.25"], 0.5)
