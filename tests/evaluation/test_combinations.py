"""compare(..., combinations=...) scores the mean of members' forecasts like a model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastkit.evaluation.compare import compare
from forecastkit.forecasters.baselines import Drift, Naive, Naive2


def test_combination_row_is_the_mean_of_its_members(panel_df):
    last = panel_df.groupby("unique_id")["ds"].transform("max")
    train, test = panel_df[panel_df["ds"] <= last - 6], panel_df[panel_df["ds"] > last - 6]
    models = {
        "naive": Naive(season_length=12, horizon=6),
        "drift": Drift(season_length=12, horizon=6),
        "naive2": Naive2(season_length=12, horizon=6),
    }
    res = compare(models, train, test, horizon=6, season_length=12, progress=False, n_jobs=1,
                  combinations={"naive+drift": ["naive", "drift"]})
    f = res.forecasts.pivot_table(index=["unique_id", "ds"], columns="model", values="y_pred")
    np.testing.assert_allclose(f["naive+drift"], (f["naive"] + f["drift"]) / 2)
    # Its sMAPE is computed from those forecasts, independently of compare's own scoring.
    merged = test.merge(
        f["naive+drift"].rename("y_pred").reset_index(), on=["unique_id", "ds"]
    )
    per_series = merged.groupby("unique_id").apply(
        lambda g: np.mean(200 * np.abs(g.y - g.y_pred) / (np.abs(g.y) + np.abs(g.y_pred))),
        include_groups=False,
    )
    assert np.isclose(res.metrics.loc["naive+drift", "smape"], per_series.mean())
    assert isinstance(res.metrics, pd.DataFrame)


def test_registry_builds_the_combination_for_the_cli():
    from forecastkit.evaluation.registry import MODELS, make_model
    from forecastkit.forecasters.combination import Combination

    model = make_model("lstm+theta", horizon=18, season_length=12, seed=3)
    assert isinstance(model, Combination)
    names = [name for name, _ in model.estimators]
    assert names == ["lstm", "theta"]
    lstm, theta = (est for _, est in model.estimators)
    assert (lstm.horizon, lstm.season_length, lstm.random_state) == (18, 12, 3)
    assert (theta.horizon, theta.season_length) == (18, 12)
    assert MODELS["lstm+theta"].kind == "rnn"
    with pytest.raises(TypeError):
        make_model("theta", 18, 12)  # horizon and season_length are keyword-only


def test_combination_row_equals_the_combination_forecaster(panel_df):
    """compare's combination rows and Combination average the same way, to the last digit."""
    from forecastkit.forecasters.baselines import SeasonalNaive
    from forecastkit.forecasters.combination import Combination

    last = panel_df.groupby("unique_id")["ds"].transform("max")
    train, test = panel_df[panel_df["ds"] <= last - 6], panel_df[panel_df["ds"] > last - 6]
    members = {"naive": Naive(horizon=6), "drift": Drift(horizon=6),
               "snaive": SeasonalNaive(season_length=12, horizon=6)}
    models = {**members, "together": Combination(list(members.items()))}
    res = compare(models, train, test, horizon=6, season_length=12, progress=False, n_jobs=1,
                  combinations={"rows": list(members)})
    f = res.forecasts.pivot_table(index=["unique_id", "ds"], columns="model", values="y_pred")
    np.testing.assert_array_equal(f["rows"].to_numpy(), f["together"].to_numpy())
    assert res.metrics.loc["rows", "rank_mase"] == res.metrics.loc["together", "rank_mase"]
