"""Backtests with covariates: each window's fit and forecast get X, as a manual loop does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.exceptions import CovariateError, PersistenceError


def _data(n_series=3, length=90, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        ds = pd.date_range("2022-01-03", periods=length, freq="D")
        x = rng.normal(0, 1, length)
        noise = np.zeros(length)
        for t in range(1, length):
            noise[t] = 0.5 * noise[t - 1] + rng.normal(0, 0.3)
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": 20 + 3 * x + noise,
                                  "x": x}))
    full = pd.concat(rows, ignore_index=True)
    return full[["unique_id", "ds", "y"]], full[["unique_id", "ds", "x"]]


def test_backtest_passes_covariates_like_a_manual_loop():
    y, X = _data()
    model = fk.baselines.ARIMA(futr_exog=["x"], n_jobs=1)
    cv = fk.backtest(model, y, horizon=5, n_windows=2, step=5, X=X, n_jobs=1, progress=False)
    last = y["ds"].max()
    for w, cut in enumerate([last - pd.Timedelta(days=10), last - pd.Timedelta(days=5)]):
        train = y[y["ds"] <= cut]
        ref = fk.baselines.ARIMA(futr_exog=["x"], n_jobs=1).fit(train, X=X).predict(5, X=X)
        got = cv[cv["window"] == w].sort_values(["unique_id", "ds"])
        np.testing.assert_allclose(got["y_pred"].to_numpy(), ref["y_pred"].to_numpy(),
                                   rtol=1e-10)
    # The regressor is worth having: the errors are far smaller than without it.
    plain = fk.backtest(fk.baselines.ARIMA(n_jobs=1), y, horizon=5, n_windows=2, step=5,
                        n_jobs=1, progress=False)
    err = (cv["y"] - cv["y_pred"]).abs().mean()
    assert err < 0.5 * (plain["y"] - plain["y_pred"]).abs().mean()


def test_models_that_cannot_read_covariates_are_named():
    y, X = _data()
    with pytest.raises(CovariateError, match="'naive'.*cannot use covariates"):
        fk.backtest({"naive": fk.baselines.Naive(), "arima": fk.baselines.ARIMA()}, y,
                    horizon=5, X=X, n_jobs=1, progress=False)


def test_a_store_resumes_only_with_the_same_covariates(tmp_path):
    y, X = _data(n_series=2, length=60)
    model = {"arima": fk.baselines.ARIMA(futr_exog=["x"], n_jobs=1)}
    kw = dict(horizon=3, n_windows=1, n_jobs=1, progress=False, out_dir=tmp_path / "run")
    fk.backtest(model, y, X=X, **kw)
    with pytest.raises(PersistenceError):
        fk.backtest(model, y, X=X.assign(x=X["x"] + 1.0), **kw)


def test_compare_gives_covariates_to_the_models_and_fits_naive2_on_the_target_alone(tmp_path):
    y, X = _data(n_series=3, length=80)
    last = y["ds"].max() - pd.Timedelta(days=5)
    train, test = y[y["ds"] <= last], y[y["ds"] > last]
    models = {"arima-x": fk.baselines.ARIMA(futr_exog=["x"], n_jobs=1),
              "theta": fk.baselines.Theta()}
    with pytest.raises(CovariateError, match="'theta'.*cannot use covariates"):
        fk.compare(models, train, test, horizon=5, season_length=1, X=X, n_jobs=1,
                   progress=False)
    models.pop("theta")
    result = fk.compare(models, train, test, horizon=5, season_length=1, X=X, n_jobs=1,
                        progress=False, out_dir=tmp_path / "run")
    fc = result.forecasts.sort_values(["model", "unique_id", "ds"])
    ref = fk.baselines.ARIMA(futr_exog=["x"], n_jobs=1).fit(train, X=X).predict(5, X=X)
    np.testing.assert_allclose(fc.loc[fc["model"] == "arima-x", "y_pred"].to_numpy(),
                               ref["y_pred"].to_numpy(), rtol=1e-10)
    naive2 = fk.baselines.Naive2(season_length=1).fit(train).predict(5)
    np.testing.assert_allclose(fc.loc[fc["model"] == "naive2", "y_pred"].to_numpy(),
                               naive2["y_pred"].to_numpy(), rtol=1e-12)
    assert set(result.metrics.index) == {"arima-x", "naive2"}
    assert result.metrics.loc["naive2", "owa"] == pytest.approx(1.0)
    assert result.metrics.loc["arima-x", "owa"] < 0.8  # the regressor carries most of y
    assert (tmp_path / "run" / "reference").is_dir()
    # Resumed from the stores: the same forecasts.
    again = fk.compare(models, train, test, horizon=5, season_length=1, X=X, n_jobs=1,
                       progress=False, out_dir=tmp_path / "run")
    pd.testing.assert_frame_equal(again.metrics.drop(columns="seconds", errors="ignore"),
                                  result.metrics.drop(columns="seconds", errors="ignore"))
