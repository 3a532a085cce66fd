"""RNNForecaster(floor=...): a lower bound on forecasts, quantiles and paths, in the serving graph.

References: a naive loop over the series' last values for the bound, and the same network
fitted without a floor (same seed, so the same weights) for the forecasts it bounds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.forecasters._floor import ForecastFloor
from forecastkit.forecasters.base import InvalidParameterError

H, M, WINDOW = 7, 7, 2
SMALL = dict(horizon=H, season_length=M, units=(6,), lookback=(14, 21), epochs=2,
             n_models=2, random_state=0)


def _loop_bound(history: np.ndarray, mask: np.ndarray, window: int | None) -> np.ndarray:
    """Each row's lowest observed value above zero in its last ``window`` steps (-inf if none)."""
    out = np.full(len(history), -np.inf)
    for i in range(len(history)):
        lo = 0 if window is None else history.shape[1] - window
        for t in range(max(lo, 0), history.shape[1]):
            if mask[i, t] > 0 and history[i, t] > 0:
                out[i] = min(out[i], history[i, t]) if np.isfinite(out[i]) else history[i, t]
    return out


@pytest.fixture(scope="module")
def daily():
    """Six daily series with a weekly cycle: a forecast of the week goes below the last
    ``WINDOW`` days' values unless they are the week's lowest."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(6):
        t = np.arange(120)
        y = 40 + 8 * i + 6 * np.sin(2 * np.pi * t / M) + rng.normal(0, 1, t.size)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "y": y,
                                    "ds": pd.date_range("2021-01-01", periods=t.size, freq="D")}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def pair(daily):
    """The same network (same seed) without a floor and with floor="recent_min"."""
    plain = fk.RNNForecaster(**SMALL).fit(daily)
    floored = fk.RNNForecaster(**SMALL, floor="recent_min", floor_window=WINDOW).fit(daily)
    return plain, floored


@pytest.mark.parametrize("window", [None, 3, 8])
def test_layer_bound_equals_a_loop(window):
    rng = np.random.default_rng(1)
    history = rng.normal(2, 3, (9, 8)).astype("float32")  # negatives and positives
    mask = (rng.random((9, 8)) > 0.3).astype("float32")
    history[0], mask[1] = -1.0, 0.0  # a row with nothing positive, a row with nothing observed
    layer = ForecastFloor("recent_min", window=window)
    expected = _loop_bound(history, mask, window)
    got = np.asarray(layer.bound(history, mask))
    np.testing.assert_array_equal(got, expected.astype("float32"))
    assert np.isneginf(got[:2]).all()
    values = rng.normal(0, 5, (9, 4, 3)).astype("float32")  # quantile-shaped
    out = np.asarray(layer([values, history, mask]))
    np.testing.assert_array_equal(out, np.maximum(values, expected[:, None, None]))


def test_constant_floor_and_its_config():
    layer = ForecastFloor(2.5)
    values = np.array([[1.0, 3.0], [2.4, -7.0]], dtype="float32")
    history = np.ones((2, 5), dtype="float32")
    np.testing.assert_array_equal(np.asarray(layer([values, history, history])),
                                  [[2.5, 3.0], [2.5, 2.5]])
    again = ForecastFloor.from_config(ForecastFloor("recent_min", window=4).get_config())
    assert (again.floor, again.window) == ("recent_min", 4)
    assert json.dumps(ForecastFloor(np.float32(2.5)).get_config()["floor"]) == "2.5"
    for bad in (float("nan"), "recent", True):
        with pytest.raises(InvalidParameterError, match="floor must be"):
            ForecastFloor(bad)
    with pytest.raises(InvalidParameterError, match="at least 1"):
        ForecastFloor("recent_min", window=0)


def test_floored_forecasts_are_the_plain_ones_raised_to_the_recent_minimum(pair, daily):
    plain, floored = pair
    inputs = plain.serving_inputs(to_panel(daily))
    bound = _loop_bound(inputs["history"], inputs["mask"], WINDOW)
    unbounded = plain.predict_array()
    got = floored.predict_array()
    np.testing.assert_allclose(got, np.maximum(unbounded, bound[:, None]), rtol=1e-6)
    # Forecasts were below their bound, so the test saw the floor act.
    assert (unbounded < bound[:, None]).sum() >= 6
    assert (got >= bound[:, None] * (1 - 1e-6)).all()


def test_floor_reads_new_histories_at_predict(pair, daily):
    plain, floored = pair
    new = daily.assign(y=daily["y"] * 3.0)
    inputs = plain.serving_inputs(to_panel(new))
    bound = _loop_bound(inputs["history"], inputs["mask"], WINDOW)
    unbounded = plain.predict_array(y=new)
    assert (unbounded < bound[:, None]).sum() >= 6
    got = floored.predict_array(y=new)
    np.testing.assert_allclose(got, np.maximum(unbounded, bound[:, None]), rtol=1e-6)


def test_floor_survives_save_and_load(pair, tmp_path):
    _, floored = pair
    floored.save(tmp_path / "f")
    loaded = fk.load(tmp_path / "f")
    assert (loaded.floor, loaded.floor_window) == ("recent_min", WINDOW)
    np.testing.assert_array_equal(loaded.predict_array(), floored.predict_array())


def test_saved_model_serves_the_floored_forecast(pair, daily, tmp_path):
    import tensorflow as tf

    _, floored = pair
    path = fk.export_saved_model(floored, tmp_path / "m")
    meta = json.loads((path / "assets" / "forecastkit.json").read_text())
    assert meta["model"]["floor"] == "recent_min" and meta["model"]["floor_window"] == WINDOW
    inputs = floored.serving_inputs(to_panel(daily))
    fn = tf.saved_model.load(str(path)).signatures["serve_masked"]
    names = fn.structured_input_signature[1]
    got = fn(**{k: tf.constant(inputs[k]) for k in names})["forecast"].numpy()
    expected = floored.predict_array()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * np.abs(expected).max())


def test_quantiles_are_raised_to_the_floor_and_stay_ordered(daily):
    params = dict(SMALL, loss="quantile")
    plain = fk.RNNForecaster(**params).fit(daily)
    floor = float(np.quantile(daily["y"], 0.5))
    floored = fk.RNNForecaster(**params, floor=floor).fit(daily)
    levels = [0.05, 0.5, 0.95]
    q_plain = plain.predict_quantiles_array(levels)
    q = floored.predict_quantiles_array(levels)
    np.testing.assert_allclose(q, np.maximum(q_plain, floor), rtol=1e-6)
    assert (q_plain < floor).any()
    assert (np.diff(q, axis=-1) >= 0).all()


@pytest.fixture(scope="module")
def recursive_pair(daily):
    """A recursive probabilistic network without and with a constant floor (same seed)."""
    params = dict(SMALL, strategy="recursive", distribution="normal", n_models=1)
    floor = float(np.quantile(daily["y"], 0.5))
    return fk.RNNForecaster(**params).fit(daily), fk.RNNForecaster(**params, floor=floor).fit(
        daily), floor


def test_sample_paths_of_a_recursive_network_are_bounded(recursive_pair):
    plain, floored, floor = recursive_pair
    paths = floored.sample_paths(20, random_state=1)  # (n_series, n_paths, horizon)
    unbounded = plain.sample_paths(20, random_state=1)
    assert (unbounded < floor).any()
    np.testing.assert_allclose(paths, np.maximum(unbounded, floor), rtol=1e-6)


def test_a_recursive_forecast_past_the_trained_horizon_is_bounded(recursive_pair):
    plain, floored, floor = recursive_pair
    unbounded = plain.predict_array(horizon=2 * H)
    assert (unbounded < floor).any()
    np.testing.assert_allclose(floored.predict_array(horizon=2 * H),
                               np.maximum(unbounded, floor), rtol=1e-6)


def test_the_floor_is_fixed_at_fit(pair):
    _, floored = pair
    before = floored.predict_array()
    changed = floored.set_params(floor=1e6)
    try:
        np.testing.assert_array_equal(changed.predict_array(), before)
        assert changed.floor_ == {"floor": "recent_min", "window": WINDOW}
    finally:
        floored.set_params(floor="recent_min")


def test_a_floor_window_past_the_serving_window_is_refused_before_training(daily):
    f = fk.RNNForecaster(**SMALL, floor="recent_min", floor_window=500)
    with pytest.raises(InvalidParameterError, match="floor_window=500 is longer than the 42"):
        f.fit(daily)
    assert not hasattr(f, "members_")


@pytest.mark.parametrize("floor", ["recent", float("inf")])
def test_bad_floors_are_refused_before_training(daily, floor):
    f = fk.RNNForecaster(**SMALL, floor=floor)
    with pytest.raises(InvalidParameterError, match="floor"):
        f.fit(daily)
    assert not hasattr(f, "members_")
