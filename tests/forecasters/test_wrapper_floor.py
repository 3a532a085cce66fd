"""floor= on the wrappers: Combination and ConformalIntervals raise what they return to a bound.

References: a naive loop over each series' last observed values for the bound, and the same
wrapper without a floor for the values it bounds (``max(value, bound)``); for conformal
calibration, clones fitted by hand on each calibration origin.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.forecasters import Combination, ConformalIntervals
from forecastkit.forecasters._bounds import series_bounds
from forecastkit.forecasters.base import InvalidParameterError
from forecastkit.metrics import seasonal_scales

H, M = 6, 12
B = fk.baselines
LEVELS = [0.05, 0.25, 0.5, 0.75, 0.95]


def _loop_bounds(frame: pd.DataFrame, floor, window) -> np.ndarray:
    """Per series in sorted id order: the constant, or the lowest observed value above zero
    among its last ``window`` values (-inf where there is none)."""
    out = []
    for _, part in frame.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True):
        if floor != "recent_min":
            out.append(float(floor))
            continue
        values = part["y"].to_numpy()
        if window is not None:
            values = values[-window:]
        best = np.inf
        for v in values:
            if np.isfinite(v) and v > 0 and v < best:
                best = v
        out.append(best if np.isfinite(best) else -np.inf)
    return np.array(out)


def _assert_conformal_bounded(f, frame, point, q, bound, m):
    """``q`` is the conformal quantiles around ``point`` raised to ``bound`` (per series, or a
    number), and the bound raised some of them (else the check could not fail)."""
    panel = to_panel(frame)
    scale = seasonal_scales(panel.values, panel.indptr, m)
    unbounded = point[:, :, None] + scale[:, None, None] * f.scaled_quantiles(LEVELS)[None]
    bound = np.broadcast_to(np.asarray(bound, dtype=float).reshape(-1, 1, 1), unbounded.shape)
    assert (unbounded < bound).any(), "some quantiles must go below the bound"
    np.testing.assert_allclose(q, np.maximum(unbounded, bound), rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def monthly():
    """Five monthly series with trend and a yearly cycle: seasonal forecasts go below the
    last few months' values."""
    return fk.datasets.make_trend_seasonal(n_series=5, length=(30, 60), season_length=M,
                                           seed=2, freq="MS")


def _members():
    return [("snaive", B.SeasonalNaive(season_length=M, horizon=H)),
            ("drift", B.Drift(horizon=H))]


@pytest.mark.parametrize("window", [None, 1, 3, 40])
def test_series_bounds_equal_a_loop(window):
    rng = np.random.default_rng(0)
    frames = []
    for i, n in enumerate([1, 4, 9, 25, 3]):
        y = rng.normal(1.0, 2.0, n)
        y[rng.random(n) < 0.2] = np.nan
        y[rng.random(n) < 0.2] = 0.0
        if i == 4:
            y[:] = -1.0  # nothing above zero: no bound
        y[0] = y[0] if np.isfinite(y[0]) else 1.5  # a panel's series starts observed
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(n), "y": y}))
    frame = pd.concat(frames, ignore_index=True)
    panel = to_panel(frame, allow_missing=True)
    got = series_bounds(panel.values, panel.indptr, "recent_min", window)
    expected = _loop_bounds(frame, "recent_min", window)
    np.testing.assert_array_equal(got, expected)
    assert got[4] == -np.inf
    np.testing.assert_array_equal(series_bounds(panel.values, panel.indptr, 2.5), 2.5)


@pytest.mark.parametrize("floor, window", [("recent_min", 3), ("recent_min", None),
                                           (None, None)])
def test_combination_bounds_forecasts_and_quantiles(monthly, floor, window):
    plain = Combination(_members()).fit(monthly)
    bounded = Combination(_members(), floor=floor, floor_window=window).fit(monthly)
    raw, raw_q = plain.predict_array(), plain.predict_quantiles_array(LEVELS)
    # The level at which a constant floor raises part of the forecasts, but not all.
    level = float(np.quantile(raw, 0.3))
    if floor is None:
        bounded = Combination(_members(), floor=level).fit(monthly)
    bound = _loop_bounds(monthly, level if floor is None else floor, window)
    expected = np.maximum(raw, bound[:, None])
    assert (raw < bound[:, None]).any(), "the data must put some forecasts below the bound"
    np.testing.assert_allclose(bounded.predict_array(), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(bounded.predict_quantiles_array(LEVELS),
                               np.maximum(raw_q, bound[:, None, None]), rtol=0, atol=1e-12)
    frame = bounded.predict(quantiles=[0.1, 0.9])
    assert (frame["y_pred"].to_numpy() >= np.repeat(bound, H) - 1e-12).all()
    # New histories are bounded by their own values.
    query = monthly.assign(y=monthly["y"] * 0.5)
    np.testing.assert_allclose(
        bounded.predict_array(y=query),
        np.maximum(plain.predict_array(y=query),
                   _loop_bounds(query, level if floor is None else floor, window)[:, None]),
        rtol=0, atol=1e-12)


def test_conformal_calibrates_on_bounded_forecasts(monthly):
    """Its errors are those of the forecasts it serves: each origin's clone, bounded."""
    n_windows = 3
    raw = B.Drift(horizon=H).fit(monthly).predict_array()
    level = float(np.quantile(raw, 0.3))
    f = ConformalIntervals(B.Drift(horizon=H), n_windows=n_windows, floor=level,
                           season_length=M).fit(monthly)
    panel = to_panel(monthly)
    for k in range(n_windows):
        end = panel.lengths - H * (n_windows - k)
        train = pd.concat([part.iloc[:e] for (_, part), e in
                           zip(monthly.groupby("unique_id", sort=True), end, strict=True)])
        actual = np.stack([part["y"].to_numpy()[e:e + H] for (_, part), e in
                           zip(monthly.groupby("unique_id", sort=True), end, strict=True)])
        pred = np.maximum(B.Drift(horizon=H).fit(train).predict_array(), level)
        tp = to_panel(train)
        scale = seasonal_scales(tp.values, tp.indptr, M)
        np.testing.assert_allclose(f.calibration_errors_[k], (actual - pred) / scale[:, None],
                                   rtol=1e-10, atol=1e-10)
    point, q = f.predict_array(), f.predict_quantiles_array(LEVELS)
    np.testing.assert_allclose(point, np.maximum(raw, level))
    _assert_conformal_bounded(f, monthly, point, q, level, M)


def test_conformal_takes_the_networks_bound():
    """Around RNNForecaster(floor="recent_min") the intervals keep the network's bound."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(6):
        t = np.arange(120)
        y = 40 + 8 * i + 6 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, t.size)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "y": y,
                                    "ds": pd.date_range("2021-01-01", periods=t.size, freq="D")}))
    daily = pd.concat(frames, ignore_index=True)
    net = fk.RNNForecaster(horizon=7, season_length=7, units=(6,), lookback=(14,), epochs=2,
                           n_models=1, random_state=0, floor="recent_min", floor_window=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ConformalIntervals(net, n_windows=3, refit=False).fit(daily)
    assert f._floor_arguments() == f.forecaster_.floor_ == {"floor": "recent_min", "window": 2}
    bound = _loop_bounds(daily, "recent_min", 2)
    point, q = f.predict_array(), f.predict_quantiles_array(LEVELS)
    np.testing.assert_allclose(point, f.forecaster_.predict_array())
    _assert_conformal_bounded(f, daily, point, q, bound, 7)
    assert (q >= bound[:, None, None] - 1e-6).all()
    # Its own floor takes the place of the network's.
    f.set_params(floor=0.0)
    assert f._floor_arguments() == {"floor": 0.0, "window": None}


def test_bounded_wrappers_survive_saving(monthly, tmp_path):
    comb = Combination(_members(), floor="recent_min", floor_window=3)
    for name, f in [("comb", comb), ("conformal", ConformalIntervals(comb, n_windows=3)),
                    ("own", ConformalIntervals(B.Drift(horizon=H), n_windows=3, floor=4.0))]:
        f.fit(monthly).save(tmp_path / name)
        loaded = fk.load(tmp_path / name)
        assert loaded.get_params()["floor"] == f.get_params()["floor"]
        assert loaded._floor_arguments() == f._floor_arguments() is not None
        np.testing.assert_array_equal(loaded.predict_array(), f.predict_array())
        np.testing.assert_array_equal(loaded.predict_quantiles_array(LEVELS),
                                      f.predict_quantiles_array(LEVELS))


@pytest.mark.parametrize("floor", [np.nan, np.inf, "lowest", True])
@pytest.mark.parametrize("wrapper", ["combination", "conformal"])
def test_bad_floor_is_refused(monthly, wrapper, floor):
    make = {"combination": lambda: Combination(_members(), floor=floor),
            "conformal": lambda: ConformalIntervals(B.Drift(horizon=H), floor=floor)}[wrapper]
    with pytest.raises(InvalidParameterError, match="floor"):
        make().fit(monthly)


def test_conformal_takes_a_bounded_combinations_floor(monthly):
    comb = Combination(_members(), floor="recent_min", floor_window=2)
    f = ConformalIntervals(comb, n_windows=3, season_length=M).fit(monthly)
    assert f._floor_arguments() == {"floor": "recent_min", "window": 2}
    bound = _loop_bounds(monthly, "recent_min", 2)
    point, q = f.predict_array(), f.predict_quantiles_array(LEVELS)
    _assert_conformal_bounded(f, monthly, point, q, bound, M)


def test_conformal_bounds_new_histories_by_their_own_values(monthly):
    f = ConformalIntervals(B.Drift(horizon=H), n_windows=3, season_length=M,
                           floor="recent_min", floor_window=2).fit(monthly)
    plain = ConformalIntervals(B.Drift(horizon=H), n_windows=3, season_length=M).fit(monthly)
    query = monthly.assign(y=monthly["y"] * 0.5)
    bound = _loop_bounds(query, "recent_min", 2)
    point = f.predict_array(y=query)
    np.testing.assert_allclose(point, np.maximum(plain.predict_array(y=query), bound[:, None]))
    q = f.predict_quantiles_array(LEVELS, y=query)
    _assert_conformal_bounded(f, query, point, q, bound, M)
    iv = f.predict_interval(coverage=0.8, y=query)
    assert (iv["lo-80"].to_numpy() >= np.repeat(bound, H) - 1e-12).all()
