"""fill_gaps and fill_missing: gaps made explicit, NaN filled, each checked against a plain
numpy/pandas reference, and the result accepted by to_panel and a forecaster."""

import warnings

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.data import fill_gaps, fill_missing, to_panel
from forecastkit.exceptions import (
    ForecastkitWarning,
    FrequencyError,
    InvalidInputError,
    MissingValuesError,
)


def _frame(ids_lengths, freq=None, start="2021-03-20", tz=None):
    parts = []
    for k, (sid, n) in enumerate(ids_lengths):
        ds = (np.arange(n) if freq is None
              else pd.date_range(start, periods=n, freq=freq, tz=tz))
        parts.append(pd.DataFrame({"unique_id": sid, "ds": ds,
                                   "y": np.sin(np.arange(n) / 3.0) + 10 + k}))
    return pd.concat(parts, ignore_index=True)


def test_integer_gaps_become_nan_rows_at_the_missing_steps():
    df = _frame([("a", 30), ("b", 20)])
    gapped = df.drop(index=[5, 6, 7, 40]).sample(frac=1.0, random_state=0)  # unsorted too
    out = fill_gaps(gapped)
    assert out.attrs["gaps_filled"] == {"a": 3, "b": 1}
    pd.testing.assert_frame_equal(out[["unique_id", "ds"]], df[["unique_id", "ds"]])
    nan = out.y.isna().to_numpy()
    assert np.flatnonzero(nan).tolist() == [5, 6, 7, 40]
    np.testing.assert_array_equal(out.y.to_numpy()[~nan], df.y.to_numpy()[~nan])
    with pytest.raises(fk.exceptions.MissingValuesError, match="fill_missing"):
        to_panel(out)


def test_datetime_gaps_infer_the_frequency_from_the_complete_series():
    df = _frame([("a", 60), ("b", 60)], freq="h", start="2021-03-27",
                tz="Europe/Berlin")  # 28 March: clocks go forward an hour
    gapped = df.drop(index=range(70, 94))  # a whole day of b, across the change
    out = fill_gaps(gapped)
    assert out.attrs["gaps_filled"] == {"b": 24}
    assert out.ds.equals(df.ds) and out.y.isna().sum() == 24
    with pytest.raises(FrequencyError, match="fill_gaps"):
        to_panel(gapped)


def test_monthly_gaps_in_every_series_need_the_frequency():
    df = _frame([("a", 24), ("b", 24)], freq="MS")
    gapped = df.drop(index=[3, 30])
    with pytest.raises(FrequencyError, match="pass freq="):
        fill_gaps(gapped)
    out = fill_gaps(gapped, freq="MS")
    assert out.ds.equals(df.ds) and out.y.isna().sum() == 2


def test_a_stamp_off_the_grid_is_named():
    df = _frame([("a", 30), ("odd", 30)], freq="D")
    df.loc[45, "ds"] += pd.Timedelta(hours=5)
    with pytest.raises(FrequencyError, match="'odd' has time stamp .* off its grid"):
        fill_gaps(df)
    with pytest.raises(InvalidInputError, match="duplicate time stamps"):
        fill_gaps(pd.concat([_frame([("a", 5)]), _frame([("a", 5)])]))


def test_linear_and_time_filling_match_numpy_interp():
    df = _frame([("a", 40), ("late", 40)], freq="D")
    y = df.y.to_numpy().copy()
    y[[3, 4, 10, 39]] = np.nan  # inner gaps and a trailing NaN in a
    y[40:45] = np.nan  # "late" starts on its 6th day
    y[50] = np.nan
    df = df.assign(y=y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filled, report = fill_missing(df)
    assert [str(w.message) for w in caught if w.category is ForecastkitWarning] == [
        "2 series had NaN: 5 value(s) filled (linear), 5 leading row(s) trimmed, 0 series "
        "dropped; the report lists them"]
    assert report.to_dict("records") == [
        {"unique_id": "a", "trimmed": 0, "filled": 4, "dropped": False},
        {"unique_id": "late", "trimmed": 5, "filled": 1, "dropped": False}]
    a = filled[filled.unique_id == "a"].y.to_numpy()
    obs = ~np.isnan(y[:40])
    expected = np.interp(np.arange(40), np.flatnonzero(obs), y[:40][obs])  # ends held flat
    np.testing.assert_allclose(a, expected)
    late = filled[filled.unique_id == "late"]
    assert late.ds.iloc[0] == df.ds.iloc[45] and len(late) == 35
    to_panel(filled)  # regular and finite: accepted
    # "time" weighs by time stamps: on a daily grid the same as by position
    with pytest.warns(ForecastkitWarning, match=r"filled \(time\)"):
        by_time = fill_missing(df, "time")[0]
    np.testing.assert_allclose(by_time.y, filled.y)


def test_seasonal_filling_uses_the_same_hour_of_the_neighbouring_days():
    n, m = 24 * 10, 24
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / m) + 0.01 * t
    df = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2022-01-01", periods=n, freq="h"),
                       "y": y})
    lost = np.arange(4 * m, 5 * m)  # one whole day
    gapped = df.assign(y=np.where(np.isin(t, lost), np.nan, y))
    with pytest.warns(ForecastkitWarning):
        seasonal = fill_missing(gapped, "seasonal", season_length=m)[0].y.to_numpy()
        linear = fill_missing(gapped, "linear")[0].y.to_numpy()
    # the reference: the midpoint of the same hour one day before and one day after
    np.testing.assert_allclose(seasonal[lost], (y[lost - m] + y[lost + m]) / 2)
    assert np.abs(seasonal[lost] - y[lost]).max() < 0.05 < np.abs(linear[lost] - y[lost]).max()


def test_empty_series_and_bad_arguments_are_named():
    df = _frame([("a", 10), ("void", 10)]).astype({"y": float})
    df.loc[df.unique_id == "void", "y"] = np.nan
    with pytest.raises(MissingValuesError, match="'void' has no observed value"):
        fill_missing(df)
    with pytest.warns(ForecastkitWarning, match="1 series dropped"):
        filled, report = fill_missing(df, drop_empty=True)
    assert set(filled.unique_id) == {"a"} and report.dropped.tolist() == [True]
    with pytest.raises(InvalidInputError, match="method must be one of"):
        fill_missing(df, "spline")
    with pytest.raises(InvalidInputError, match="season_length >= 2"):
        fill_missing(df, "seasonal")
    with pytest.raises(InvalidInputError, match="'a' has an infinite value"):
        fill_missing(df.assign(y=np.inf))
    with pytest.raises(InvalidInputError, match="no column"):
        fill_gaps(df.drop(columns="ds"))


def test_a_forecaster_fits_the_repaired_frame(panel_df):
    gapped = panel_df.drop(index=[10, 11, 200]).reset_index(drop=True)
    gapped.loc[50, "y"] = np.nan
    with pytest.warns(ForecastkitWarning):
        repaired, report = fill_missing(fill_gaps(gapped), season_length=12, method="seasonal")
    assert report.filled.sum() == 4
    fc = fk.baselines.Theta(season_length=12, horizon=6).fit(repaired).predict()
    assert np.isfinite(fc.y_pred).all() and len(fc) == 6 * panel_df.unique_id.nunique()


def test_nearest_filling_takes_the_closest_observation():
    y = np.array([1.0, np.nan, 5.0, np.nan, np.nan, np.nan, np.nan, 9.0, np.nan])
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(len(y)), "y": y})
    with pytest.warns(ForecastkitWarning):
        filled = fill_missing(df, "nearest")[0].y.to_numpy()
    # position 1 ties between 0 and 2 (either is nearest); the rest by distance; the end held
    assert filled[1] in (1.0, 5.0)
    np.testing.assert_array_equal(filled[[3, 4, 6, 8]], [5.0, 5.0, 9.0, 9.0])


def test_another_frequency_is_not_taken_for_gaps():
    hourly = _frame([("h", 48)], freq="h")
    daily = _frame([("d", 3)], freq="D", start="2021-03-20")
    with pytest.raises(FrequencyError, match="'d' steps by 24 x h: another frequency"):
        fill_gaps(pd.concat([hourly, daily], ignore_index=True))
    steps = pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 3, "ds": [0, 1, 2, 0, 2, 4],
                          "y": 1.0})
    with pytest.raises(FrequencyError, match="'b' steps by 2 x 1"):
        fill_gaps(steps)


def test_period_stamps_keep_their_own_frequency():
    df = _frame([("a", 24), ("b", 24)], freq="MS")
    df["ds"] = df.ds.dt.to_period("M")
    out = fill_gaps(df.drop(index=[3, 30]))  # gaps in every series: the periods say "M"
    assert out.ds.equals(df.ds) and out.y.isna().sum() == 2
    with pytest.warns(ForecastkitWarning):
        filled, report = fill_missing(out, "time")
    assert report.filled.tolist() == [1, 1] and filled.y.notna().all()


def test_unsorted_rows_are_filled_in_time_order_and_bad_values_refused():
    df = pd.DataFrame({"unique_id": "a", "ds": [3, 0, 2, 1], "y": [3.0, 0.0, np.nan, 1.0]})
    with pytest.warns(ForecastkitWarning):
        filled, _ = fill_missing(df)
    assert filled.ds.tolist() == [0, 1, 2, 3] and filled.y.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(InvalidInputError, match="not a number"):
        fill_missing(df.astype({"y": object}).assign(y=["1", "n/a", 2.0, 3.0]))
    with pytest.raises(InvalidInputError, match="missing value; every row needs a series id"):
        fill_gaps(df.assign(unique_id=["a", None, "a", "a"]))


# --------------------------------------------------------------------------- panels with NaN


def _gappy_frame():
    return pd.DataFrame({
        "unique_id": ["a"] * 8 + ["b"] * 30,
        "ds": list(range(8)) + list(range(30)),
        "y": [np.nan, np.nan, 1.0, np.nan, 3.0, 4.0, np.nan, np.nan]
        + list(np.where(np.arange(30) % 7 == 3, np.nan, np.sin(np.arange(30)) + 5)),
    })


def test_panels_keep_missing_values_when_asked_and_drop_leading_ones():
    frame = _gappy_frame()
    with pytest.raises(MissingValuesError, match="'a' has 5 NaN"):
        to_panel(frame)
    panel = to_panel(frame, allow_missing=True)
    np.testing.assert_array_equal(panel.lengths, [6, 30])  # 'a' starts late: 2 rows dropped
    np.testing.assert_array_equal(panel.series_times(0), np.arange(2, 8))
    np.testing.assert_array_equal(fk.data.missing_counts(panel), [3, 4])
    inf = frame.assign(y=frame["y"].where(frame.index != 20, np.inf))
    with pytest.raises(MissingValuesError, match="'b' .*infinite"):
        to_panel(inf, allow_missing=True)
    wide = frame.pivot(index="ds", columns="unique_id", values="y")
    # a wide frame's trailing NaN end a series early (its layout), inner ones stay missing
    panel = to_panel(wide, allow_missing=True)
    np.testing.assert_array_equal(panel.lengths, [4, 30])
    np.testing.assert_array_equal(fk.data.missing_counts(panel), [1, 4])


@pytest.mark.parametrize("season_length", [1, 7])
def test_panel_interpolation_is_fill_missing_on_the_frame(season_length):
    frame = _gappy_frame()
    panel, counts = fk.data.interpolate_panel(to_panel(frame, allow_missing=True),
                                              season_length)
    np.testing.assert_array_equal(counts, [3, 4])
    method = "auto" if season_length > 1 else "linear"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        reference, _ = fill_missing(frame, method, season_length=season_length)
    np.testing.assert_allclose(panel.values, reference["y"].to_numpy())
    assert not np.isnan(panel.values).any()


def _around_the_season_reference(y: np.ndarray, seasonal: np.ndarray, m: int,
                                 clip: bool = True) -> np.ndarray:
    """A loop over the short runs: each missing step's season is the mean of the seasonal
    fill one cycle before and after it (one side at the ends); the deviations of the run's two
    observed neighbours from their own season are joined by a straight line (the last
    neighbour's deviation carried, for a run at the end); with ``clip``, each fill is then
    kept within the observed values' range."""
    def season(t):
        sides = [seasonal[u] for u in (t - m, t + m) if 0 <= u < len(y)]
        return sum(sides) / len(sides)

    out = seasonal.copy()
    missing = np.isnan(y)
    t = 0
    while t < len(y):
        if not missing[t]:
            t += 1
            continue
        end = t
        while end < len(y) and missing[end]:
            end += 1
        if end - t < m / 2:  # a short run: [t, end)
            a, b = t - 1, end
            dev_a = y[a] - season(a)
            dev_b = y[b] - season(b) if b < len(y) else dev_a
            for u in range(t, end):
                w = (u - a) / (b - a) if b < len(y) else 0.0
                out[u] = season(u) + dev_a + w * (dev_b - dev_a)
                if clip:
                    out[u] = min(max(out[u], np.nanmin(y)), np.nanmax(y))
        t = end
    return out


@pytest.mark.parametrize("m", [24, 12, 7])
def test_auto_filling_goes_around_the_season_of_a_seasonal_series(m):
    """fill_missing(method="auto") on a series with a strong season: a run of half a season
    or more as "seasonal" fills it, a shorter one by the loop reference's line around the
    season. Runs of every length from 1 to 2m and a short run at the end."""
    rng = np.random.default_rng(m)
    n = 12 * m
    t = np.arange(n)
    y = 50 + 10 * np.sin(2 * np.pi * t / m) + rng.normal(0, 1, n) + 0.05 * t
    missing = rng.random(n) < 0.08
    for length in range(1, 2 * m + 1, max(1, m // 4)):
        start = rng.integers(m, n - 3 * m)
        missing[start:start + length] = True
    missing[0] = False
    missing[-3:-1], missing[-1] = False, True  # a run of one at the end
    frame = pd.DataFrame({"unique_id": "s", "ds": t, "y": np.where(missing, np.nan, y)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        auto = fill_missing(frame, "auto", season_length=m)[0].y.to_numpy()
        linear = fill_missing(frame, "linear")[0].y.to_numpy()
        seasonal = fill_missing(frame, "seasonal", season_length=m)[0].y.to_numpy()
    want = _around_the_season_reference(frame.y.to_numpy(), seasonal, m)
    np.testing.assert_allclose(auto, want, rtol=1e-12)
    # every kind of run is there: neither one fill nor the other is this one
    assert np.abs(auto - linear).max() > 1.0 and np.abs(auto - seasonal).max() > 0.1
    # and it is closer to the values it replaces than either
    err = {k: np.abs(v - y)[missing].mean() for k, v in
           (("auto", auto), ("linear", linear), ("seasonal", seasonal))}
    assert err["auto"] < min(err["linear"], err["seasonal"]), err


def test_auto_filling_stays_within_the_observed_range():
    """A positive hourly series whose day alternates busy and quiet hours, and one quiet day:
    the line around the season through a lost quiet hour's busy neighbours overshoots below
    zero unless clipped to the values the series has shown."""
    m, days = 24, 20
    hour = np.arange(m * days) % m
    y = np.where(hour % 2 == 0, 100.0, 5.0)
    y[10 * m : 11 * m] = 5.0  # a shut day: 5 all day long
    gapped = y.copy()
    gapped[10 * m + 13] = np.nan  # one lost (quiet) hour of the shut day
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(y)), "y": gapped})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        auto = fill_missing(frame, "auto", season_length=m)[0].y.to_numpy()
        seasonal = fill_missing(frame, "seasonal", season_length=m)[0].y.to_numpy()
    # unclipped: the hour's season (5) plus its neighbours' deviation from theirs (5 - 100)
    raw = _around_the_season_reference(gapped, seasonal, m, clip=False)
    assert raw[10 * m + 13] == pytest.approx(-90.0)
    assert auto[10 * m + 13] == np.nanmin(gapped) == 5.0
    np.testing.assert_allclose(auto, _around_the_season_reference(gapped, seasonal, m))


def test_auto_filling_is_linear_without_a_season_that_tests_significant():
    rng = np.random.default_rng(3)
    n, m = 120, 12
    noise = rng.normal(100, 5, n)  # white noise: no season for M4's test
    gapped = pd.DataFrame({"unique_id": "s", "ds": np.arange(n),
                           "y": np.where(np.isin(np.arange(n), [5, 40, 41, 42, 43, 44, 45, 46,
                                                                47, 90]), np.nan, noise)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        linear = fill_missing(gapped, "linear")[0].y
        np.testing.assert_array_equal(fill_missing(gapped, "auto", season_length=m)[0].y,
                                      linear)
        np.testing.assert_array_equal(fill_missing(gapped, "auto")[0].y, linear)
        # a seasonal series with the same gaps is not filled linearly
        seasonal = gapped.assign(y=gapped.y + 30 * np.sin(2 * np.pi * np.arange(n) / m))
        assert not np.allclose(fill_missing(seasonal, "auto", season_length=m)[0].y,
                               fill_missing(seasonal, "linear")[0].y)


def test_a_season_position_before_its_first_observation_takes_the_next_cycle():
    m = 4
    y = np.array([1.0] + [np.nan] * 6 + [8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0])
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(y)), "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        out = fill_missing(frame, "seasonal", season_length=m)[0].y.to_numpy()
    # positions 1, 2 and 3 are first seen at steps 9, 10 and 7: before that, their value
    # there; position 0 is interpolated between steps 0 and 8 (1 -> 9)
    np.testing.assert_allclose(out[:8], [1.0, 10.0, 11.0, 8.0, 5.0, 10.0, 11.0, 8.0])


def test_filling_a_frame_does_not_load_tensorflow():
    """The pandas fills (and the data layer's NumPy parts) load without Keras/TensorFlow."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, pandas as pd, forecastkit.data as d\n"
            "f = pd.DataFrame({'unique_id': 's', 'ds': range(60), 'y': np.r_[np.arange(30.),"
            " np.nan, np.arange(29.)]})\n"
            "d.fill_missing(f, 'auto', season_length=12)\n"
            "print('keras' in sys.modules, 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
