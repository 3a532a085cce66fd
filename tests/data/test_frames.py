"""to_panel: accepted shapes, Period handling, and every bad-input case of issue 2.

Each bad input must raise a ForecastkitError subclass whose message names the series id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastkit.data import Panel, from_panel_values, make_dataset, to_panel, window_index
from forecastkit.exceptions import (
    DuplicateTimestampError,
    EmptyDataError,
    ForecastkitError,
    FrequencyError,
    InvalidInputError,
    MissingValuesError,
    NonNumericError,
    SeriesTooShortError,
    UnsortedTimestampError,
)


def _long(ids_lengths, start=0):
    rows = []
    for sid, n in ids_lengths:
        rows.append(pd.DataFrame({"unique_id": sid, "ds": np.arange(start, start + n), "y": 1.0}))
    return pd.concat(rows, ignore_index=True)


# --------------------------------------------------------------------------- accepted input


def test_long_frame_keeps_series_contiguous(panel_df):
    p = to_panel(panel_df)
    assert isinstance(p, Panel)
    assert p.n_series == panel_df["unique_id"].nunique()
    for sid, vals in p:
        expected = panel_df.loc[panel_df["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_array_equal(vals, expected)


def test_wide_frame_trims_leading_nan():
    idx = pd.date_range("2020-01-01", periods=6, freq="D")
    wide = pd.DataFrame({"a": [np.nan, np.nan, 1, 2, 3, 4.0], "b": np.arange(6.0)}, index=idx)
    p = to_panel(wide)
    np.testing.assert_array_equal(p.lengths, [4, 6])
    np.testing.assert_array_equal(p.series(0), [1, 2, 3, 4])


@pytest.mark.parametrize("freq", ["M", "Q", "D", "h"])
def test_period_long_and_wide_set_period_freq(freq):
    idx = pd.period_range("2001-01-01", periods=10, freq=freq)
    long = pd.DataFrame({"unique_id": "a", "ds": idx, "y": np.arange(10.0)})
    wide = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0)}, index=idx)
    for p in (to_panel(long), to_panel(wide)):
        assert p.index_kind == "period"
        assert p.period_freq == idx.freqstr
        out = from_panel_values(p, np.zeros((p.n_series, 2)))
        # The forecasts continue the periods of the input, as periods of the same frequency.
        expected = pd.period_range(idx[-1] + 1, periods=2, freq=freq)
        assert list(out["ds"].iloc[:2]) == list(expected)
        assert list(p.to_long()["ds"].iloc[:10]) == list(idx)


def test_period_series_round_trip(monthly_series):
    s = monthly_series.copy()
    s.index = s.index.to_period("M")
    p = to_panel(s)
    out = from_panel_values(p, np.ones((1, 3)))
    assert isinstance(out.index, pd.PeriodIndex)
    assert out.index[0] == s.index[-1] + 1


# --------------------------------------------------------------------------- bad input


def _raises(exc, match, data):
    with pytest.raises(exc, match=match) as info:
        to_panel(data)
    assert isinstance(info.value, ForecastkitError)
    return info


def test_nan_names_series():
    df = _long([("ok", 10), ("bad", 10)])
    df.loc[15, "y"] = np.nan
    _raises(MissingValuesError, "'bad'.*NaN", df)


def test_inf_names_series():
    df = _long([("ok", 10), ("worse", 10)])
    df.loc[12, "y"] = np.inf
    _raises(MissingValuesError, "'worse'.*infinite", df)


def test_nan_in_series_input(monthly_series):
    s = monthly_series.copy()
    s.iloc[5] = np.nan
    _raises(MissingValuesError, "'sales'", s)


def test_nan_inside_wide_column_names_column():
    wide = pd.DataFrame({"a": np.arange(5.0), "gap": [1, 2, np.nan, 4, 5.0]})
    _raises(MissingValuesError, "'gap'", wide)


def test_empty_frames():
    _raises(EmptyDataError, "no rows", pd.DataFrame({"unique_id": [], "ds": [], "y": []}))
    _raises(EmptyDataError, "no rows", pd.DataFrame())
    _raises(EmptyDataError, "'empty'", pd.Series([], dtype=float, name="empty"))
    wide = pd.DataFrame({"a": np.arange(3.0), "void": [np.nan] * 3})
    _raises(EmptyDataError, "'void'", wide)


def test_duplicate_timestamps_name_series():
    df = _long([("a", 5), ("dup", 5)])
    df.loc[7, "ds"] = df.loc[6, "ds"]
    _raises(DuplicateTimestampError, "'dup'", df)


def test_unsorted_timestamps_name_series():
    df = _long([("a", 5), ("shuffled", 5)])
    df.loc[[6, 7], "ds"] = df.loc[[7, 6], "ds"].to_numpy()
    _raises(UnsortedTimestampError, "'shuffled'", df)


def test_irregular_datetime_frequency_names_series():
    good = pd.date_range("2020-01-01", periods=8, freq="D")
    bad = good.delete(4)
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "fine", "ds": good, "y": 1.0}),
            pd.DataFrame({"unique_id": "holes", "ds": bad, "y": 1.0}),
        ]
    )
    _raises(FrequencyError, "'holes'", df)


def _zoned(sid, tz, start="2021-03-26", periods=72, freq="h"):
    ds = pd.date_range(start, periods=periods, freq=freq, tz=tz)
    return pd.DataFrame({"unique_id": sid, "ds": ds, "y": 1.0})


@pytest.mark.parametrize("freq,periods", [("h", 72), ("D", 6), ("W-SUN", 4), ("MS", 12)])
def test_aware_stamps_stay_regular_across_dst(freq, periods):
    # In UTC a day at local midnight is 23 h long once a year; a month's length varies too.
    df = pd.concat(
        [_zoned("a", "Europe/Berlin", periods=periods, freq=freq),
         _zoned("b", "Europe/Berlin", start="2021-03-27", periods=periods, freq=freq)],
        ignore_index=True,
    )
    panel = to_panel(df)
    assert panel.tz == "Europe/Berlin" and panel.freq == pd.tseries.frequencies.to_offset(freq)


def test_irregular_aware_series_names_series():
    holes = _zoned("holes", "Europe/Berlin").drop(index=30)
    _raises(FrequencyError, "'holes'", pd.concat([_zoned("fine", "Europe/Berlin"), holes]))
    # Daily at UTC midnight is 01:00 or 02:00 in Berlin: not daily on the zone's clock.
    daily_by_utc = pd.DataFrame({"unique_id": "utc-days", "y": 1.0,
                                 "ds": pd.date_range("2021-03-26", periods=6, freq="D", tz="UTC")
                                 .tz_convert("Europe/Berlin")})
    mixed = pd.concat([_zoned("local-days", "Europe/Berlin", periods=6, freq="D"), daily_by_utc])
    _raises(FrequencyError, "'utc-days'", mixed)


@pytest.mark.parametrize(
    "other,message",
    [
        (_zoned("b", "America/New_York"), "'b' has time stamps in America/New_York but series 'a'"),
        (_zoned("b", None), "'b' has time stamps in no time zone"),
    ],
)
def test_mixed_time_zones_name_the_series(other, message):
    df = pd.concat([_zoned("a", "Europe/Berlin"), other], ignore_index=True)
    assert df["ds"].dtype == object  # what pandas makes of two zones in one column
    _raises(InvalidInputError, message, df)
    # Within one series, and in a Series' index
    one = pd.concat([_zoned("a", "Europe/Berlin"), other.assign(unique_id="a")])
    _raises(InvalidInputError, "series 'a' mixes time stamps", one)
    s = pd.Series(1.0, index=pd.Index(list(one["ds"]), dtype=object), name="idx")
    _raises(InvalidInputError, "series 'idx' mixes time stamps", s)


def test_irregular_integer_steps_name_series():
    df = pd.DataFrame({"unique_id": "jumpy", "ds": [0, 1, 2, 4, 5], "y": 1.0})
    _raises(FrequencyError, "'jumpy'", df)


def test_mixed_frequency_names_both_series():
    df = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": "daily", "ds": pd.date_range("2020", periods=8, freq="D"), "y": 1.0}
            ),
            pd.DataFrame(
                {"unique_id": "monthly", "ds": pd.date_range("2020", periods=8, freq="MS"), "y": 1}
            ),
        ]
    )
    info = _raises(FrequencyError, "mixed", df)
    assert "'daily'" in str(info.value) and "'monthly'" in str(info.value)


def test_mixed_integer_steps_name_series():
    df = pd.concat(
        [
            pd.DataFrame({"unique_id": "one", "ds": np.arange(5), "y": 1.0}),
            pd.DataFrame({"unique_id": "two", "ds": np.arange(0, 10, 2), "y": 1.0}),
        ]
    )
    info = _raises(FrequencyError, "mixed", df)
    assert "'one'" in str(info.value) and "'two'" in str(info.value)


def test_non_numeric_target_names_series():
    df = _long([("a", 4), ("text", 4)])
    df["y"] = df["y"].astype(object)
    df.loc[5, "y"] = "n/a"
    _raises(NonNumericError, "'text'.*'n/a'", df)


def test_non_numeric_series_and_wide():
    _raises(NonNumericError, "'flags'", pd.Series([True, False, True], name="flags"))
    wide = pd.DataFrame({"num": [1.0, 2, 3], "word": ["x", "y", "z"]})
    _raises(NonNumericError, "'word'", wide)


def test_datetime_target_is_non_numeric():
    df = pd.DataFrame({"unique_id": "a", "ds": range(3), "y": pd.date_range("2020", periods=3)})
    _raises(NonNumericError, "'y'", df)


def test_missing_columns_and_bare_arrays():
    _raises(InvalidInputError, "missing column", pd.DataFrame({"unique_id": [1], "y": [1.0]}))
    _raises(InvalidInputError, "pd.Series", np.arange(5.0))


def test_short_series_names_series_everywhere():
    df = _long([("long", 30), ("tiny", 5)])
    with pytest.raises(SeriesTooShortError, match="'tiny'.*5 observations.*16"):
        window_index(to_panel(df).lengths, 12, 4, ids=to_panel(df).ids)
    with pytest.raises(SeriesTooShortError, match="'tiny'"):
        make_dataset(df, lookback=12, horizon=4)
