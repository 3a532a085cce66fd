"""Covariate specs and their alignment with a panel (forecastkit.data.covariates)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from forecastkit.data.covariates import (
    build_covariates,
    calendar_covariates,
    future_covariates,
    resolve_spec,
    static_matrix,
)
from forecastkit.data.frames import to_panel
from forecastkit.exceptions import CovariateError


def _frames(n_series=3, length=20, horizon=4, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        ds = pd.date_range("2024-06-20", periods=length + horizon, freq="D")
        rows.append(pd.DataFrame({
            "unique_id": f"s{i}", "ds": ds, "y": rng.normal(10, 1, len(ds)),
            "price": rng.normal(5, 2, len(ds)), "temp": rng.normal(20, 5, len(ds)),
        }))
    full = pd.concat(rows, ignore_index=True)
    y = full.groupby("unique_id").head(length)[["unique_id", "ds", "y"]]
    return y, full[["unique_id", "ds", "price", "temp"]]


def test_every_column_is_future_known_by_default():
    y, X = _frames()
    spec = resolve_spec(X, None, to_panel(y))
    assert spec.futr == ("price", "temp") and spec.hist == ()
    assert spec.past_names == ["price", "temp"] and spec.future_names == ["price", "temp"]


def test_futr_and_hist_split_orders_past_columns():
    y, X = _frames()
    spec = resolve_spec(X, None, to_panel(y), futr_exog=["price"], hist_exog=["temp"])
    assert spec.past_names == ["price", "temp"]
    assert spec.future_names == ["price"]
    assert spec.future_in_past == [0]


@pytest.mark.parametrize("kwargs, X_change, match", [
    ({"futr_exog": ["price"]}, None, "'temp' that neither"),
    ({"futr_exog": ["price", "rain"], "hist_exog": ["temp"]}, None, "no column 'rain'"),
    ({"futr_exog": ["price"], "hist_exog": ["price"]}, None, "both future-known"),
    ({}, "text", "not numeric"),
    ({"calendar": ["fortnight"]}, None, "unknown calendar covariate 'fortnight'"),
    ({"holidays": "XX"}, None, "no country 'XX'"),
])
def test_bad_specs_are_named(kwargs, X_change, match):
    y, X = _frames()
    if X_change == "text":
        X = X.assign(temp="warm")
    with pytest.raises(CovariateError, match=match):
        resolve_spec(X, None, to_panel(y), **kwargs)


def test_named_columns_without_x_and_calendar_on_integer_time():
    y, _ = _frames()
    with pytest.raises(CovariateError, match="X is None"):
        resolve_spec(None, None, to_panel(y), futr_exog=["price"])
    integer = pd.Series(np.arange(30.0) + 1)
    with pytest.raises(CovariateError, match="integer time"):
        resolve_spec(None, None, to_panel(integer), calendar=["month"])


def test_history_and_future_rows_match_a_plain_lookup():
    y, X = _frames()
    X = X.sample(frac=1.0, random_state=1)  # any row order
    panel = to_panel(y)
    spec = resolve_spec(X, None, panel, futr_exog=["price"], hist_exog=["temp"])
    cov = build_covariates(spec, X, None, panel, horizon=4)
    by_key = X.set_index(["unique_id", "ds"])
    for i, sid in enumerate(panel.ids):
        times = pd.DatetimeIndex(panel.series_times(i))
        rows = cov.past[panel.indptr[i]:panel.indptr[i + 1]]
        for k, t in enumerate(times):  # the reference: one dictionary lookup per row
            assert rows[k, 0] == np.float32(by_key.loc[(sid, t), "price"])
            assert rows[k, 1] == np.float32(by_key.loc[(sid, t), "temp"])
        after = pd.date_range(times[-1] + pd.Timedelta(days=1), periods=4, freq="D")
        expected = [by_key.loc[(sid, t), "price"] for t in after]
        np.testing.assert_array_equal(cov.future[i, :, 0], np.float32(expected))


def test_a_gap_names_series_column_and_stamp():
    y, X = _frames()
    panel = to_panel(y)
    spec = resolve_spec(X, None, panel)
    hole = X[~((X.unique_id == "s1") & (X.ds == pd.Timestamp("2024-06-25")))]
    with pytest.raises(CovariateError, match=r"'price' of series 's1' is missing at "
                                             r"2024-06-25.*history"):
        build_covariates(spec, hole, None, panel)
    no_future = X[X.ds < pd.Timestamp("2024-07-10")]
    with pytest.raises(CovariateError, match=r"series 's0' is missing at 2024-07-10.*horizon"):
        future_covariates(spec, no_future, panel, 4)
    nan = X.copy()
    nan.loc[(nan.unique_id == "s2") & (nan.ds == pd.Timestamp("2024-06-21")), "temp"] = np.nan
    with pytest.raises(CovariateError, match="'temp' of series 's2'"):
        build_covariates(spec, nan, None, panel)
    twice = pd.concat([X, X.iloc[:1]])
    with pytest.raises(CovariateError, match="two rows for series 's0'"):
        build_covariates(spec, twice, None, panel)


def test_calendar_and_holidays_against_pandas_and_the_holidays_package():
    import holidays

    y = pd.DataFrame({"unique_id": "a", "ds": pd.date_range("2024-06-28", periods=14),
                      "y": 1.0})
    panel = to_panel(y)
    spec = resolve_spec(None, None, panel, calendar=["dayofweek", "dayofyear"], holidays="US")
    cal = calendar_covariates(panel, panel.times, spec)
    assert spec.calendar_names[:7] == [f"dayofweek_{j}" for j in range(7)]
    stamps = pd.DatetimeIndex(panel.times)
    np.testing.assert_array_equal(cal[:, :7].argmax(axis=1), stamps.day_of_week)
    angle = 2 * np.pi * (stamps.day_of_year - 1) / 366
    np.testing.assert_allclose(cal[:, 7], np.sin(angle), atol=1e-6)
    us = holidays.country_holidays("US", years=[2024])
    expected = [float(t.date() in us) for t in stamps]
    np.testing.assert_array_equal(cal[:, -1], expected)
    assert cal[stamps.get_loc(pd.Timestamp("2024-07-04")), -1] == 1.0
    assert dt.date(2024, 7, 4) in us


def test_static_categories_one_hot_and_unseen_ones_refused():
    y, _ = _frames()
    panel = to_panel(y)
    static = pd.DataFrame({"unique_id": ["s0", "s1", "s2", "other"],
                           "store": ["big", "small", "big", "tiny"], "size": [3.0, 1.0, 2.0, 0]})
    spec = resolve_spec(None, static, panel)
    assert spec.static_numeric == ("size",)
    assert spec.static_categories == (("store", ("big", "small")),)
    np.testing.assert_array_equal(static_matrix(spec, static, panel),
                                  [[3, 1, 0], [1, 0, 1], [2, 1, 0]])
    unseen = static.assign(store=["big", "medium", "big", "tiny"])
    with pytest.raises(CovariateError, match="'store' of series 's1' is 'medium'"):
        static_matrix(spec, unseen, panel)
    with pytest.raises(CovariateError, match="no value of 'size' for series 's2'"):
        static_matrix(spec, static[static.unique_id != "s2"], panel)
    with pytest.raises(CovariateError, match="two rows for series 's0'"):
        resolve_spec(None, pd.concat([static, static.iloc[:1]]), panel)


def test_cut_panels_carry_their_covariates():
    y, X = _frames()
    panel = to_panel(y)
    spec = resolve_spec(X, None, panel)
    full = build_covariates(spec, X, None, panel, horizon=4)
    from dataclasses import replace

    panel = replace(panel, covariates=full)
    taken = panel.take([2, 0])
    expect = build_covariates(spec, X, None, to_panel(y[y.unique_id.isin(["s2", "s0"])]))
    # take keeps the given order: s2 first
    np.testing.assert_array_equal(taken.covariates.past[:20], full.past[40:60])
    np.testing.assert_array_equal(taken.covariates.past[20:], expect.past[:20])
    np.testing.assert_array_equal(taken.covariates.future, full.future[[2, 0]])
    cut = panel.slice(0, 10)
    np.testing.assert_array_equal(cut.covariates.past[10:20], full.past[20:30])
    assert cut.covariates.future is None
