"""One frequency for a whole panel: inferred once, then checked on every series with NumPy.

Integer stamps must advance by one constant step. Datetime stamps get their frequency from
``pd.infer_freq`` on the first series of at least three stamps; every other series is then tested
against it in one vectorised pass (equal differences for fixed durations, consecutive points of
one date grid for calendar offsets). Only a series that this test cannot vouch for is passed to
``pd.infer_freq`` itself, which says whether it is irregular or of another frequency: series
shorter than three stamps say nothing about frequency and are not checked.

Stamps of a time zone are stored in UTC; they are inferred as pandas infers an aware index and
tested on the clock their frequency steps on (UTC for hours and shorter, the zone's wall clock for
days and calendar offsets; see :mod:`forecastkit.data.timezones`), so an hourly or a daily series
stays regular across daylight-saving changes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from forecastkit.data.checks import Ids, series_of, within_series
from forecastkit.data.timezones import to_wall_clock, to_zone, uses_wall_clock
from forecastkit.exceptions import FrequencyError

__all__ = ["panel_frequency", "infer_freq_alias"]

# A calendar grid is built only while it stays this many points per observation or fewer
# (business hours over decades would otherwise be a long array); beyond it, series by series.
_MAX_GRID_PER_OBS = 10


def panel_frequency(
    times: np.ndarray,
    indptr: np.ndarray,
    ids: Ids,
    kind: str,
    declared: BaseOffset | str | None = None,
    tz: str | None = None,
) -> tuple[BaseOffset | None, int]:
    """The frequency shared by every series; irregular or mixed frequencies are errors.

    Parameters
    ----------
    times : ndarray of shape (n_obs,)
        ``int64`` for ``kind="integer"``, else ``datetime64[ns]``; sorted within each series.
    indptr : ndarray of shape (n_series + 1,)
    ids : sequence of shape (n_series,)
    kind : {"integer", "datetime", "period"}
    declared : pandas.DateOffset or str, optional
        The frequency the input index declares; used when no series is long enough to infer one.
    tz : str, optional
        Time zone of the input; ``times`` are then naive UTC.

    Returns
    -------
    freq : pandas.DateOffset or None
        ``None`` for integer stamps.
    step : int
        Step between integer stamps (1 for datetime stamps).

    Raises
    ------
    FrequencyError
        Naming the first irregular series, or the first two series of different frequencies.
    """
    if kind == "integer":
        return None, _integer_step(times, indptr, ids)
    return _datetime_freq(times, indptr, ids, declared, tz), 1


def _integer_step(times: np.ndarray, indptr: np.ndarray, ids: Ids) -> int:
    lengths = np.diff(indptr)
    counts = np.maximum(lengths - 1, 0)  # differences per series
    d = np.diff(times)[within_series(indptr)]  # series after series, counts[i] each
    d_ptr = np.concatenate([[0], np.cumsum(counts)])
    has_step = counts > 0
    first = np.zeros(len(lengths), dtype=np.int64)
    first[has_step] = d[d_ptr[:-1][has_step]]
    odd = np.flatnonzero(d != np.repeat(first, counts))
    if len(odd):
        i = int(series_of(d_ptr, odd[0]))
        t = times[indptr[i] : indptr[i + 1]]
        gap = int(odd[0] - d_ptr[i])
        raise FrequencyError(
            f"series {ids[i]!r} has irregular integer time steps: {t[gap]} -> {t[gap + 1]} "
            f"after a step of {first[i]}; fill the missing steps first "
            f"(forecastkit.data.fill_gaps, then fill_missing)"
        )
    stepping = np.flatnonzero(has_step)
    if len(stepping) == 0:
        return 1
    steps = first[stepping]
    other = np.flatnonzero(steps != steps[0])
    if len(other):
        i1, i2 = stepping[0], stepping[other[0]]
        raise FrequencyError(
            f"mixed time steps: series {ids[i1]!r} steps by {first[i1]}, series {ids[i2]!r} by "
            f"{first[i2]}"
        )
    return int(steps[0])


def _datetime_freq(times, indptr, ids, declared, tz) -> BaseOffset:
    long_enough = np.flatnonzero(np.diff(indptr) >= 3)
    if len(long_enough) == 0:
        if declared is not None:
            return pd.tseries.frequencies.to_offset(declared)
        raise FrequencyError(
            "cannot infer a frequency: every series has fewer than 3 time stamps; pass a series "
            "with a DatetimeIndex that declares its freq"
        )
    found: dict[str, object] = {}  # alias -> first series of it, in series order
    ref = long_enough[0]
    alias = _series_alias(times, indptr, ids, ref, tz)
    found[alias] = ids[ref]
    freq = pd.tseries.frequencies.to_offset(alias)
    clock = to_wall_clock(times, tz) if uses_wall_clock(freq, tz) else times
    unsure = ~_regular_at(clock, indptr, freq)
    twin = _calendar_twin(alias)
    if twin is not None:
        # pd.infer_freq names a series by the calendar alias when both fit (Mon..Wed is "D", not
        # "B"), and such a series is reported as of another frequency.
        unsure |= _regular_at(clock, indptr, twin)
    unsure = long_enough[unsure[long_enough]]
    for i in unsure:
        found.setdefault(_series_alias(times, indptr, ids, i, tz), ids[i])
    if len(found) > 1:
        (f1, id1), (f2, id2) = list(found.items())[:2]
        raise FrequencyError(
            f"mixed frequencies: series {id1!r} is {f1!r} and series {id2!r} is {f2!r}; "
            f"one model needs one frequency"
        )
    return freq


def _series_alias(times, indptr, ids, i, tz) -> str:
    # In its zone: pandas finds hourly and daily stamps regular across DST changes.
    alias = infer_freq_alias(to_zone(times[indptr[i] : indptr[i + 1]], tz))
    if alias is None:
        raise FrequencyError(
            f"series {ids[i]!r} has irregular time stamps (no frequency could be inferred); "
            f"resample it to a regular frequency, or if it has gaps fill them first "
            f"(forecastkit.data.fill_gaps, then fill_missing)"
        )
    return alias


def _calendar_twin(alias: str) -> BaseOffset | None:
    """The calendar offset of a business alias ("BME" -> "ME", "2B" -> "2D", "bh" -> "h")."""
    match = re.fullmatch(r"(\d*)(B|bh)(.*)", alias)
    if match is None:
        return None
    count, business, rest = match.groups()
    try:
        return pd.tseries.frequencies.to_offset(count + ("h" if business == "bh" else rest or "D"))
    except ValueError:
        return None


def _regular_at(times: np.ndarray, indptr: np.ndarray, freq: BaseOffset) -> np.ndarray:
    """Which series are consecutive points of ``freq``, shape (n_series,), bool.

    ``False`` means "not shown regular here", not "irregular": the caller asks
    ``pd.infer_freq`` about those series.
    """
    n_series = len(indptr) - 1
    ns = times.astype("datetime64[ns]").view(np.int64)
    inside = within_series(indptr)
    if isinstance(freq, pd.offsets.Tick | pd.offsets.Day):  # fixed durations on naive stamps
        off = np.diff(ns) != pd.Timedelta(freq).value  # type: ignore[arg-type]
        bad_pos = np.flatnonzero(off & inside)
    else:
        grid = _calendar_grid(ns, freq)
        if grid is None:
            return np.zeros(n_series, dtype=bool)
        at = np.minimum(np.searchsorted(grid, ns), len(grid) - 1)
        on_grid = grid[at] == ns
        # A series is regular when each stamp is a grid point and the next one is the next point.
        bad_pos = np.union1d(
            np.flatnonzero(~on_grid), np.flatnonzero((np.diff(at) != 1) & inside)
        )
    regular = np.ones(n_series, dtype=bool)
    regular[series_of(indptr, bad_pos)] = False
    return regular


def _calendar_grid(ns: np.ndarray, freq: BaseOffset) -> np.ndarray | None:
    lo, hi = pd.Timestamp(ns.min()), pd.Timestamp(ns.max())
    # Calendar aliases step by at least one business hour, so this bounds the grid's length.
    if (hi - lo) / pd.Timedelta(hours=1) > _MAX_GRID_PER_OBS * len(ns) + 100_000:
        return None
    try:
        grid = pd.date_range(start=lo, end=hi, freq=freq)
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        return None
    if len(grid) == 0:
        return None
    return grid.values.astype("datetime64[ns]").view(np.int64)


def infer_freq_alias(index: pd.DatetimeIndex) -> str | None:
    """``pd.infer_freq`` as an alias string, on pandas versions before and after it turned to
    returning an offset (pandas 3 warns about the change)."""
    if "infer_freq_returns_offset" in dir(pd.options.future):
        with pd.option_context("future.infer_freq_returns_offset", True):
            found = pd.infer_freq(index)
    else:
        found = pd.infer_freq(index)
    if found is None or isinstance(found, str):
        return found
    return found.freqstr
