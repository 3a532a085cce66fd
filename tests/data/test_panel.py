"""Panel methods: selecting and cutting series in time, and time-stamp conversion.

Each vectorised method is checked against a per-series loop over ``Panel.series``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastkit.data import Panel, from_panel_values, to_panel
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError


def _ragged(lengths, start=0) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"s{i}", "ds": np.arange(start, start + n) + 3 * i,
                 "y": 100.0 * i + np.arange(n)}
            )
            for i, n in enumerate(lengths)
        ],
        ignore_index=True,
    )


@st.composite
def _panel_and_cuts(draw):
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=5))
    start, end = [], []
    for n in lengths:
        a = draw(st.integers(0, n - 1))
        start.append(a)
        end.append(draw(st.integers(a + 1, n)))
    return to_panel(_ragged(lengths)), np.array(start), np.array(end)


@settings(max_examples=60, deadline=None)
@given(_panel_and_cuts())
def test_slice_matches_per_series_slicing(case):
    panel, start, end = case
    cut = panel.slice(start, end)
    assert list(cut.ids) == list(panel.ids)
    np.testing.assert_array_equal(cut.lengths, end - start)
    for i in range(panel.n_series):
        np.testing.assert_array_equal(cut.series(i), panel.series(i)[start[i] : end[i]])
        np.testing.assert_array_equal(cut.series_times(i), panel.series_times(i)[start[i] : end[i]])


@settings(max_examples=60, deadline=None)
@given(_panel_and_cuts(), st.integers(0, 4))
def test_values_and_times_after_match_per_series_slicing(case, horizon):
    panel, _, end = case
    end = np.minimum(end, panel.lengths - horizon)
    if (end < 0).any():
        with pytest.raises(SeriesTooShortError):
            panel.values_after(end, horizon)
        return
    vals = panel.values_after(end, horizon)
    times = panel.times_after(end, horizon)
    assert vals.shape == times.shape == (panel.n_series, horizon)
    for i in range(panel.n_series):
        np.testing.assert_array_equal(vals[i], panel.series(i)[end[i] : end[i] + horizon])
        np.testing.assert_array_equal(times[i], panel.series_times(i)[end[i] : end[i] + horizon])


def test_cuts_outside_a_series_name_it():
    panel = to_panel(_ragged([10, 4, 8]))
    with pytest.raises(InvalidInputError, match="'s1' has 4 observations.*0:6"):
        panel.slice(0, 6)
    with pytest.raises(InvalidInputError, match="'s0'"):
        panel.slice(3, 3)
    with pytest.raises(SeriesTooShortError, match="'s1' has 4 observations.*2:5"):
        panel.values_after(2, 3)
    with pytest.raises(SeriesTooShortError, match="'s1'.*hold out 4"):
        panel.drop_last(4)


def test_take_and_drop_last_match_per_series_loops():
    panel = to_panel(_ragged([5, 9, 2, 7]))
    taken = panel.take([3, 0, 3])
    assert list(taken.ids) == ["s3", "s0", "s3"]
    for k, i in enumerate([3, 0, 3]):
        np.testing.assert_array_equal(taken.series(k), panel.series(i))
        np.testing.assert_array_equal(taken.series_times(k), panel.series_times(i))
    dropped = panel.drop_last(np.array([1, 2, 1, 0]))
    for i, n in enumerate([1, 2, 1, 0]):
        np.testing.assert_array_equal(dropped.series(i), panel.series(i)[: panel.lengths[i] - n])
    assert panel.take([]).n_series == 0


# --------------------------------------------------------------------------- time stamps


def _long(ds_per_series) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"unique_id": sid, "ds": ds, "y": 1.0}) for sid, ds in ds_per_series],
        ignore_index=True,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(10, 30, 2),
        lambda: pd.date_range("2021-03-01", periods=10, freq="ME"),
        lambda: pd.date_range("2021-03-01", periods=10, freq="h", tz="Europe/Paris"),
        lambda: pd.period_range("2021Q1", periods=10, freq="Q"),
    ],
    ids=["integer", "month-end", "tz-aware", "period"],
)
def test_time_index_round_trip(make):
    ds = make()
    panel = to_panel(_long([("a", ds), ("b", ds[:7])]))
    index = panel.to_time_index(panel.times)
    np.testing.assert_array_equal(panel.from_time_values(index), panel.times)
    # A long output column converts back as well, and the stamps are those of the input (an
    # aware input comes back in its own time zone).
    column = panel.to_long()["ds"]
    np.testing.assert_array_equal(panel.from_time_values(column), panel.times)
    expected = pd.Index(ds)
    assert list(index[:10]) == list(expected)
    assert getattr(index, "tz", None) == getattr(expected, "tz", None)


def test_time_index_kinds_and_freq():
    s = pd.Series(np.arange(12.0), index=pd.date_range("2020-01-31", periods=12, freq="ME"))
    panel = to_panel(s)
    future = panel.future_times(3)[0]
    plain = panel.to_time_index(future)
    with_freq = panel.to_time_index(future, with_freq=True)
    assert plain.freq is None and with_freq.freq == pd.offsets.MonthEnd()
    assert list(with_freq) == list(pd.date_range("2021-01-31", periods=3, freq="ME"))
    assert from_panel_values(panel, np.zeros((1, 3))).index.equals(with_freq)
    periods = to_panel(s.to_period("M"))
    assert isinstance(periods.to_time_index(periods.times), pd.PeriodIndex)
    assert periods.to_time_index(periods.times).freqstr == "M"


def test_calendar_future_times_match_date_range():
    # Series ending on different month ends: each continues from its own end.
    ends = ["2020-01-31", "2020-02-29", "2020-01-31", "2019-11-30"]
    panel = to_panel(
        _long([(f"s{i}", pd.date_range(end=e, periods=5, freq="ME")) for i, e in enumerate(ends)])
    )
    future = panel.future_times(4)
    for i, e in enumerate(ends):
        expected = pd.date_range(e, periods=5, freq="ME")[1:].values
        np.testing.assert_array_equal(future[i], expected)


def test_panel_is_exported_from_frames_too():
    from forecastkit.data import frames, panel

    assert frames.Panel is panel.Panel is Panel


# --------------------------------------------------------------------------- time zones
# The references are pandas' own aware date ranges, which step hours in UTC and days and months
# on the zone's wall clock.

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    "start,periods,freq,tz",
    [
        ("2021-03-27 20:00", 6, "h", BERLIN),  # ends 01:00+01:00; next is 03:00+02:00
        ("2021-10-30 22:00", 5, "h", BERLIN),  # ends on the first 02:00 (+02:00)
        ("2021-10-31 00:00", 4, "h", BERLIN),  # ends on the second 02:00 (+01:00)
        ("2021-03-20", 7, "D", BERLIN),  # daily: stays at local midnight
        ("2021-10-25", 5, "D", BERLIN),
        ("2021-01-01", 10, "MS", "America/New_York"),
        ("2021-03-01", 40, "30min", "Australia/Lord_Howe"),  # a 30-minute DST shift
        ("2021-03-01", 6, "h", "UTC"),
        ("2021-03-01", 6, "h", "UTC+05:30"),
    ],
)
def test_aware_series_forecasts_in_its_zone(start, periods, freq, tz):
    index = pd.date_range(start, periods=periods, freq=freq, tz=tz)
    y = pd.Series(np.arange(periods, dtype=float), index=index, name="load")
    panel = to_panel(y)
    assert panel.tz is not None
    expected = pd.date_range(index[-1], periods=13, freq=freq)[1:]
    # UTC inside, the zone outside
    np.testing.assert_array_equal(panel.future_times(12)[0], expected.tz_convert(None).values)
    out = from_panel_values(panel, np.zeros((1, 12)))
    assert out.index.equals(expected) and str(out.index.tz) == str(index.tz)
    assert out.index.freq == expected.freq
    assert out.index[0] > index[-1]
    assert panel.to_time_index(panel.times).equals(index)


def test_aware_long_and_wide_frames_keep_the_zone():
    a = pd.date_range("2021-03-27 22:00", periods=5, freq="h", tz=BERLIN)
    df = pd.concat(
        [pd.DataFrame({"unique_id": "a", "ds": a, "y": 1.0}),
         pd.DataFrame({"unique_id": "b", "ds": a[:3], "y": 2.0})],
        ignore_index=True,
    )
    panel = to_panel(df)
    out = from_panel_values(panel, np.zeros((2, 3)))
    assert str(out["ds"].dt.tz) == BERLIN
    assert list(out["ds"][:3]) == list(pd.date_range(a[-1], periods=4, freq="h")[1:])
    assert list(out["ds"][3:]) == list(pd.date_range(a[2], periods=4, freq="h")[1:])
    assert list(panel.to_long()["ds"]) == list(df["ds"])
    assert str(panel.to_long()["ds"].dt.tz) == BERLIN

    wide = pd.DataFrame({"a": np.arange(5.0), "b": [np.nan, 1.0, 2.0, 3.0, 4.0]}, index=a)
    out = from_panel_values(to_panel(wide), np.zeros((2, 2)))
    assert list(out["ds"][:2]) == list(pd.date_range(a[-1], periods=3, freq="h")[1:])


def test_from_time_values_reads_any_zone_and_text_offsets():
    index = pd.date_range("2021-03-27 22:00", periods=6, freq="h", tz=BERLIN)
    panel = to_panel(pd.Series(np.arange(6.0), index=index))
    utc = index.tz_convert(None).values
    np.testing.assert_array_equal(panel.from_time_values(index.tz_convert("Asia/Tokyo")), utc)
    # Written to CSV and read back, the stamps are text with two different UTC offsets.
    text = pd.Series(index.astype(str))
    assert text.str[-6:].nunique() == 2
    np.testing.assert_array_equal(panel.from_time_values(text), utc)
    # Naive stamps are the zone's wall clock.
    np.testing.assert_array_equal(panel.from_time_values(index.tz_localize(None)), utc)
