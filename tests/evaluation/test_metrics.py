"""Metrics against hand-computed cases and the competitions' published reference figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit import metrics as M
from forecastkit.exceptions import InvalidInputError

REF = fk.datasets.data_dir() / "reference"


# --------------------------------------------------------------------------- hand-computed


def test_hand_computed_point_metrics():
    y = np.array([10.0, 20.0, 30.0])
    p = np.array([12.0, 18.0, 33.0])
    # errors 2, -2, 3
    assert M.mae(y, p) == pytest.approx(7 / 3)
    assert M.rmse(y, p) == pytest.approx(np.sqrt(17 / 3))
    assert M.mape(y, p) == pytest.approx(100 * (0.2 + 0.1 + 0.1) / 3)
    expected = (200 * 2 / 22 + 200 * 2 / 38 + 200 * 3 / 63) / 3
    assert M.smape(y, p) == pytest.approx(expected)


def test_hand_computed_scaled_metrics():
    train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    y, p = np.array([6.0, 7.0]), np.array([5.0, 9.0])
    # m = 1: |diffs| 2, 1, 3, 1 -> 7/4; m = 2: |2-1|, |5-3|, |4-2| -> 5/3
    assert M.mase(y, p, train, 1) == pytest.approx(1.5 / (7 / 4))
    assert M.mase(y, p, train, 2) == pytest.approx(1.5 / (5 / 3))
    # squared: m = 1 -> (4 + 1 + 9 + 1) / 4; errors squared (1 + 4) / 2
    assert M.rmsse(y, p, train, 1) == pytest.approx(np.sqrt(2.5 / (15 / 4)))


def test_mase_short_series_uses_lag_one():
    train = np.array([1.0, 2.0, 4.0])
    y, p = np.array([5.0]), np.array([4.0])
    # m = 12 > n: scale is mean |diff| = 1.5
    assert M.mase(y, p, train, 12) == pytest.approx(1 / 1.5)


def test_zero_scale_and_zero_denominators():
    flat = np.ones(6)
    assert M.mase([2.0], [1.0], flat, 1) == np.inf
    assert np.isnan(M.mase([1.0], [1.0], flat, 1))
    assert M.smape([0.0, 1.0], [0.0, 1.0]) == 0.0
    # A missing forecast is not a 0/0 step: it must not score as perfect.
    assert np.isnan(M.smape([np.nan, 1.0], [np.nan, 1.0]))
    assert np.isnan(M.smape([1.0, 1.0], [np.nan, 1.0]))
    assert M.mape([0.0], [1.0]) == np.inf


def test_owa_and_coverage():
    assert M.owa(10.0, 1.0, 20.0, 2.0) == pytest.approx(0.5)
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert M.coverage(y, y - 1, y + 1) == 1.0
    assert M.coverage(y, np.array([0, 0, 3.5, 5.0]), np.array([2, 3, 4, 6.0])) == 0.5


def test_bad_input_raises():
    with pytest.raises(InvalidInputError, match="3 values"):
        M.smape([1, 2, 3], [1, 2])
    with pytest.raises(InvalidInputError, match="at least 2"):
        M.mase([1.0], [1.0], [1.0], 1)
    with pytest.raises(InvalidInputError, match="season_length"):
        M.mase([1.0], [1.0], [1.0, 2.0], 0)


# --------------------------------------------------------------------------- frames


def _frames():
    train = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 4, "ds": [0, 1, 2, 3] * 2,
                          "y": [1.0, 2, 3, 4, 10, 10, 12, 12]})
    test = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": [4, 5, 4, 5],
                         "y": [5.0, 6, 11, 13]})
    fc = pd.DataFrame({"unique_id": ["b", "b", "a", "a"], "ds": [5, 4, 5, 4],
                       "y_pred": [12.0, 12, 4, 4]})
    return train, test, fc


def test_evaluate_and_summarize():
    train, test, fc = _frames()
    per = M.evaluate(fc, test, train, season_length=1, metrics=("mae", "smape", "mase"))
    assert list(per.columns) == ["mae", "smape", "mase"]
    assert per.loc["a", "mae"] == pytest.approx(1.5)
    assert per.loc["a", "mase"] == pytest.approx(1.5 / 1.0)
    assert per.loc["b", "mase"] == pytest.approx(1.0 / (2 / 3))
    assert per.loc["b", "smape"] == pytest.approx((200 / 23 + 200 / 25) / 2)
    naive2 = per * 2
    s = M.summarize(per, naive2=naive2)
    assert s["mae"] == pytest.approx(per["mae"].mean())
    assert s["owa"] == pytest.approx(0.5)


def test_summarize_without_naive2_has_no_owa():
    train, test, fc = _frames()
    per = M.evaluate(fc, test, train, season_length=1)
    s = M.summarize(per)
    assert list(s.index) == ["smape", "mase"]
    assert s["mase"] == pytest.approx((1.5 + 1.0 / (2 / 3)) / 2)


def test_score_forecasts_per_block_with_its_own_history():
    # Two models, two windows of one series; each window is scaled by the history before it.
    frame = pd.DataFrame({
        "model": ["m"] * 4 + ["k"] * 4, "window": [0, 0, 1, 1] * 2, "unique_id": "s",
        "ds": [4, 5, 6, 7] * 2, "y": [5.0, 6, 7, 8] * 2,
        "y_pred": [4.0, 4, 6, 6, 5, 6, 7, 9],
    })
    x = np.array([1.0, 2, 4, 7, 5, 6, 7, 8])
    calls = []

    def history(key, row):
        calls.append((key, row))
        return x[: int(frame["ds"].iloc[row])]  # the points before the block's first step

    out = M.score_forecasts(frame, history, season_length=1, metrics=("mae", "mase"),
                            by=["model", "window", "unique_id"])
    assert out.columns.tolist() == ["model", "window", "unique_id", "mae", "mase"]
    assert out[["model", "window"]].values.tolist() == [["m", 0], ["m", 1], ["k", 0], ["k", 1]]
    # window 0 history 1, 2, 4, 7: mean |diff| = 2; window 1 adds 5, 6: (1+2+3+2+1)/5 = 1.8
    np.testing.assert_allclose(out["mae"], [1.5, 1.5, 0.0, 0.5])
    np.testing.assert_allclose(out["mase"], [1.5 / 2, 1.5 / 1.8, 0.0, 0.5 / 1.8])
    assert [row for _, row in calls] == [0, 2, 4, 6]


def test_summarize_by_group_with_owa_against_naive2():
    per = pd.DataFrame({"model": ["a", "a", "naive2", "naive2", "b", "b"],
                        "smape": [10.0, 20, 20, 40, 30, 30], "mase": [1.0, 1, 2, 2, 4, 2]})
    table = M.summarize_by(per, "model")
    assert table.index.tolist() == ["a", "naive2", "b"]
    assert table.loc["a", "smape"] == 15.0 and table.loc["b", "mase"] == 3.0
    np.testing.assert_allclose(table["owa"], [0.5 * (15 / 30 + 1 / 2), 1.0,
                                              0.5 * (30 / 30 + 3 / 2)])
    assert M.summarize_by(per, "model", naive2=None)["owa"].isna().all()
    assert M.summarize_by(per[per.model != "naive2"], "model")["owa"].isna().all()


def test_evaluate_errors_name_the_series():
    train, test, fc = _frames()
    with pytest.raises(InvalidInputError, match="'a'"):
        M.evaluate(fc, test[test.unique_id == "b"], train)
    with pytest.raises(InvalidInputError, match="unknown metric"):
        M.evaluate(fc, test, train, metrics=("nope",))
    with pytest.raises(InvalidInputError, match="training series"):
        M.evaluate(fc, test, None, metrics=("mase",))


# --------------------------------------------------------------------------- reference

SETS = [("M3", "Yearly"), ("M3", "Quarterly"), ("M3", "Monthly"), ("M3", "Other"),
        ("M4", "Weekly"), ("M4", "Hourly")]


@pytest.fixture(scope="module")
def reference():
    per_series = pd.read_csv(REF / "baseline_per_series.csv.gz")
    return per_series, pd.read_csv(REF / "baseline_metrics.csv")


def _naive_loop(x, h):
    return np.repeat(x[-1], h)


def _snaive_loop(x, m, h):
    return np.array([x[len(x) - m + (i % m)] for i in range(h)])


@pytest.mark.parametrize("source,freq", SETS)
def test_smape_mase_match_reference_per_series(reference, source, freq):
    """Naive and seasonal naive forecasts, written as plain loops, scored by our metrics."""
    per_series, _ = reference
    train, test, info = fk.datasets.load_dataset(f"{source}-{freq}".lower())
    m, h = info.season_length, info.horizon
    tr = {k: g["y"].to_numpy() for k, g in train.groupby("unique_id")}
    te = {k: g["y"].to_numpy() for k, g in test.groupby("unique_id")}
    ref = per_series[(per_series.dataset == source) & (per_series.frequency == freq)]
    for method, forecast in (("Naive", lambda x: _naive_loop(x, h)),
                             ("sNaive", lambda x: _snaive_loop(x, m, h))):
        rows = ref[ref.method == method]
        assert len(rows) > 100
        for sid, s_ref, m_ref in zip(rows.unique_id, rows.sMAPE, rows.MASE, strict=True):
            f = forecast(tr[sid])
            assert M.smape(te[sid], f) == pytest.approx(s_ref, abs=1e-4), sid
            assert M.mase(te[sid], f, tr[sid], m) == pytest.approx(m_ref, abs=1e-4), sid


def test_owa_matches_reference_sets(reference):
    _, sets = reference
    for (source, freq), g in sets.groupby(["dataset", "frequency"]):
        n2 = g[g.method == "Naive2"].iloc[0]
        for row in g.itertuples():
            got = M.owa(row.sMAPE, row.MASE, n2.sMAPE, n2.MASE)
            assert got == pytest.approx(row.OWA, abs=1e-5), (source, freq, row.method)


def test_non_finite_forecasts_are_named_not_skipped():
    train = pd.DataFrame({"unique_id": ["a"] * 6 + ["b"] * 6, "ds": list(range(6)) * 2,
                          "y": np.arange(12.0) + 1})
    actual = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": [6, 7, 6, 7],
                           "y": [7.0, 8.0, 13.0, 14.0]})
    pred = actual.rename(columns={"y": "y_pred"}).assign(y_pred=[7.0, 8.0, np.nan, 14.0])
    with pytest.raises(InvalidInputError, match="series 'b' has a non-finite forecast"):
        M.evaluate(pred, actual, train, season_length=1)
    cv = pred.assign(y=actual["y"], model="m", window=0, cutoff=[5, 5, 5, 5])
    with pytest.raises(InvalidInputError, match="model 'm', series 'b'"):
        fk.evaluation.backtest_metrics(cv, train, season_length=1)
