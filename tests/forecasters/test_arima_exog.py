"""ARIMA with future-known covariates: regression with ARIMA errors (SARIMAX ``exog``).

Reference: statsmodels' SARIMAX fitted directly on the series and its regressor with the order
our search chose; the regression must also pay off on a series driven by a known regressor, and
its intervals, paths, saved form and input checks must hold.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.exceptions import CovariateError, ForecastkitWarning
from forecastkit.forecasters import baselines as B

H = 6


def _ar1(rng, n, phi=0.6, scale=0.5) -> np.ndarray:
    e = np.zeros(n)
    shocks = rng.normal(scale=scale, size=n)
    for t in range(1, n):
        e[t] = phi * e[t - 1] + shocks[t]
    return e


def _f32(a: np.ndarray) -> np.ndarray:
    # Covariates are held as float32: give values that are exact there, so the reference
    # sees the very regressor ARIMA does.
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def _frames(ys: dict, xs: dict, n: int, freq="D"):
    """Long target frames of the first ``n`` steps and the covariate frame of all steps."""
    y_rows, x_rows = [], []
    for sid, y in ys.items():
        ds = pd.date_range("2001-01-01", periods=len(xs[sid]), freq=freq)
        y_rows.append(pd.DataFrame({"unique_id": sid, "ds": ds[:len(y[:n])], "y": y[:n]}))
        x_rows.append(pd.DataFrame({"unique_id": sid, "ds": ds, "x": xs[sid]}))
    return pd.concat(y_rows, ignore_index=True), pd.concat(x_rows, ignore_index=True)


def _driven(seed: int, n: int = 70, ids=("a", "b")):
    """Series y = 3 x + AR(1) noise (+ level) with x a known regressor, H steps past ``n``."""
    rng = np.random.default_rng(seed)
    xs = {sid: _f32(rng.normal(size=n + H)) for sid in ids}
    ys = {sid: 5 + 3 * xs[sid] + _ar1(rng, n + H) for sid in ids}
    return ys, xs


@pytest.fixture(scope="module")
def driven_fit():
    ys, xs = _driven(seed=3)
    y, X = _frames(ys, xs, 70)
    return B.ARIMA(horizon=H, n_jobs=1).fit(y, X=X[X.ds < y.ds.max() + pd.Timedelta(days=1)]), \
        ys, X


# --------------------------------------------------------------------------- reference


@pytest.mark.parametrize("integrated", [False, True])
def test_forecast_matches_sarimax_fitted_directly(integrated):
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    rng = np.random.default_rng(11)
    n = 90
    x = _f32(rng.normal(size=n + H))
    noise = np.cumsum(rng.normal(size=n + H)) if integrated else _ar1(rng, n + H)
    y = 2 + 3 * x + noise
    ys, X = _frames({"s": y}, {"s": x}, n)
    f = B.ARIMA(horizon=H, n_jobs=1).fit(ys, X=X.iloc[:n])
    p = f.params_[0]
    assert "fallback" not in p and p["xreg"]["names"] == ["x"]
    ar, d, ma = p["order"]
    assert d == int(integrated)  # differencing chosen on the regression's residuals
    # statsmodels differences y and x itself (order d) and keeps the constant as a drift
    ref = SARIMAX(y[:n], exog=x[:n], order=(ar, d, ma), trend=p["interval"]["trend"],
                  concentrate_scale=True).fit(disp=False, maxiter=50)
    np.testing.assert_allclose(f.predict_array(X=X)[0], ref.forecast(H, exog=x[n:]),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(p["xreg"]["coef"][0], ref.params[1], rtol=1e-5)
    # and the intervals are SARIMAX's
    q = f.predict_quantiles_array([0.025, 0.975], X=X)[0]
    ci = ref.get_forecast(H, exog=x[n:]).conf_int(alpha=0.05)
    np.testing.assert_allclose(q, ci, rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------------------- accuracy


def test_known_regressor_beats_arima_without_it(driven_fit):
    f, ys, X = driven_fit
    plain = B.ARIMA(horizon=H, n_jobs=1).fit(_history(ys))
    actual = np.stack([ys[sid][-H:] for sid in f.panel_.ids])
    with_x = np.mean(np.abs(f.predict_array(X=X) - actual))
    without = np.mean(np.abs(plain.predict_array() - actual))
    assert with_x / without < 0.5, (with_x, without)
    for p in f.params_:
        assert abs(p["xreg"]["coef"][0] - 3) < 0.3


def _history(ys: dict, n: int = 70) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": sid, "y": y[:n],
                                    "ds": pd.date_range("2001-01-01", periods=n, freq="D")})
                      for sid, y in ys.items()], ignore_index=True)


# --------------------------------------------------------------------------- probabilistic


def test_quantiles_intervals_and_paths_with_x(driven_fit):
    f, _, X = driven_fit
    q = f.predict_quantiles_array([0.05, 0.25, 0.5, 0.75, 0.95], X=X)
    assert q.shape == (2, H, 5) and np.isfinite(q).all()
    assert (np.diff(q, axis=2) > 0).all()
    point = f.predict_array(X=X)
    np.testing.assert_allclose(q[:, :, 2], point, rtol=1e-12)  # Gaussian: median = mean
    iv = f.predict_interval(coverage=(0.8, 0.95), X=X)
    assert np.isfinite(iv.drop(columns=["unique_id", "ds"]).to_numpy()).all()
    assert (iv["lo-95"] < iv["lo-80"]).all() and (iv["lo-80"] < iv["y_pred"]).all()
    assert (iv["y_pred"] < iv["hi-80"]).all() and (iv["hi-80"] < iv["hi-95"]).all()
    # Paths carry the regression on the horizon's regressors: centred on the forecast, with
    # its spread.
    paths = f.sample_paths(4000, X=X, random_state=0)
    assert paths.shape == (2, 4000, H) and np.isfinite(paths).all()
    sd = (q[:, :, 4] - q[:, :, 0]) / (2 * 1.6448536)
    assert (np.abs(paths.mean(axis=1) - point) < 0.1 * sd).all()
    np.testing.assert_allclose(paths.std(axis=1), sd, rtol=0.1)


# --------------------------------------------------------------------------- state


def test_save_load_round_trip_with_x(driven_fit, tmp_path):
    f, _, X = driven_fit
    g = fk.load(f.save(tmp_path / "arima"))
    assert g.covariate_spec_ == f.covariate_spec_ and g.get_params() == f.get_params()
    pd.testing.assert_frame_equal(g.predict(X=X), f.predict(X=X), check_exact=True)
    pd.testing.assert_frame_equal(g.predict_interval(X=X), f.predict_interval(X=X),
                                  check_exact=True)
    np.testing.assert_array_equal(g.sample_paths(20, X=X, random_state=1),
                                  f.sample_paths(20, X=X, random_state=1))
    with pytest.raises(CovariateError, match="X covering the horizon"):
        g.predict()


def test_constant_regressor_is_dropped_per_series():
    ys, xs = _driven(seed=5, ids=("a",))
    y, X = _frames(ys, xs, 70)
    X_zero = X.assign(flat=0.0)  # an all-zero column (a holiday flag that never fires)
    f = B.ARIMA(horizon=H, n_jobs=1).fit(y, X=X_zero[X_zero.ds <= y.ds.max()])
    ref = B.ARIMA(horizon=H, n_jobs=1).fit(y, X=X[X.ds <= y.ds.max()])
    xreg = f.params_[0]["xreg"]
    assert xreg["names"] == ["x"] and xreg["dropped_names"] == ["flat"]
    np.testing.assert_allclose(f.predict_array(X=X_zero), ref.predict_array(X=X), rtol=1e-12)


def test_new_histories_and_fallback_series():
    ys, xs = _driven(seed=7, ids=("a", "b"))
    ys["tiny"], xs["tiny"] = ys["a"][:5], xs["a"][:5 + H]
    y, X = _frames(ys, xs, 70)
    with pytest.warns(ForecastkitWarning, match="'tiny'"):
        f = B.ARIMA(horizon=H, n_jobs=1).fit(y, X=X)
    i = list(f.panel_.ids).index("tiny")
    assert f.params_[i]["fallback"] == "naive2"
    fc = f.predict_array(X=X)
    assert np.isfinite(fc).all()
    naive2 = B.Naive2(horizon=H).fit(y[y.unique_id == "tiny"]).predict_array()
    np.testing.assert_allclose(fc[i], naive2[0])
    assert np.isfinite(f.predict_quantiles_array([0.1, 0.9], X=X)).all()
    # New histories: a local model is fitted on them with X.
    new = y[y.unique_id == "b"]
    got = f.predict_array(y=new, X=X)
    np.testing.assert_allclose(got, B.ARIMA(horizon=H, n_jobs=1).fit(new, X=X)
                               .predict_array(X=X))


# --------------------------------------------------------------------------- bad input


def test_bad_covariate_input(driven_fit):
    f, _, X = driven_fit
    y = _history({sid: f.panel_.series(i) for i, sid in enumerate(f.panel_.ids)})
    static = pd.DataFrame({"unique_id": ["a", "b"], "size": [1.0, 2.0]})
    with pytest.raises(CovariateError, match="one model per series; static covariates"):
        B.ARIMA(horizon=H, n_jobs=1).fit(y, X=X, static=static)
    with pytest.raises(CovariateError, match="one model per series; static covariates"):
        B.ARIMA(horizon=H, n_jobs=1).fit(y, static=static)
    with pytest.raises(CovariateError, match="static"):
        f.predict(X=X, static=static)
    last = X[X.unique_id == "b"].ds.max()
    with pytest.raises(CovariateError, match="series 'b'.*horizon"):
        f.predict(X=X[~((X.unique_id == "b") & (X.ds == last))])
    with pytest.raises(CovariateError, match=r"future-known covariates \['x'\]"):
        f.predict()
    # ARIMA reads future-known columns only: one futr_exog leaves out is refused
    with pytest.raises(CovariateError, match="'z' that neither futr_exog"):
        B.ARIMA(horizon=H, n_jobs=1, futr_exog=["x"]).fit(y, X=X.assign(z=1.0))
    with pytest.raises(CovariateError, match="fitted without covariates"):
        B.ARIMA(horizon=H, n_jobs=1).fit(y).predict(X=X)


def test_futr_exog_names_the_columns(driven_fit):
    f, _, X = driven_fit
    y = _history({sid: f.panel_.series(i) for i, sid in enumerate(f.panel_.ids)})
    g = B.ARIMA(horizon=H, n_jobs=1, futr_exog=["x"]).fit(y, X=X)
    np.testing.assert_allclose(g.predict_array(X=X), f.predict_array(X=X), rtol=1e-12)


# --------------------------------------------------------------------------- calendar


def test_day_of_week_calendar_without_x():
    rng = np.random.default_rng(2)
    n = 8 * 7
    ds = pd.date_range("2021-03-01", periods=n + 14, freq="D")
    week = np.array([0.0, 1.0, 2.0, 1.5, 3.0, 6.0, -4.0])
    full = 20 + week[ds.day_of_week] + _ar1(rng, len(ds), scale=0.3)
    y = pd.DataFrame({"unique_id": "s", "ds": ds[:n], "y": full[:n]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForecastkitWarning)  # no fallback
        f = B.ARIMA(horizon=14, n_jobs=1, calendar=("dayofweek",)).fit(y)
    xreg = f.params_[0]["xreg"]
    # seven dummies beside the constant: one is the reference day
    assert len(xreg["names"]) == 6 and len(xreg["dropped_names"]) == 1
    fc = f.predict_array()
    assert fc.shape == (1, 14) and np.isfinite(fc).all()
    assert np.isfinite(f.predict_quantiles_array([0.1, 0.9])).all()
    err = np.mean(np.abs(fc[0] - full[n:]))
    plain = B.ARIMA(horizon=14, n_jobs=1).fit(y).predict_array()[0]
    assert err < 0.5 * np.mean(np.abs(plain - full[n:]))


def test_parameters_and_identity():
    f = B.ARIMA()
    assert f.supports_covariates
    assert {"futr_exog", "calendar", "holidays"} <= set(f.get_params())
    assert "hist_exog" not in f.get_params() and "stat_exog" not in f.get_params()
    from forecastkit.evaluation.identity import describe

    assert describe(B.ARIMA(season_length=12, horizon=18, n_jobs=1)) == \
        "ARIMA(horizon=18, n_jobs=1, season_length=12)"
    with pytest.raises(fk.forecasters.base.InvalidParameterError):
        B.ARIMA(holidays=3).fit(pd.Series(np.arange(20.0)))
