"""Combination: the combined forecast equals the mean/median of separately fitted members."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecastkit.exceptions import ForecastkitError
from forecastkit.forecasters.baselines import Drift, Naive, SeasonalNaive
from forecastkit.forecasters.combination import Combination


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
