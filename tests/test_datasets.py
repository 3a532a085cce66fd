"""Bundled loaders (against the provenance table and statsmodels' copies) and the generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastkit import datasets
from forecastkit.data import to_panel
from forecastkit.exceptions import InvalidInputError

# From datasets/README.md (the competitions' published series counts) and the M3/M4 horizons.
EXPECTED = {
    ("m3", "yearly"): (645, 6, 1),
    ("m3", "quarterly"): (756, 8, 4),
    ("m3", "monthly"): (1428, 18, 12),
    ("m3", "other"): (174, 8, 1),
    ("m4", "weekly"): (359, 13, 1),
    ("m4", "hourly"): (414, 48, 24),
}


@pytest.mark.parametrize(("source", "freq"), list(EXPECTED))
def test_competition_loaders(source, freq):
    load = datasets.load_m3 if source == "m3" else datasets.load_m4
    train, test, info = load(freq)
    n_series, horizon, season = EXPECTED[(source, freq)]
    assert (info.n_series, info.horizon, info.season_length) == (n_series, horizon, season)
    assert list(train.columns) == ["unique_id", "ds", "y"]
    assert train["unique_id"].nunique() == test["unique_id"].nunique() == n_series
    # The official hold-out is exactly `horizon` steps per series, continuing the training part.
    assert (test.groupby("unique_id").size() == horizon).all()
    last = train.groupby("unique_id")["ds"].max()
    first = test.groupby("unique_id")["ds"].min()
    assert (first == last.loc[first.index] + 1).all()
    panel = to_panel(train)  # passes every input check
    assert panel.n_series == n_series
    assert datasets.load_dataset(f"{source}-{freq}")[2] == info


def test_classic_series_match_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    df, info = datasets.load_classic("sunspots")
    ref = sm.datasets.sunspots.load_pandas().data
    np.testing.assert_array_equal(df["y"].to_numpy(), ref["SUNACTIVITY"].to_numpy())
    np.testing.assert_array_equal(df["ds"].to_numpy(), ref["YEAR"].to_numpy().astype(int))
    co2, info = datasets.load_classic("co2")
    ref = sm.datasets.co2.load_pandas().data["co2"]
    monthly = ref.resample("MS").mean().interpolate()
    got = co2.set_index("ds")["y"]
    np.testing.assert_allclose(got.to_numpy(), monthly.loc[got.index].to_numpy(), atol=0.051)
    assert info.season_length == 12 and to_panel(co2).freq.freqstr == "MS"
    elnino, _ = datasets.load_classic("elnino")
    assert to_panel(elnino).n_series == 1 and len(elnino) == 61 * 12


def test_unknown_names():
    for call in (
        lambda: datasets.load_m3("daily"),
        lambda: datasets.load_m4("yearly"),
        lambda: datasets.load_classic("nope"),
        lambda: datasets.load_dataset("m5-daily"),
    ):
        with pytest.raises(InvalidInputError, match="choose from"):
            call()


def test_generator_is_seeded_and_shaped():
    a = datasets.make_trend_seasonal(n_series=6, length=(30, 50), seed=3)
    b = datasets.make_trend_seasonal(n_series=6, length=(30, 50), seed=3)
    c = datasets.make_trend_seasonal(n_series=6, length=(30, 50), seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a["y"].equals(c["y"])
    lengths = a.groupby("unique_id").size()
    assert lengths.between(30, 50).all() and lengths.nunique() > 1
    assert (a.groupby("unique_id")["ds"].max() == 49).all()  # all series end together
    assert (a["y"] > 0).all()
    to_panel(a)


def test_generator_components():
    from statsmodels.tsa.stattools import acf

    # Pure seasonality: periodic with the season length, strong autocorrelation at that lag.
    pure = datasets.make_trend_seasonal(
        n_series=3, length=96, season_length=12, trend="none", noise=0.0, seed=0
    )
    for _, g in pure.groupby("unique_id"):
        y = g["y"].to_numpy()
        np.testing.assert_allclose(y[12:], y[:-12], atol=1e-9)
        assert acf(y, nlags=12)[12] > 0.8
    # A linear trend with no season or noise is a straight line (kept small enough that the
    # floor at 5% of the level, which keeps series positive, is never reached).
    line = datasets.make_trend_seasonal(
        n_series=2, length=40, season_length=1, trend="linear", trend_strength=0.3, noise=0.0
    )
    for _, g in line.groupby("unique_id"):
        assert np.allclose(np.diff(g["y"].to_numpy(), 2), 0, atol=1e-9)
    # Datetime stamps with the requested frequency, and two seasonalities.
    dt = datasets.make_trend_seasonal(
        n_series=2, length=100, season_length=(24, 168), freq="h", seed=0
    )
    assert to_panel(dt).freq.freqstr == "h"
    # Level shifts: with probability 1, each series jumps once.
    shifted = datasets.make_trend_seasonal(
        n_series=4, length=60, season_length=1, trend="none", noise=0.0, level_shift_prob=1.0
    )
    jumps = shifted.groupby("unique_id")["y"].apply(lambda y: int((np.abs(np.diff(y)) > 0).sum()))
    assert (jumps <= 1).all() and jumps.sum() >= 3


def test_generator_bad_arguments():
    with pytest.raises(InvalidInputError, match="n_series"):
        datasets.make_trend_seasonal(n_series=0)
    with pytest.raises(InvalidInputError, match="trend"):
        datasets.make_trend_seasonal(trend="cubic")
    with pytest.raises(InvalidInputError, match="length"):
        datasets.make_trend_seasonal(length=(50, 10))
