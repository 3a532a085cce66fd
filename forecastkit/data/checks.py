"""Checks of a grouped array's values and time stamps, vectorised over all series at once.

The arrays are laid out as in :class:`~forecastkit.data.panel.Panel`: series after series, series
``i`` at ``indptr[i]:indptr[i + 1]``. Each check scans the whole array with NumPy and returns the
first problem it finds as ``(series_position, error)``, or ``None``; :func:`raise_first` raises the
problem of the earliest series, so a message names the first offending series in storage order
whichever check found it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecastkit.exceptions import (
    DuplicateTimestampError,
    ForecastkitError,
    MissingValuesError,
    NonNumericError,
    UnsortedTimestampError,
)

__all__ = [
    "Problem",
    "Ids",
    "raise_first",
    "series_of",
    "within_series",
    "numeric_values",
    "find_nonfinite",
    "find_bad_times",
    "format_time",
]

Problem = tuple[int, ForecastkitError]
Ids = Sequence[Any] | np.ndarray  # series ids, shape (n_series,)


def raise_first(*problems: Problem | None) -> None:
    """Raise the error of the earliest series; on a tie, the problem listed first."""
    found = [p for p in problems if p is not None]
    if found:
        raise min(found, key=lambda p: p[0])[1]


def series_of(indptr: np.ndarray, pos):
    """Series holding flat position(s) ``pos`` (empty series hold none)."""
    return np.searchsorted(indptr, pos, side="right") - 1


def within_series(indptr: np.ndarray) -> np.ndarray:
    """Which of the ``n_obs - 1`` consecutive differences stay inside one series.

    Returns
    -------
    ndarray of shape (n_obs - 1,), bool
        ``False`` at ``k`` when positions ``k`` and ``k + 1`` belong to different series.
    """
    n_obs = int(indptr[-1])
    inside = np.ones(max(n_obs - 1, 0), dtype=bool)
    starts = indptr[1:-1]
    inside[starts[(starts > 0) & (starts < n_obs)] - 1] = False
    return inside


def numeric_values(
    raw: np.ndarray, indptr: np.ndarray, ids: Ids
) -> tuple[np.ndarray, Problem | None]:
    """Values as float64; a non-numeric entry is reported and read as 0 so other checks go on.

    Parameters
    ----------
    raw : ndarray of shape (n_obs,)
    indptr : ndarray of shape (n_series + 1,)
    ids : sequence of shape (n_series,)

    Returns
    -------
    values : ndarray of shape (n_obs,), float64
    problem : (int, NonNumericError) or None
    """
    if raw.dtype == bool:
        first = int(series_of(indptr, 0))
        return np.zeros(len(raw)), (
            first, NonNumericError(f"series {ids[first]!r} holds booleans, not numbers")
        )
    try:
        return np.asarray(raw, dtype=np.float64), None
    except (TypeError, ValueError):
        pass
    # Only on failure: find the culprit element by element.
    ok = np.fromiter((_is_number(v) for v in raw), dtype=bool, count=len(raw))
    values = np.zeros(len(raw))
    values[ok] = [float(v) for v in raw[ok]]
    pos = int(np.flatnonzero(~ok)[0])
    i = int(series_of(indptr, pos))
    return values, (
        i,
        NonNumericError(
            f"series {ids[i]!r} holds a non-numeric value {raw[pos]!r}; convert it with "
            f"pd.to_numeric"
        ),
    )


def _is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def find_nonfinite(
    values: np.ndarray, times: np.ndarray, indptr: np.ndarray, ids: Ids, tz: str | None = None
) -> Problem | None:
    """The first series holding NaN or inf, with how many it holds and where the first is.

    Parameters
    ----------
    values, times : ndarray of shape (n_obs,)
    indptr : ndarray of shape (n_series + 1,)
    ids : sequence of shape (n_series,)
    tz : str, optional
        Time zone of the input (``times`` are then UTC); messages show stamps in it.
    """
    finite = np.isfinite(values)
    if finite.all():
        return None
    pos = int(np.argmin(finite))
    i = int(series_of(indptr, pos))
    count = int(np.count_nonzero(~finite[indptr[i] : indptr[i + 1]]))
    what = "NaN" if np.isnan(values[pos]) else "infinite"
    return i, MissingValuesError(
        f"series {ids[i]!r} has {count} NaN/inf value(s); the first ({what}) is at "
        f"{format_time(times[pos], tz)}. Fill or drop them before fitting "
        f"(forecastkit.data.fill_missing interpolates them)"
    )


def find_bad_times(
    times: np.ndarray, indptr: np.ndarray, ids: Ids, tz: str | None = None
) -> Problem | None:
    """The first series with a repeated or a decreasing time stamp.

    Within one series a duplicate is reported before a decrease, wherever each occurs.

    Parameters
    ----------
    times : ndarray of shape (n_obs,), int64 or datetime64[ns]
    indptr : ndarray of shape (n_series + 1,)
    ids : sequence of shape (n_series,)
    tz : str, optional
        Time zone of the input (``times`` are then UTC); messages show stamps in it.
    """
    if len(times) < 2:
        return None
    d = np.diff(times)
    zero_dt = d.dtype.type(0)
    inside = within_series(indptr)
    dup = np.flatnonzero((d == zero_dt) & inside)
    back = np.flatnonzero((d < zero_dt) & inside)
    dup_series = int(series_of(indptr, dup[0])) if len(dup) else None
    back_series = int(series_of(indptr, back[0])) if len(back) else None
    if dup_series is not None and (back_series is None or dup_series <= back_series):
        return dup_series, DuplicateTimestampError(
            f"series {ids[dup_series]!r} has duplicate time stamp "
            f"{format_time(times[dup[0]], tz)}"
        )
    if back_series is not None:
        k = back[0]
        return back_series, UnsortedTimestampError(
            f"series {ids[back_series]!r} is not sorted by time: "
            f"{format_time(times[k + 1], tz)} comes after {format_time(times[k], tz)}; sort it "
            f"(df.sort_values([id, ds])) first"
        )
    return None


def format_time(t, tz: str | None = None) -> str:
    """A time stamp as a message shows it (``2020-01-05 00:00:00`` or ``17``); a UTC stamp of
    a zone's input as that zone's time (``2021-03-28 03:00:00+02:00``)."""
    if isinstance(t, np.datetime64):
        stamp = pd.Timestamp(t)
        return str(stamp if tz is None else stamp.tz_localize("UTC").tz_convert(tz))
    return str(t)
