"""RNNForecaster with covariates: future-known, past-only, static, calendar and holidays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import forecastkit as fk
from forecastkit.exceptions import CovariateError

H = 7


def _promo_panel(n_series=16, length=120, seed=0):
    """Daily series lifted by 80% on promotion days (a known future flag)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        ds = pd.date_range("2021-01-01", periods=length + H, freq="D")
        promo = (rng.random(len(ds)) < 0.2).astype(float)
        base = 50 + 10 * np.sin(2 * np.pi * np.arange(len(ds)) / 7) + rng.normal(0, 1, len(ds))
        rows.append(pd.DataFrame({"unique_id": f"s{i}", "ds": ds, "y": base * (1 + 0.8 * promo),
                                  "promo": promo}))
    full = pd.concat(rows, ignore_index=True)
    train = full.groupby("unique_id").head(length)
    test = full.groupby("unique_id").tail(H)
    return train[["unique_id", "ds", "y"]], test, full[["unique_id", "ds", "promo"]]


def _net(**kw):
    params = dict(horizon=H, season_length=7, n_models=1, epochs=6, random_state=0)
    return fk.RNNForecaster(**{**params, **kw})


@pytest.fixture(scope="module")
def promo():
    train, test, X = _promo_panel()
    with_x = _net().fit(train, X=X)
    return train, test, X, with_x


@pytest.fixture(scope="module")
def without_x(promo):
    """The same network fitted on the targets alone (no test changes it)."""
    return _net().fit(promo[0])


def test_a_known_future_promotion_makes_forecasts_far_better(promo, without_x):
    train, test, X, with_x = promo
    without = without_x
    err_with = np.abs(with_x.predict(X=X)["y_pred"].to_numpy() - test["y"].to_numpy()).mean()
    err_without = np.abs(without.predict()["y_pred"].to_numpy() - test["y"].to_numpy()).mean()
    assert err_with < 0.5 * err_without


# The recursive loop learns the promotion in 3 epochs (error ratio 0.21 at 3 and at 6); the
# decoder needs 6 (0.45 at 3).
@pytest.mark.parametrize("strategy,epochs", [("seq2seq", 6), ("recursive", 3)])
def test_the_decoder_and_the_recursive_loop_read_the_promotion_of_each_step(strategy, epochs):
    train, test, X = _promo_panel()
    with_x = _net(strategy=strategy, epochs=epochs).fit(train, X=X)
    without = _net(strategy=strategy, epochs=epochs).fit(train)
    err_with = np.abs(with_x.predict(X=X)["y_pred"].to_numpy() - test["y"].to_numpy()).mean()
    err_without = np.abs(without.predict()["y_pred"].to_numpy() - test["y"].to_numpy()).mean()
    assert err_with < 0.5 * err_without


def test_predict_needs_the_horizon_of_future_known_covariates(promo):
    train, _, X, with_x = promo
    with pytest.raises(CovariateError, match="pass X covering the horizon"):
        with_x.predict()
    short = X[X.ds < X.ds.max()]
    with pytest.raises(CovariateError, match=r"'promo' of series 's0' is missing at "
                                             r"2021-05-07.*horizon"):
        with_x.predict(X=short)
    # A shorter forecast still reads the covariates of every step the network was trained for.
    with pytest.raises(CovariateError, match="missing"):
        with_x.predict(horizon=3, X=short)
    three = with_x.predict(horizon=3, X=X)
    full = with_x.predict(X=X)
    np.testing.assert_allclose(three["y_pred"].to_numpy(),
                               full.groupby("unique_id").head(3)["y_pred"].to_numpy())
    with pytest.raises(CovariateError, match="no column 'promo'"):
        with_x.predict(X=X.rename(columns={"promo": "discount"}))


def test_new_histories_take_their_own_covariates(promo):
    train, _, X, with_x = promo
    sub = train[train.unique_id.isin(["s3", "s5"])]
    got = with_x.predict(y=sub, X=X)
    ref = with_x.predict(X=X)
    ref = ref[ref.unique_id.isin(["s3", "s5"])]
    np.testing.assert_allclose(got["y_pred"].to_numpy(), ref["y_pred"].to_numpy(), rtol=1e-5)


def test_saved_and_served_forecasts_equal_predict(promo, tmp_path):
    train, _, X, with_x = promo
    expected = with_x.predict(X=X)["y_pred"].to_numpy()
    with_x.save(tmp_path / "m")
    loaded = fk.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X=X)["y_pred"].to_numpy(), expected)
    assert loaded.covariate_spec_ == with_x.covariate_spec_

    path = fk.export.export_saved_model(with_x, tmp_path / "served")
    served = tf.saved_model.load(str(path))
    inputs = with_x.serving_request(X=X)
    assert set(inputs) == {"history", "mask", "position", "past_cov", "future_cov"}
    out = served.signatures["serve_masked"](**{k: tf.constant(v) for k, v in inputs.items()})
    np.testing.assert_allclose(out["forecast"].numpy().ravel(), expected, rtol=1e-5)
    import json

    meta = json.loads((path / "assets" / "forecastkit.json").read_text())
    cov = meta["covariates"]
    assert cov["inputs"]["future_cov"]["columns"] == ["promo"]
    promo_rows = X.merge(train[["unique_id", "ds"]])["promo"]
    assert cov["inputs"]["past_cov"]["mean"][0] == pytest.approx(promo_rows.mean(), rel=1e-5)
    assert meta["signatures"]["serve"]["inputs"]["future_cov"]["shape"] == [None, H, 1]


def test_past_only_statics_calendar_and_holidays():
    train, test, X = _promo_panel(n_series=6, length=80)
    ids = sorted(train.unique_id.unique())
    static = pd.DataFrame({"unique_id": ids, "region": ["north", "south"] * 3,
                           "size": np.arange(6.0)})
    m = _net(epochs=2, hist_exog=["promo"], calendar=["dayofweek", "month"],
             holidays="US").fit(train, X=X, static=static)
    spec = m.covariate_spec_
    assert spec.hist == ("promo",) and spec.futr == ()
    assert spec.future_names[-1] == "holiday" and len(spec.future_names) == 7 + 12 + 1
    # Past-only covariates and calendars need no X to forecast the training series.
    out = m.predict()
    assert np.isfinite(out["y_pred"]).all()
    with pytest.raises(CovariateError, match="'region' of series 's1' is 'east'"):
        m.predict(static=static.assign(region=["north", "east"] * 3))
    with pytest.raises(CovariateError, match="pass static="):
        m.predict(y=train, X=X)


def test_missing_targets_with_covariates_leave_no_nan():
    train, _, X = _promo_panel(n_series=6, length=80)
    holes = train.copy()
    holes.loc[holes.sample(frac=0.1, random_state=0).index, "y"] = np.nan
    m = _net(epochs=2).fit(holes, X=X)
    assert np.isfinite(m.predict(X=X)["y_pred"]).all()


def test_the_recursive_loop_feeds_back_each_steps_covariates_as_a_manual_loop_does(tmp_path):
    """Two steps at once equal one step, the forecast appended to the history, then one more
    step from the longer history: the loop's past window moves on with the future-known
    values exactly as the data path builds it from X. Beyond the trained horizon too, and in
    the SavedModel."""
    train, _, X = _promo_panel(n_series=6, length=90)
    train = train.groupby("unique_id").head(90 - H)  # X now covers 2 * H steps ahead
    static = pd.DataFrame({"unique_id": sorted(train.unique_id.unique()),
                           "size": np.arange(6.0)})
    net = _net(strategy="recursive", epochs=2, calendar=["dayofweek"]).fit(train, X=X,
                                                                           static=static)
    two = net.predict(horizon=2, X=X, static=static)
    first = two.groupby("unique_id").head(1)
    longer = pd.concat([train, first.rename(columns={"y_pred": "y"})[["unique_id", "ds", "y"]]]
                       ).sort_values(["unique_id", "ds"])
    second = net.predict(y=longer, horizon=1, X=X, static=static)
    np.testing.assert_allclose(second["y_pred"].to_numpy(),
                               two.groupby("unique_id").tail(1)["y_pred"].to_numpy(), rtol=1e-5)
    far = net.predict(horizon=H + 1, X=X, static=static)
    np.testing.assert_allclose(far.groupby("unique_id").head(H)["y_pred"].to_numpy(),
                               net.predict(X=X, static=static)["y_pred"].to_numpy(), rtol=1e-5)
    # Past the trained horizon: step H + 1 from the history extended by the first H steps.
    first_h = far.groupby("unique_id").head(H).rename(columns={"y_pred": "y"})
    longer = pd.concat([train, first_h[["unique_id", "ds", "y"]]]).sort_values(["unique_id",
                                                                                "ds"])
    next_step = net.predict(y=longer, horizon=1, X=X, static=static)
    np.testing.assert_allclose(next_step["y_pred"].to_numpy(),
                               far.groupby("unique_id").tail(1)["y_pred"].to_numpy(), rtol=1e-5)
    path = fk.export.export_saved_model(net, tmp_path / "served")
    served = tf.saved_model.load(str(path))
    inputs = net.serving_request(X=X, static=static)
    out = served.signatures["serve_masked"](**{k: tf.constant(v) for k, v in inputs.items()})
    np.testing.assert_allclose(out["forecast"].numpy().ravel(),
                               net.predict(X=X, static=static)["y_pred"].to_numpy(), rtol=1e-5)


def test_recursive_sample_paths_follow_the_promotion():
    train, _, X = _promo_panel(n_series=8, length=100)
    net = _net(strategy="recursive", distribution="normal", epochs=4).fit(train, X=X)
    paths = net.sample_paths(n_paths=40, X=X, random_state=0, as_frame=True)
    assert len(paths) == 8 * 40 * H and np.isfinite(paths["y"]).all()
    mean = paths.groupby(["unique_id", "ds"])["y"].mean().reset_index()
    on = mean.merge(X, on=["unique_id", "ds"])
    assert on.loc[on.promo == 1, "y"].mean() > 1.3 * on.loc[on.promo == 0, "y"].mean()


def test_refusals(without_x):
    train, _, X = _promo_panel(n_series=4, length=60)
    with pytest.raises(CovariateError, match=r"recursive strategy reads future-known covariates "
                                             r"only: \['promo'\] \(hist_exog\)"):
        _net(epochs=1, strategy="recursive", hist_exog=["promo"]).fit(train, X=X)
    with pytest.raises(CovariateError, match="Theta cannot use covariates"):
        fk.baselines.Theta(season_length=7).fit(train, X=X)
    with pytest.raises(CovariateError, match="fitted without covariates"):
        without_x.predict(X=X)
    with pytest.raises(CovariateError, match="neither futr_exog nor hist_exog"):
        _net(epochs=1, futr_exog=["promo"]).fit(train, X=X.assign(extra=1.0))
