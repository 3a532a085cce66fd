"""Time zones of datetime input: one zone per panel, UTC inside, the zone's wall clock outside.

A :class:`~forecastkit.data.panel.Panel` stores tz-aware stamps as naive UTC (``datetime64[ns]``)
and remembers the zone by name (``Panel.tz``). Arithmetic on fixed durations (hours, minutes...)
is done in UTC, where an hourly series stays regular across daylight-saving changes; calendar
steps (days, weeks, months...) are taken on the zone's wall clock, where a daily series stays at
midnight. Output is converted back to the zone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from forecastkit.data.checks import Ids, Problem, series_of
from forecastkit.exceptions import InvalidInputError

__all__ = [
    "zone_name",
    "find_mixed_zones",
    "uses_wall_clock",
    "to_wall_clock",
    "from_wall_clock",
    "to_zone",
]


def zone_name(tz, where: str, index: pd.DatetimeIndex) -> str:
    """A name of ``tz`` that pandas reads back to the same zone (so a saved panel keeps it).

    Parameters
    ----------
    tz : tzinfo
        The zone of a tz-aware index.
    where : str
        How a message names the input (``"series 'a'"``, ``"the time column"``).
    index : pd.DatetimeIndex of shape (n,)
        The aware stamps: the name must give them the same wall-clock times.

    Raises
    ------
    InvalidInputError
        The zone has no name pandas understands (some ``dateutil`` zones).
    """
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo, pytz
    if isinstance(key, str):
        return key
    name = str(tz)  # "UTC", "UTC+05:30"; a dateutil zone's text is no name
    try:
        same = index.tz_convert(name).tz_localize(None).equals(index.tz_localize(None))
    except (ValueError, KeyError, TypeError):
        same = False
    if not same:
        raise InvalidInputError(
            f"{where} has time stamps in a time zone without a usable name ({tz!r}); convert "
            f"them to an IANA zone first, e.g. ds.dt.tz_convert('Europe/Berlin')"
        )
    return name


def find_mixed_zones(stamps: pd.Index, indptr: np.ndarray, ids: Ids) -> Problem | None:
    """The first series whose datetimes are not all in the first series' time zone.

    Only an object index can mix zones (pandas gives stamps of one zone a tz dtype), so any
    other passes at once, without a look at its elements.

    Parameters
    ----------
    stamps : pd.Index of shape (n_obs,)
        Time stamps as given, grouped by series.
    indptr : ndarray of shape (n_series + 1,)
    ids : sequence of shape (n_series,)
    """
    if stamps.dtype != object or pd.api.types.infer_dtype(stamps, skipna=True) != "datetime":
        return None
    zones = np.array([_zone_label(getattr(t, "tzinfo", None)) for t in stamps], dtype=object)
    odd = np.flatnonzero(zones != zones[0])
    if len(odd) == 0:
        return None
    pos = int(odd[0])
    i = int(series_of(indptr, pos))
    first = int(series_of(indptr, 0))
    if i == first:
        what = f"series {ids[i]!r} mixes time stamps in {zones[0]} and in {zones[pos]}"
    else:
        what = (
            f"series {ids[i]!r} has time stamps in {zones[pos]} but series {ids[first]!r} in "
            f"{zones[0]}"
        )
    return i, InvalidInputError(
        f"{what}; one panel needs one time zone: convert the stamps first, e.g. "
        f"ds.dt.tz_convert('UTC')"
    )


def _zone_label(tz) -> str:
    if tz is None:
        return "no time zone (naive)"
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return key if isinstance(key, str) else str(tz)


def uses_wall_clock(freq: BaseOffset | None, tz: str | None) -> bool:
    """Whether steps of ``freq`` are taken on the zone's wall clock rather than in UTC.

    Fixed durations shorter than a day (hours, minutes...) step in UTC; days and calendar
    offsets step on the wall clock. Without a zone, UTC and the wall clock are the same.
    """
    if tz is None or freq is None:
        return False
    return not isinstance(freq, pd.offsets.Tick) or isinstance(freq, pd.offsets.Day)


def to_wall_clock(times: np.ndarray, tz: str | None) -> np.ndarray:
    """Naive UTC stamps as naive wall-clock stamps of ``tz``, same shape, ``datetime64[ns]``."""
    times = np.asarray(times, dtype="datetime64[ns]")
    if tz is None:
        return times
    flat = pd.DatetimeIndex(times.ravel()).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    return flat.values.astype("datetime64[ns]").reshape(times.shape)


def from_wall_clock(times: np.ndarray, tz: str | None) -> np.ndarray:
    """Naive wall-clock stamps of ``tz`` as naive UTC stamps, same shape, ``datetime64[ns]``.

    A wall-clock time skipped by a daylight-saving change moves forward to the first valid
    time; one that occurs twice is read as the first (daylight-saving) occurrence.
    """
    times = np.asarray(times, dtype="datetime64[ns]")
    if tz is None:
        return times
    flat = pd.DatetimeIndex(times.ravel())
    aware = flat.tz_localize(
        tz, ambiguous=np.ones(len(flat), dtype=bool), nonexistent="shift_forward"
    )
    return aware.tz_convert(None).values.astype("datetime64[ns]").reshape(times.shape)


def to_zone(times: np.ndarray, tz: str | None) -> pd.DatetimeIndex:
    """Naive UTC stamps of shape (n,) as a DatetimeIndex in ``tz`` (naive when ``tz`` is None)."""
    index = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"))
    return index if tz is None else index.tz_localize("UTC").tz_convert(tz)
