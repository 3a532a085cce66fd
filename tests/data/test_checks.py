"""The vectorised input checks name the first offending series, as a per-series loop would.

The reference below walks the series one by one, in the order the panel stores them (order of
first appearance), and reports the first problem it meets; ``to_panel`` checks the whole array at
once and must agree with it on both the kind of error and the series it names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastkit.data import to_panel
from forecastkit.exceptions import (
    DuplicateTimestampError,
    FrequencyError,
    InvalidInputError,
    MissingValuesError,
    NonNumericError,
    UnsortedTimestampError,
)


def _reference_error(series: dict[str, tuple[list, list]]):
    """(error class, names it must mention) of a per-series walk, or None when all is well."""
    for sid, (ds, y) in series.items():
        if any(isinstance(v, str) for v in y):
            return NonNumericError, [sid]
        if any(not np.isfinite(v) for v in y):
            return MissingValuesError, [sid]
        steps = np.diff(ds)
        if (steps == 0).any():
            return DuplicateTimestampError, [sid]
        if (steps < 0).any():
            return UnsortedTimestampError, [sid]
    first_step: dict[int, str] = {}
    for sid, (ds, _) in series.items():
        steps = np.diff(ds)
        if len(steps) and (steps != steps[0]).any():
            return FrequencyError, [sid]
        if len(steps):
            first_step.setdefault(int(steps[0]), sid)
    if len(first_step) > 1:
        return FrequencyError, list(first_step.values())[:2]
    return None


@st.composite
def _corrupted_panel(draw):
    n_series = draw(st.integers(1, 6))
    series = {}
    for i in range(n_series):
        n = draw(st.integers(1, 10))
        step = draw(st.sampled_from([1, 1, 1, 2]))
        start = draw(st.integers(0, 5))
        ds = list(range(start, start + n * step, step))
        y: list = [float(v) for v in range(n)]
        for _ in range(draw(st.integers(0, 1))):
            k = draw(st.integers(0, n - 1))
            kind = draw(st.sampled_from(["nan", "inf", "text", "dup", "swap", "gap"]))
            if kind in ("nan", "inf"):
                y[k] = np.nan if kind == "nan" else -np.inf
            elif kind == "text":
                y[k] = "n/a"
            elif kind == "dup" and k + 1 < n:
                ds[k + 1] = ds[k]
            elif kind == "swap" and k + 1 < n:
                ds[k], ds[k + 1] = ds[k + 1], ds[k]
            elif kind == "gap":
                ds[k:] = [t + 1 for t in ds[k:]]
        series[f"s{i}"] = (ds, y)
    # Interleave the series' rows, keeping each series' own order.
    owners = [sid for sid, (ds, _) in series.items() for _ in ds]
    owners = draw(st.permutations(owners))
    seen = dict.fromkeys(series, 0)
    rows = []
    for sid in owners:
        ds, y = series[sid]
        rows.append((sid, ds[seen[sid]], y[seen[sid]]))
        seen[sid] += 1
    df = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    df["y"] = df["y"].astype(object)  # pandas would give an all-text column a string dtype
    # Stored order is order of first appearance in the frame.
    ordered = {sid: series[sid] for sid in dict.fromkeys(df["unique_id"])}
    return df, ordered


@settings(max_examples=200, deadline=None)
@given(_corrupted_panel())
def test_first_offending_series_is_named(case):
    df, series = case
    expected = _reference_error(series)
    if expected is None:
        panel = to_panel(df)
        for i, (sid, (ds, y)) in enumerate(series.items()):
            assert panel.ids[i] == sid
            np.testing.assert_array_equal(panel.series(i), y)
            np.testing.assert_array_equal(panel.series_times(i), ds)
        return
    cls, names = expected
    with pytest.raises(cls) as info:
        to_panel(df)
    message = str(info.value)
    for sid in names:
        assert repr(sid) in message
    others = [sid for sid in series if sid not in names]
    assert not any(repr(sid) in message for sid in others), message


def test_count_and_place_of_missing_values():
    df = pd.DataFrame(
        {"unique_id": ["a"] * 4 + ["b"] * 4, "ds": list(range(4)) * 2,
         "y": [1, 2, 3, 4, 1, np.inf, np.nan, 4.0]}
    )
    with pytest.raises(MissingValuesError, match=r"'b' has 2 NaN/inf value\(s\); the first "
                       r"\(infinite\) is at 1\."):
        to_panel(df)


def test_messages_show_aware_stamps_in_their_zone():
    ds = pd.date_range("2021-03-28 00:00", periods=5, freq="h", tz="Europe/Berlin")
    y = pd.Series([1.0, 2.0, np.nan, 4.0, 5.0], index=ds, name="s")
    with pytest.raises(MissingValuesError, match=r"is at 2021-03-28 03:00:00\+02:00"):
        to_panel(y)
    repeated = pd.Series(1.0, index=ds[[0, 1, 2, 2, 3]], name="s")
    with pytest.raises(DuplicateTimestampError, match=r"2021-03-28 03:00:00\+02:00"):
        to_panel(repeated)
    backwards = pd.Series(1.0, index=ds[[0, 2, 1, 3]], name="s")
    with pytest.raises(UnsortedTimestampError,
                       match=r"01:00:00\+01:00 comes after 2021-03-28 03:00:00\+02:00"):
        to_panel(backwards)


# --------------------------------------------------------------------------- datetime frequency


def _frame(pieces) -> pd.DataFrame:
    return pd.concat(
        [pd.DataFrame({"unique_id": sid, "ds": ds, "y": 1.0}) for sid, ds in pieces],
        ignore_index=True,
    )


def test_calendar_frequency_of_ragged_series():
    pieces = [(f"s{i}", pd.date_range(f"20{10 + i}-0{1 + i}-01", periods=20 + i, freq="MS"))
              for i in range(5)]
    assert to_panel(_frame(pieces)).freq == pd.offsets.MonthBegin()
    holed = pieces[:3] + [("holes", pieces[3][1].delete(7))] + pieces[4:]
    with pytest.raises(FrequencyError, match="'holes' has irregular"):
        to_panel(_frame(holed))


def test_one_week_of_a_business_day_panel_reads_as_daily():
    # pd.infer_freq calls Mon..Wed "D" even beside a "B" series; the panel check says so too.
    week = pd.date_range("2024-01-08", periods=3, freq="D")
    business = pd.date_range("2024-01-01", periods=15, freq="B")
    with pytest.raises(FrequencyError, match="'weekdays' is 'B' and series 'short' is 'D'"):
        to_panel(_frame([("weekdays", business), ("short", week)]))
    assert to_panel(_frame([("weekdays", business)])).freq == pd.offsets.BusinessDay()


def test_stamps_off_the_grid_still_checked_by_infer_freq():
    # Sundays at noon are still weekly on Sundays, although not on a midnight grid.
    sundays = pd.date_range("2024-01-07", periods=6, freq="W-SUN")
    panel = to_panel(_frame([("midnight", sundays), ("noon", sundays + pd.Timedelta(hours=12))]))
    assert panel.freq == pd.offsets.Week(weekday=6)
    daily = pd.date_range("2024-01-07", periods=6, freq="D")
    with pytest.raises(FrequencyError, match="'midnight' is 'W-SUN' and series 'days' is 'D'"):
        to_panel(_frame([("midnight", sundays), ("days", daily)]))


def test_short_series_use_the_declared_frequency():
    s = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="QS"))
    assert to_panel(s).freq == pd.offsets.QuarterBegin(startingMonth=1)
    with pytest.raises(FrequencyError, match="fewer than 3"):
        to_panel(_frame([("a", s.index), ("b", s.index)]))


def test_wide_frame_with_repeated_column_is_refused():
    wide = pd.DataFrame(np.ones((4, 3)), columns=["a", "b", "a"])
    with pytest.raises(InvalidInputError, match="more than one column 'a'"):
        to_panel(wide)


def test_wide_frame_names_first_bad_column():
    wide = pd.DataFrame(
        {"fine": np.arange(4.0), "holed": [1, np.nan, 3, 4.0], "word": list("abcd"),
         "void": [np.nan] * 4}
    )
    with pytest.raises(MissingValuesError, match="'holed'"):
        to_panel(wide)
    with pytest.raises(NonNumericError, match="'word'"):
        to_panel(wide.drop(columns="holed"))
