"""Combination: the combined forecast equals the mean/median of separately fitted members."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecastkit.exceptions import ForecastkitError
from forecastkit.forecasters.baselines import Drift, Naive, SeasonalNaive
from forecastkit.forecasters.combination import Combination, combine_forecasts
from forecastkit.forecasters.validated import ValidatedCombination


def _members():
    return [
        ("naive", Naive(season_length=12, horizon=6)),
        ("snaive", SeasonalNaive(season_length=12, horizon=6)),
        ("drift", Drift(season_length=12, horizon=6)),
    ]


@pytest.mark.parametrize("combine,reduce", [("mean", np.mean), ("median", np.median)])
def test_combination_equals_reduction_of_separate_forecasts(panel_df, combine, reduce):
    separate = np.stack(
        [clone(est).fit(panel_df).predict()["y_pred"].to_numpy() for _, est in _members()]
    )
    combined = Combination(_members(), combine=combine).fit(panel_df).predict()
    np.testing.assert_allclose(combined["y_pred"].to_numpy(), reduce(separate, axis=0))
    assert list(combined.columns) == ["unique_id", "ds", "y_pred"]


def test_combine_forecasts_by_hand():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[3.0, 2.0], [5.0, 10.0]])
    c = np.array([[2.0, 9.0], [0.0, 4.0]])
    np.testing.assert_array_equal(combine_forecasts([a, b]), [[2.0, 2.0], [4.0, 7.0]])
    np.testing.assert_array_equal(combine_forecasts([a, b, c], "median"),
                                  [[2.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(combine_forecasts([a, b], weights=[3.0, 1.0]),
                               [[1.5, 2.0], [3.5, 5.5]])
    np.testing.assert_array_equal(combine_forecasts([a]), a)  # one member: itself


def test_weighted_mean(panel_df):
    weights = [3.0, 1.0, 0.0]
    separate = np.stack(
        [clone(est).fit(panel_df).predict()["y_pred"].to_numpy() for _, est in _members()]
    )
    combined = Combination(_members(), weights=weights).fit(panel_df).predict()
    expected = (3 * separate[0] + separate[1]) / 4
    np.testing.assert_allclose(combined["y_pred"].to_numpy(), expected)


def test_series_in_series_out_and_new_history(monthly_series):
    comb = Combination(_members()[:2]).fit(monthly_series)
    pred = comb.predict()
    assert isinstance(pred, pd.Series)
    assert pred.index[0] == monthly_series.index[-1] + monthly_series.index.freq
    # Local members: forecasting a new history refits them on it.
    shifted = monthly_series + 100.0
    new = comb.predict(y=shifted)
    np.testing.assert_allclose(new.to_numpy(), pred.to_numpy() + 100.0)


def test_clone_keeps_parameters_and_refuses_bad_ones(panel_df):
    comb = Combination(_members(), combine="median")
    assert clone(comb).get_params()["combine"] == "median"
    with pytest.raises(ForecastkitError, match="unique"):
        Combination([("a", Naive(horizon=3)), ("a", Naive(horizon=3))]).fit(panel_df)
    with pytest.raises(ForecastkitError, match="weights"):
        Combination(_members(), combine="median", weights=[1, 1, 1]).fit(panel_df)


@pytest.mark.parametrize("cls", [Combination, ValidatedCombination])
def test_members_parameters_are_reachable_the_scikit_learn_way(cls, panel_df):
    comb = cls(_members())
    deep = comb.get_params(deep=True)
    # scikit-learn's composite convention, as VotingRegressor lists it: the top-level
    # parameters, each member by name, and <name>__<parameter> of every member.
    expected = set(comb.get_params(deep=False))
    for name, est in _members():
        expected |= {name} | {f"{name}__{k}" for k in est.get_params(deep=True)}
    assert set(deep) == expected
    assert deep["snaive__season_length"] == 12
    comb.set_params(snaive__season_length=4, drift=Naive(season_length=12, horizon=6))
    members = dict(comb.estimators)
    assert members["snaive"].season_length == 4
    assert type(members["drift"]) is Naive
    # The changed members are what a clone fits (as a grid search would).
    direct = Combination([("naive", Naive(season_length=12, horizon=6)),
                          ("snaive", SeasonalNaive(season_length=4, horizon=6)),
                          ("drift", Naive(season_length=12, horizon=6))])
    if isinstance(comb, Combination):
        np.testing.assert_allclose(clone(comb).fit(panel_df).predict_array(),
                                   direct.fit(panel_df).predict_array())
    with pytest.raises(ValueError, match="Invalid parameter"):
        comb.set_params(nosuch__season_length=3)


def test_member_shorter_than_the_horizon_is_refused_before_training(panel_df):
    import forecastkit as fk

    # A direct network forecasts only the steps it was trained for; the combination must say
    # so at once (epochs=1000 would take minutes if it trained first).
    net = fk.RNNForecaster(horizon=4, season_length=12, epochs=1000, random_state=0)
    comb = Combination([("net", net), ("naive", Naive(horizon=6))], horizon=6)
    with pytest.raises(ForecastkitError, match=r"horizon=6\) is longer than member 'net'"):
        comb.fit(panel_df)
    assert net.max_horizon == 4
    assert fk.RNNForecaster(horizon=4, strategy="recursive").max_horizon is None
    assert Naive(horizon=2).max_horizon is None


def test_member_names_that_would_be_shadowed_or_unreachable_are_refused(panel_df):
    for name in ["horizon", "combine", "a__b"]:
        with pytest.raises(ForecastkitError, match="names must be strings without '__'"):
            Combination([(name, Naive(horizon=6)), ("naive", Naive(horizon=6))]).fit(panel_df)
    with pytest.raises(ForecastkitError, match="forecaster instance"):
        Combination([("naive", Naive)]).fit(panel_df)


def test_a_combination_inside_another_reports_its_members_limit(panel_df):
    import forecastkit as fk

    net = fk.RNNForecaster(horizon=4, season_length=12, epochs=1000, random_state=0)
    inner = Combination([("net", net), ("naive", Naive(horizon=4))])
    assert inner.max_horizon == 4
    assert Combination(_members()).max_horizon is None
    with pytest.raises(ForecastkitError, match="longer than member 'inner'"):
        Combination([("inner", inner), ("naive", Naive(horizon=6))], horizon=6).fit(panel_df)


# --------------------------------------------------------------------------- quantiles


def test_combination_averages_the_members_quantile_functions():
    import forecastkit as fk

    df = fk.datasets.make_trend_seasonal(n_series=5, length=(40, 60), season_length=12, seed=3,
                                         freq="MS")
    B = fk.baselines
    levels = [0.05, 0.5, 0.95]
    c = Combination([("theta", B.Theta(season_length=12, horizon=6)),
                     ("naive", B.Naive(horizon=6))], weights=[3, 1]).fit(df)
    members = [est.predict_quantiles_array(levels) for _, est in c.estimators_]
    np.testing.assert_allclose(c.predict_quantiles_array(levels),
                               0.75 * members[0] + 0.25 * members[1], rtol=1e-12)
    med = Combination([("a", B.Naive(horizon=6)), ("b", B.Drift(horizon=6)),
                       ("c", B.Mean(horizon=6))], combine="median").fit(df)
    stacked = [est.predict_quantiles_array(levels) for _, est in med.estimators_]
    np.testing.assert_allclose(med.predict_quantiles_array(levels), np.median(stacked, axis=0))
    assert np.all(np.diff(med.predict_quantiles_array(levels), axis=2) >= 0)


def test_combination_with_a_point_only_member_names_it():
    import forecastkit as fk
    from forecastkit.exceptions import NotProbabilisticError

    df = fk.datasets.make_trend_seasonal(n_series=3, length=40, season_length=12, seed=3)
    point = fk.RNNForecaster(horizon=4, units=(4,), lookback=8, epochs=1, n_models=1,
                             random_state=0)
    c = Combination([("net", point), ("naive", fk.baselines.Naive(horizon=4))]).fit(df)
    assert not c.supports_quantiles
    with pytest.raises(NotProbabilisticError, match="ConformalIntervals"):
        c.predict(quantiles=[0.1, 0.9])
