"""Hostile input: every forecaster either raises a ForecastkitError or gives finite forecasts of
the right shape, dates and time zone, on the scale of each series (no silent NaN, clamp or swap).

Regression tests for issue 16's silent wrong results and contract defects:

====  ======================================================================================
item  case
====  ======================================================================================
2     positive data near 1e-12: log-space forecasts stay near the data (no 1e-8 clamp)
3     scaler="level" near 1e-9 and near 1e12: forecasts on the data's scale (relative floor)
8     a fit that raises leaves the forecaster unfitted (no stale forecasts)
11    numpy integers as horizon / season_length / lookback everywhere
12    values beyond float32 name the series and the real cause
13    predict before fit: forecastkit's NotFittedError, caught as scikit-learn's too
15    predict(y=...) of another frequency is refused
====  ======================================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecastkit as fk
from forecastkit.exceptions import ForecastkitError, InvalidInputError, NotFittedError

TINY_RNN = dict(units=(4,), epochs=1, n_models=1, lookback=4, random_state=0)


def _y(scale=1.0, n=30, name="S"):
    return pd.Series(np.arange(1.0, n + 1) * scale, name=name)


# --------------------------------------------------------------------------- items 2, 3, 12


@pytest.mark.parametrize("scale", [1e-12, 1e12])
def test_log_space_forecasts_stay_on_the_data_scale(scale):
    f = fk.RNNForecaster(horizon=3, **TINY_RNN).fit(_y(scale))
    assert f.log_
    pred = f.predict().to_numpy()
    # The series ends at 30 * scale and rises by 1 * scale a step: a forecast within a factor
    # of two of its last value, never a floor like 1e-8.
    assert np.all((pred > 15 * scale) & (pred < 60 * scale)), pred


@pytest.mark.parametrize("scale", [1e-9, 1e12])
def test_level_scaler_forecasts_stay_on_the_data_scale(scale):
    y = pd.Series(np.sin(np.arange(40)) * scale + 3 * scale, name="S")
    f = fk.RNNForecaster(horizon=3, scaler="level", **TINY_RNN).fit(y)
    pred = f.predict().to_numpy()
    assert np.all(np.abs(pred - 3 * scale) < 3 * scale), pred


def test_level_scaler_with_another_series_below_zero_keeps_tiny_series_tiny():
    tiny = pd.DataFrame({"unique_id": "tiny", "ds": np.arange(40),
                         "y": 1e-9 * (2 + np.sin(np.arange(40)))})
    neg = pd.DataFrame({"unique_id": "neg", "ds": np.arange(40), "y": np.cos(np.arange(40))})
    f = fk.RNNForecaster(horizon=3, **TINY_RNN).fit(pd.concat([tiny, neg]))
    assert not f.log_  # a value <= 0 somewhere: "auto" is the level scaler
    pred = f.predict()
    tiny_pred = pred.loc[pred["unique_id"] == "tiny", "y_pred"].to_numpy()
    assert np.all(np.abs(tiny_pred) < 1e-8), tiny_pred


def test_values_beyond_float32_name_the_series_and_the_cause():
    y = pd.DataFrame({"unique_id": ["ok"] * 20 + ["huge"] * 20, "ds": list(range(20)) * 2,
                      "y": [1.0] * 20 + [1.3e39] * 20})
    with pytest.raises(InvalidInputError, match="'huge'.*float32"):
        fk.RNNForecaster(horizon=3, **TINY_RNN).fit(y)
    f = fk.RNNForecaster(horizon=3, **TINY_RNN).fit(_y())
    with pytest.raises(InvalidInputError, match="'S'.*float32"):
        f.predict(y=_y(1e35))


# --------------------------------------------------------------------------- items 8, 11, 13, 15


def test_failed_fit_forgets_the_previous_fit():
    f = fk.baselines.Naive(horizon=2).fit(_y())
    with pytest.raises(ForecastkitError):
        f.fit(pd.Series([1.0, np.inf, 3.0]))
    with pytest.raises(NotFittedError):
        f.predict()


def test_not_fitted_is_both_a_forecastkit_and_a_scikit_learn_error():
    for cls in (fk.baselines.Naive, fk.RNNForecaster):
        with pytest.raises(ForecastkitError):
            cls(horizon=2).predict()
        with pytest.raises(sklearn.exceptions.NotFittedError):
            cls(horizon=2).predict()


@pytest.mark.parametrize("make", [
    lambda: fk.baselines.Theta(season_length=np.int64(4), horizon=np.int64(3)),
    lambda: fk.baselines.SeasonalNaive(season_length=np.int32(4), horizon=np.int64(3)),
    lambda: fk.RNNForecaster(horizon=np.int64(3), season_length=np.int64(4), units=(4,),
                             lookback=np.int64(6), epochs=1, n_models=1, random_state=0),
])
def test_numpy_integers_are_integers(make):
    y = pd.Series(np.exp(np.linspace(0, 2, 40)), index=pd.date_range("2000", periods=40,
                                                                       freq="QS"))
    f = make().fit(y)
    assert f.predict().shape == (3,) and f.predict(horizon=np.int64(2)).shape == (2,)


def test_new_histories_of_another_frequency_are_refused():
    monthly = pd.Series(np.arange(1.0, 37), index=pd.date_range("2000", periods=36, freq="MS"))
    daily = pd.Series(np.arange(1.0, 37), index=pd.date_range("2000", periods=36, freq="D"))
    for f in (fk.baselines.Naive(horizon=2), fk.RNNForecaster(horizon=2, **TINY_RNN)):
        f.fit(monthly)
        with pytest.raises(InvalidInputError, match="frequency"):
            f.predict(y=daily)


# --------------------------------------------------------------------------- property tests

FREQS = [None, "D", "MS", "h"]
ZONES = [None, "UTC", "Europe/Berlin"]


@st.composite
def panels(draw, max_series=3):
    n = draw(st.integers(1, max_series))
    freq = draw(st.sampled_from(FREQS))
    tz = draw(st.sampled_from(ZONES)) if freq is not None else None
    frames = []
    for i in range(n):
        length = draw(st.integers(1, 48))
        exponent = draw(st.integers(-12, 12))
        sign = draw(st.sampled_from(["positive", "mixed", "negative"]))
        rng = np.random.default_rng(draw(st.integers(0, 2**16)))
        values = (2 + np.sin(np.arange(length) / 3) + rng.normal(0, 0.1, length)) * 10.0**exponent
        if sign == "mixed":
            values -= 2 * 10.0**exponent
        elif sign == "negative":
            values = -values
        if draw(st.integers(0, 4)) == 0 and length > 2:  # one panel in five has a gap
            values[draw(st.integers(0, length - 1))] = np.nan
        start = pd.Timestamp("2001-03-20", tz=tz) if freq else 0
        ds = pd.date_range(start, periods=length, freq=freq) if freq else np.arange(length)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": values}))
    return pd.concat(frames, ignore_index=True)


BASELINES = [
    lambda: fk.baselines.Naive(horizon=3),
    lambda: fk.baselines.SeasonalNaive(season_length=4, horizon=3),
    lambda: fk.baselines.Drift(horizon=3),
    lambda: fk.baselines.Mean(horizon=3),
    lambda: fk.baselines.Naive2(season_length=4, horizon=3),
    lambda: fk.baselines.SES(horizon=3),
    lambda: fk.baselines.Theta(season_length=4, horizon=3),
    lambda: fk.baselines.Comb(season_length=4, horizon=3),
]


def _check_outcome(make, df):
    try:
        f = make().fit(df)
        pred = f.predict()
    except ForecastkitError as err:
        assert str(err)  # a named refusal is a valid answer
        return
    assert len(pred) == 3 * df["unique_id"].nunique()
    assert np.isfinite(pred["y_pred"]).all()
    for sid, g in df.groupby("unique_id"):
        p = pred[pred["unique_id"] == sid]
        # Dates continue each series, in its own zone.
        assert p["ds"].iloc[0] > g["ds"].iloc[-1]
        if isinstance(g["ds"].dtype, pd.DatetimeTZDtype):
            assert str(p["ds"].dt.tz) == str(g["ds"].dt.tz)
        # On the series' own scale: no clamp to a constant, no other series' forecast.
        peak = np.nanmax(np.abs(g["y"]))
        assert np.all(np.abs(p["y_pred"]) <= 1e3 * peak), (sid, p["y_pred"].to_numpy(), peak)


@pytest.mark.filterwarnings("ignore::forecastkit.exceptions.ForecastkitWarning")
@pytest.mark.parametrize("index", range(len(BASELINES)))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=panels())
def test_baselines_answer_or_refuse(index, df):
    _check_outcome(BASELINES[index], df)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::forecastkit.exceptions.ForecastkitWarning")
# Each example fits a network: 6 keep the suite within its time budget on CI.
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=panels(max_series=2))
def test_rnn_answers_or_refuses(df):
    _check_outcome(lambda: fk.RNNForecaster(horizon=3, **TINY_RNN), df)
