"""Classical baselines: the M3/M4 reference figures, statsmodels, and the estimator contract."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import forecastkit as fk
from forecastkit.exceptions import ForecastkitWarning
from forecastkit.forecasters import _autoselect, _classical
from forecastkit.forecasters import baselines as B
from forecastkit.forecasters.base import InvalidParameterError
from forecastkit.metrics import evaluate, summarize

REF = fk.datasets.data_dir() / "reference"
SETS = [("M3", "Yearly"), ("M3", "Quarterly"), ("M3", "Monthly"), ("M3", "Other"),
        ("M4", "Weekly"), ("M4", "Hourly")]
METHODS = {"Naive2": B.Naive2, "sNaive": B.SeasonalNaive, "Naive": B.Naive}


# --------------------------------------------------------------------------- reference


@pytest.fixture(scope="module")
def reference():
    return (pd.read_csv(REF / "baseline_per_series.csv.gz"),
            pd.read_csv(REF / "baseline_metrics.csv"))


def _scores(cls, train, test, info):
    f = cls(season_length=info.season_length, horizon=info.horizon).fit(train)
    return evaluate(f.predict(), test, train, info.season_length)


@pytest.mark.parametrize("source,freq", SETS)
def test_naive_family_reproduces_reference(reference, source, freq):
    per_series, sets = reference
    train, test, info = fk.datasets.load_dataset(f"{source}-{freq}".lower())
    ref = per_series[(per_series.dataset == source) & (per_series.frequency == freq)]
    scores = {name: _scores(cls, train, test, info) for name, cls in METHODS.items()}
    for name, per in scores.items():
        rows = ref[ref.method == name].set_index("unique_id")
        got = per.loc[rows.index]
        np.testing.assert_allclose(got["smape"], rows["sMAPE"], atol=1e-4, err_msg=name)
        np.testing.assert_allclose(got["mase"], rows["MASE"], atol=1e-4, err_msg=name)
        # set level, OWA included, over the series the reference row covers
        key = "M3-full" if (source, freq) == ("M3", "Monthly") else source
        row = sets[(sets.dataset == key) & (sets.frequency == freq) & (sets.method == name)]
        assert len(row) == 1
        summary = summarize(per, naive2=scores["Naive2"])
        assert summary["smape"] == pytest.approx(row.sMAPE.iloc[0], abs=1e-4)
        assert summary["mase"] == pytest.approx(row.MASE.iloc[0], abs=1e-4)
        assert summary["owa"] == pytest.approx(row.OWA.iloc[0], abs=1e-4)
        assert len(per) == row.n_series.iloc[0]


# --------------------------------------------------------------------------- kernels


def test_decomposition_matches_statsmodels():
    from statsmodels.tsa.seasonal import seasonal_decompose

    rng = np.random.default_rng(0)
    for m in (4, 7, 12):
        x = 50 + np.arange(10 * m) * 0.3 + 5 * np.sin(2 * np.pi * np.arange(10 * m) / m)
        x = x * rng.uniform(0.95, 1.05, len(x))
        ref = seasonal_decompose(x, model="multiplicative", period=m).seasonal[:m]
        np.testing.assert_allclose(_classical.seasonal_indices(x, m), ref, rtol=1e-10)


def test_additive_decomposition_matches_statsmodels():
    from statsmodels.tsa.seasonal import seasonal_decompose

    rng = np.random.default_rng(0)
    for m in (4, 7, 12):
        t = np.arange(10 * m)
        x = -3 + 0.05 * t + 5 * np.sin(2 * np.pi * t / m) + rng.normal(0, 0.3, len(t))
        ref = seasonal_decompose(x, model="additive", period=m).seasonal[:m]
        np.testing.assert_allclose(_classical.seasonal_differences(x, m), ref, atol=1e-12)


def _zero_crossing(seed=1, shift=0.0):
    # The example: a season of amplitude 10 around zero.
    t = np.arange(48)
    values = 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(seed).normal(0, 0.5, 48)
    return pd.Series(values + shift, index=pd.date_range("2000-01", periods=48, freq="MS"))


def _additive_reference(x, m):
    """Deseasonalised values and the season of the 12 steps after, from statsmodels."""
    from statsmodels.tsa.seasonal import seasonal_decompose

    season = seasonal_decompose(x, model="additive", period=m).seasonal
    return x - season, season[:m]  # len(x) is a multiple of m: the next cycle starts at 0


def test_zero_crossing_series_is_deseasonalised_additively():
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    s = _zero_crossing()
    des, future = _additive_reference(s.to_numpy(), 12)
    with pytest.warns(ForecastkitWarning, match="not strictly positive.*'series'"):
        naive2 = B.Naive2(season_length=12, horizon=12).fit(s)
    np.testing.assert_allclose(naive2.predict().to_numpy(), des[-1] + future, rtol=1e-10)
    assert naive2.params_[0]["decomposition"] == "additive"
    # Close to what seasonal naive says (8.7 at step 3), where the multiplicative figure gave -31.6.
    snaive = B.SeasonalNaive(season_length=12, horizon=12).fit(s).predict().to_numpy()
    assert np.max(np.abs(naive2.predict().to_numpy() - snaive)) < 3

    t = np.arange(1, 49)
    b, a = np.polyfit(t, des, 1)
    ses = SimpleExpSmoothing(2 * des - (a + b * t), initialization_method="estimated").fit()
    theta_ref = 0.5 * ses.forecast(12) + 0.5 * (a + b * np.arange(49, 61)) + future
    with pytest.warns(ForecastkitWarning, match="not strictly positive"):
        theta = B.Theta(season_length=12, horizon=12, n_jobs=1).fit(s).predict()
    np.testing.assert_allclose(theta.to_numpy(), theta_ref, rtol=1e-6)


@pytest.mark.parametrize("cls", [B.SES, B.Holt, B.Damped, B.Comb])
def test_smoothing_on_zero_crossing_series_reseasonalises_additively(cls):
    # The additive decomposition is the reference's (statsmodels' seasonal_decompose); the
    # smoothing fit on the deseasonalised series is the least-squares search, itself checked
    # against statsmodels in tests/forecasters/test_smoothing.py.
    from forecastkit.forecasters import _smoothing

    s = _zero_crossing()
    des, future = _additive_reference(s.to_numpy(), 12)
    fits = {
        "SES": lambda: _smoothing.ses_forecast(des, 12)[0],
        "Holt": lambda: _smoothing.holt_forecast(des, 12, damped=False)[0],
        "Damped": lambda: _smoothing.holt_forecast(des, 12, damped=True)[0],
    }
    parts = ["SES", "Holt", "Damped"] if cls is B.Comb else [cls.__name__]
    expected = np.mean([fits[p]() for p in parts], axis=0) + future
    with pytest.warns(ForecastkitWarning, match="not strictly positive"):
        got = cls(season_length=12, horizon=12, n_jobs=1).fit(s).predict()
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-6)


def test_one_decomposition_warning_names_every_nonpositive_series():
    frames = [
        pd.DataFrame({"unique_id": sid, "ds": np.arange(48), "y": _zero_crossing(seed, shift)})
        for sid, seed, shift in (("neg", 1, 0.0), ("pos", 2, 50.0), ("zero", 3, 0.0))
    ]
    df = pd.concat(frames, ignore_index=True)
    df.loc[df.unique_id == "zero", "y"] += 10 - df.loc[df.unique_id == "zero", "y"].max()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = B.Naive2(season_length=12, horizon=6).fit(df)
    ours = [str(w.message) for w in caught if issubclass(w.category, ForecastkitWarning)]
    assert len(ours) == 1 and "'neg'" in ours[0] and "'zero'" in ours[0]
    assert "'pos'" not in ours[0] and "2 seasonal series" in ours[0]
    assert [p["decomposition"] for p in f.params_] == ["additive", "multiplicative", "additive"]
    # The positive series keeps M4's multiplicative Naive2 (statsmodels' indices).
    from statsmodels.tsa.seasonal import seasonal_decompose

    x = f.panel_.series(1)
    idx = seasonal_decompose(x, model="multiplicative", period=12).seasonal[:12]
    np.testing.assert_allclose(f.predict_array()[1], x[-1] / idx[-1] * idx[:6], rtol=1e-10)


def test_positive_series_keep_multiplicative_decomposition_without_warning():
    train, _, info = fk.datasets.load_dataset("m3-monthly")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForecastkitWarning)
        f = B.Naive2(season_length=12, horizon=info.horizon).fit(train)
    kinds = {p["decomposition"] for p in f.params_}
    assert kinds == {"multiplicative", "none"}


def test_acf_matches_statsmodels():
    from statsmodels.tsa.stattools import acf

    x = np.random.default_rng(1).normal(size=60).cumsum()
    np.testing.assert_allclose(_classical.acf_r(x, 12), acf(x, nlags=12, fft=False)[1:])


def test_undifference_inverts_differencing():
    rng = np.random.default_rng(2)
    full = rng.normal(size=80).cumsum() + 10 * np.sin(np.arange(80) * 2 * np.pi / 12)
    x, future = full[:60], full[60:]
    for d, D in ((0, 1), (1, 0), (1, 1), (2, 0)):
        stages_full = _autoselect._difference(full, d, D, 12)
        stages = _autoselect._difference(x, d, D, 12)
        w_future = stages_full[-1][-20:]
        np.testing.assert_allclose(_autoselect.undifference(stages, w_future, d, D, 12), future)


def test_smoothing_matches_statsmodels_on_nonseasonal_series():
    from statsmodels.tsa.holtwinters import Holt, SimpleExpSmoothing

    x = 100 + np.random.default_rng(3).normal(size=40).cumsum()
    y = pd.Series(x)
    ses = SimpleExpSmoothing(x, initialization_method="estimated").fit().forecast(6)
    holt = Holt(x, initialization_method="estimated").fit().forecast(6)
    damped = Holt(x, damped_trend=True, initialization_method="estimated").fit().forecast(6)
    np.testing.assert_allclose(B.SES(horizon=6, n_jobs=1).fit(y).predict(), ses, rtol=1e-6)
    np.testing.assert_allclose(B.Holt(horizon=6, n_jobs=1).fit(y).predict(), holt, rtol=1e-6)
    np.testing.assert_allclose(B.Damped(horizon=6, n_jobs=1).fit(y).predict(), damped, rtol=1e-6)
    comb = B.Comb(horizon=6, n_jobs=1).fit(y).predict()
    np.testing.assert_allclose(comb, (ses + holt + damped) / 3, rtol=1e-6)


def test_theta_is_mean_of_trend_line_and_ses_on_theta_line():
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    x = 50 + 0.5 * np.arange(30) + np.random.default_rng(4).normal(size=30)
    t = np.arange(1, 31)
    b, a = np.polyfit(t, x, 1)
    ses = SimpleExpSmoothing(2 * x - (a + b * t), initialization_method="estimated").fit()
    expected = 0.5 * ses.forecast(5) + 0.5 * (a + b * np.arange(31, 36))
    got = B.Theta(horizon=5, n_jobs=1).fit(pd.Series(x)).predict()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_seasonal_methods_reseasonalise_like_naive2(monthly_series):
    # A strongly seasonal series: Theta's forecast / Naive2's forecast has no seasonal pattern
    # left only if both use the same indices; check the indices are the Naive2 ones.
    y = monthly_series * (1 + 0.3 * np.sin(2 * np.pi * np.arange(72) / 12))
    theta = B.Theta(season_length=12, horizon=12, n_jobs=1).fit(y)
    naive2 = B.Naive2(season_length=12, horizon=12).fit(y)
    assert theta.params_[0]["seasonal_indices"] == naive2.params_[0]["seasonal_indices"]
    assert np.ptp(theta.params_[0]["seasonal_indices"]) > 0.2


def test_without_horizon_fit_stores_two_seasons():
    f = B.SeasonalNaive(season_length=12).fit(pd.Series(np.arange(30.0)))
    assert len(f.predict()) == 24 and len(f.predict(30)) == 30


def test_drift_mean_naive_by_hand():
    y = pd.Series([1.0, 4.0, 2.0, 7.0])
    np.testing.assert_allclose(B.Drift(horizon=2).fit(y).predict(), [9.0, 11.0])
    np.testing.assert_allclose(B.Mean(horizon=2).fit(y).predict(), [3.5, 3.5])
    np.testing.assert_allclose(B.Naive(horizon=2).fit(y).predict(), [7.0, 7.0])
    np.testing.assert_allclose(
        B.SeasonalNaive(season_length=2, horizon=3).fit(y).predict(), [2.0, 7.0, 2.0]
    )


# --------------------------------------------------------------------------- ETS / ARIMA


@pytest.fixture
def seasonal_panel():
    return fk.datasets.make_trend_seasonal(n_series=2, length=48, season_length=12, seed=5)


def test_ets_selects_by_aicc(seasonal_panel):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    one = seasonal_panel[seasonal_panel.unique_id == seasonal_panel.unique_id.iloc[0]]
    f = B.ETS(season_length=12, horizon=6, n_jobs=1).fit(one)
    params = f.params_[0]
    assert params["model"].startswith("ETS(")
    x = f.panel_.series(0)
    simple = ETSModel(x, error="add").fit(disp=False)
    assert params["aicc"] <= simple.aicc + 1e-8
    assert np.all(np.isfinite(f.predict_array()))


def test_arima_search_gives_finite_forecasts(seasonal_panel):
    f = B.ARIMA(season_length=12, horizon=6, n_jobs=1).fit(seasonal_panel)
    assert f.predict_array().shape == (2, 6)
    assert np.all(np.isfinite(f.predict_array()))
    p = f.params_[0]
    assert len(p["order"]) == 3 and p["seasonal_order"][3] == 12
    assert p["n_models"] <= 12


@pytest.mark.parametrize("cls", [B.ETS, B.ARIMA])
def test_short_series_falls_back_to_naive2_with_one_warning(cls):
    df = pd.DataFrame({
        "unique_id": ["ok"] * 20 + ["tiny"] * 3,
        "ds": list(range(20)) + [0, 1, 2],
        "y": list(10 + np.sin(np.arange(20))) + [5.0, 6.0, 7.0],
    })
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = cls(horizon=4, n_jobs=1).fit(df)
    ours = [w for w in caught if issubclass(w.category, ForecastkitWarning)]
    assert len(ours) == 1 and "'tiny'" in str(ours[0].message)
    assert "'ok'" not in str(ours[0].message)
    assert list(f.fallback_ids_) == ["tiny"]
    np.testing.assert_allclose(f.predict_array()[1], [7.0] * 4)


def test_statsmodels_failure_falls_back(monkeypatch, panel_df):
    bad = panel_df["unique_id"].iloc[0]
    first = panel_df.loc[panel_df.unique_id == bad, "y"].to_numpy()
    real = _classical.theta_line

    def flaky(x, h):
        if len(x) == len(first):
            raise np.linalg.LinAlgError("singular")
        return real(x, h)

    # The kernel looks it up per call; the other series of the batch must still be fitted
    monkeypatch.setattr(_classical, "theta_line", flaky)
    with pytest.warns(ForecastkitWarning, match=f"'{bad}'.*LinAlgError"):
        f = B.Theta(season_length=12, horizon=5, n_jobs=1).fit(panel_df)
    assert bad in list(f.fallback_ids_)
    n2 = B.Naive2(season_length=12, horizon=5).fit(panel_df).predict_array()
    i = list(f.panel_.ids).index(bad)
    np.testing.assert_allclose(f.predict_array()[i], n2[i])


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name", sorted(B.BASELINES))
def test_params_clone_and_not_fitted(name):
    cls = B.BASELINES[name]
    f = cls(season_length=12, horizon=3)
    assert f.get_params()["season_length"] == 12
    f.set_params(horizon=7)
    g = clone(f)
    assert g.get_params() == f.get_params() and g is not f
    with pytest.raises(NotFittedError):
        f.predict()
    with pytest.raises(InvalidParameterError):
        cls(season_length=0).fit(pd.Series([1.0, 2.0, 3.0]))


def test_all_names_exported():
    assert set(B.__all__) >= {c.__name__ for c in B.BASELINES.values()} | {"BASELINES"}
    assert fk.baselines.Theta is B.Theta


@pytest.mark.parametrize("cls", [B.Naive2, B.Theta])
def test_series_in_series_out(cls, monthly_series):
    kw = {"n_jobs": 1} if cls is B.Theta else {}
    pred = cls(season_length=12, horizon=6, **kw).fit(monthly_series).predict()
    assert isinstance(pred, pd.Series) and pred.name == "sales" and len(pred) == 6
    assert pred.index[0] == pd.Timestamp("2016-01-01") and pred.index.freqstr == "MS"


def test_long_horizon_refits_and_state_round_trip(panel_df):
    f = B.Theta(season_length=12, horizon=4, n_jobs=1).fit(panel_df)
    short, long = f.predict_array(), f.predict_array(horizon=10)
    assert long.shape == (5, 10)
    np.testing.assert_allclose(long[:, :4], short)
    state = f.get_fitted_state()
    assert set(state) == {"forecasts", "scales", "fallback", "params"}
    json.loads(state["params"])
    g = B.Theta(season_length=12, horizon=4).set_fitted_state(state, f.panel_)
    pd.testing.assert_frame_equal(g.predict(), f.predict())


@pytest.mark.slow  # starting joblib's worker processes takes 5-30 s on a loaded 2-core box
def test_parallel_equals_sequential(panel_df):
    one = B.Damped(season_length=12, horizon=5, n_jobs=1).fit(panel_df).predict_array()
    two = B.Damped(season_length=12, horizon=5, n_jobs=2).fit(panel_df).predict_array()
    np.testing.assert_allclose(one, two)


# --------------------------------------------------------------------------- time zones


def test_aware_input_forecasts_in_its_zone_and_survives_save_load(tmp_path):
    # Hourly data ending just before Berlin's spring change: the forecast's stamps are those of
    # pandas' aware date range, after the last observation, in the input's zone.
    idx = pd.date_range("2021-03-20", periods=7 * 24 + 1, freq="h", tz="Europe/Berlin")
    y = pd.Series(10 + np.sin(np.arange(len(idx)) * 2 * np.pi / 24), index=idx, name="load")
    expected = pd.date_range(idx[-1], periods=31, freq="h")[1:]
    f = B.Naive2(season_length=24, horizon=30).fit(y)
    pred = f.predict()
    assert pred.index.equals(expected) and pred.index[0] > idx[-1]
    assert str(pred.index.tz) == "Europe/Berlin"
    loaded = fk.load(f.save(tmp_path / "naive2"))
    assert loaded.panel_.tz == "Europe/Berlin"
    pd.testing.assert_series_equal(loaded.predict(), pred)

    long = pd.DataFrame({"unique_id": "a", "ds": idx, "y": y.to_numpy()})
    long = pd.concat([long, long.iloc[:-5].assign(unique_id="b")], ignore_index=True)
    out = B.Theta(season_length=24, horizon=30, n_jobs=1).fit(long).predict()
    assert str(out["ds"].dt.tz) == "Europe/Berlin"
    for sid, part in out.groupby("unique_id"):
        last = long.loc[long.unique_id == sid, "ds"].iloc[-1]
        assert list(part["ds"]) == list(pd.date_range(last, periods=31, freq="h")[1:])
