"""The bundled Chicago L-train ridership (modeldata's ``Chicago``) and its loader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastkit import datasets
from forecastkit.exceptions import InvalidInputError

N_SERIES = 20
N_DAYS = 5684  # 2001-01-22 .. 2016-08-14: every station and every covariate known
COVARIATES = [
    "temp_min", "temp", "temp_max", "temp_change", "dew", "humidity", "pressure",
    "pressure_change", "wind", "wind_max", "gust", "gust_max", "percip", "percip_max",
    "weather_rain", "weather_snow", "weather_cloud", "weather_storm",
    "Blackhawks_Away", "Blackhawks_Home", "Bulls_Away", "Bulls_Home", "Bears_Away",
    "Bears_Home", "WhiteSox_Away", "WhiteSox_Home", "Cubs_Away", "Cubs_Home",
]


@pytest.fixture(scope="module")
def chicago():
    return datasets.load_chicago()


def test_shapes_and_contiguous_daily_dates(chicago):
    y_train, y_test, X, info = chicago
    y = pd.concat([y_train, y_test])
    assert list(y.columns) == ["unique_id", "ds", "y"]
    assert pd.api.types.is_datetime64_any_dtype(y["ds"])
    assert y["y"].dtype == np.float64 and np.isfinite(y["y"]).all()
    assert y["unique_id"].nunique() == N_SERIES
    assert "Clark_Lake" in set(y["unique_id"])
    expected = pd.date_range("2001-01-22", "2016-08-14", freq="D")
    assert len(expected) == N_DAYS
    for _, ds in y.sort_values("ds").groupby("unique_id")["ds"]:
        assert (pd.DatetimeIndex(ds) == expected).all()
    assert (info.name, info.frequency, info.season_length) == ("chicago", "D", 7)
    assert (info.horizon, info.n_series) == (28, N_SERIES)
    assert "modeldata" in info.source and "MIT" in info.source


@pytest.mark.parametrize("test_days", [1, 28, 90])
def test_split_lengths(test_days):
    y_train, y_test, _, info = datasets.load_chicago(test_days)
    assert info.horizon == test_days
    assert (y_train.groupby("unique_id").size() == N_DAYS - test_days).all()
    assert (y_test.groupby("unique_id").size() == test_days).all()
    assert y_test["ds"].min() == y_train["ds"].max() + pd.Timedelta(days=1)
    assert y_test["ds"].max() == pd.Timestamp("2016-08-14")


def test_covariates_cover_every_station_and_date_once(chicago):
    y_train, y_test, X, _ = chicago
    assert list(X.columns) == ["unique_id", "ds", *COVARIATES]
    keys = pd.concat([y_train, y_test])[["unique_id", "ds"]]
    assert not X.duplicated(["unique_id", "ds"]).any()
    merged = keys.merge(X[["unique_id", "ds"]], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(X) == len(keys) == N_SERIES * N_DAYS
    assert not X[COVARIATES].isna().any().any()
    games = COVARIATES[18:]
    assert all(X[c].dtype == np.int64 and set(X[c].unique()) <= {0, 1} for c in games)
    # The same per-date values for every station.
    assert (X.groupby("ds")[COVARIATES].nunique() == 1).all().all()


def test_values_match_the_source(chicago):
    # Hard-coded from modeldata 1.1.0's Chicago, read from the R lazy-load database of the
    # Debian package r-cran-modeldata 1.1.0-1 (the independent reference, not our CSV):
    # `ridership` (same-day Clark/Lake) on 2001-01-22, -23, -24 and 2016-08-12, -13, -14;
    # `Austin` (a 14-day lag) on the rows of 2001-02-05, -06, -07, i.e. rides of 2001-01-22..24;
    # `temp` and `Bulls_Home` on 2001-01-22, -23.
    y_train, y_test, X, _ = chicago
    y = pd.concat([y_train, y_test]).set_index(["unique_id", "ds"])["y"]
    first = pd.date_range("2001-01-22", periods=3, freq="D")
    last = pd.date_range("2016-08-12", periods=3, freq="D")
    np.testing.assert_array_equal(y.loc["Clark_Lake"].loc[first], [15.732, 15.762, 15.872])
    np.testing.assert_array_equal(y.loc["Clark_Lake"].loc[last], [19.606, 6.763, 6.383])
    np.testing.assert_array_equal(y.loc["Austin"].loc[first], [1.584, 1.581, 1.547])
    x = X[X["unique_id"] == "Austin"].set_index("ds")
    np.testing.assert_array_equal(x.loc[first[:2], "temp"], [19.45, 30.45])
    np.testing.assert_array_equal(x.loc[first[:2], "Bulls_Home"], [0, 1])


def test_bundled_files():
    folder = datasets.data_dir() / "chicago"
    y = pd.read_csv(folder / "ridership.csv.gz")
    sizes = y.groupby("unique_id").size()
    assert len(sizes) == N_SERIES
    # Clark/Lake: 2001-01-08 .. 2016-08-28; the others end 14 days earlier (lagged source).
    assert sizes.pop("Clark_Lake") == 5712 and (sizes == 5698).all()
    covariates = pd.read_csv(folder / "covariates.csv.gz")
    assert list(covariates.columns) == ["ds", *COVARIATES] and len(covariates) == 5698
    assert (covariates["ds"].iloc[0], covariates["ds"].iloc[-1]) == ("2001-01-22", "2016-08-28")


@pytest.mark.parametrize("test_days", [0, -3, 2.5, "28", True, None, 1895])
def test_bad_test_days(test_days):
    with pytest.raises(InvalidInputError, match="test_days"):
        datasets.load_chicago(test_days)


def test_largest_test_days_that_leaves_twice_as_many_training_days():
    y_train, y_test, _, _ = datasets.load_chicago(N_DAYS // 3)
    assert y_train["ds"].nunique() >= 2 * y_test["ds"].nunique()
