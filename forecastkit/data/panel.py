"""The :class:`Panel`: many series in one contiguous array with offsets.

Every series' values sit in one float64 array, series after series, with offsets (``indptr``): the
layout statsforecast calls a grouped array. Hot loops work on this array and never on per-series
DataFrames; cutting the panel in time (:meth:`Panel.slice`, :meth:`Panel.values_after`) gathers
positions computed for all series at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from forecastkit.data.covariates import Covariates
from forecastkit.data.timezones import from_wall_clock, to_wall_clock, to_zone, uses_wall_clock
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError

__all__ = ["Panel", "check_min_length"]

IndexKind = Literal["datetime", "period", "integer"]
InputKind = Literal["series", "long", "wide"]


@dataclass(frozen=True)
class Panel:
    """Many series in one contiguous array with offsets.

    Attributes
    ----------
    ids : ndarray of shape (n_series,)
        Series identifiers, in the order the series are stored.
    indptr : ndarray of shape (n_series + 1,), int64
        Series ``i`` is ``values[indptr[i]:indptr[i + 1]]``.
    values : ndarray of shape (n_obs,), float64
        All observations, series after series, each in time order.
    times : ndarray of shape (n_obs,)
        Time stamps matching ``values``: ``datetime64[ns]`` (naive; UTC when ``tz`` is set) or
        ``int64``.
    index_kind : {"datetime", "period", "integer"}
        What the time stamps were in the input; output uses the same kind.
    freq : pandas offset or None
        Frequency of datetime/period stamps; ``None`` for integer stamps.
    step : int
        Step between integer stamps (1 unless the input says otherwise).
    input_kind : {"series", "long", "wide"}
        The shape of the input, so that output can mirror it.
    id_col, time_col, target_col : str
        Column names of long input (and long output).
    name : hashable
        ``pd.Series.name`` of a single-series input.
    period_freq : str or None
        The period alias (``"M"``, ``"Q-DEC"``...) of period input, so output can rebuild it.
    covariates : forecastkit.data.covariates.Covariates or None
        Covariate arrays aligned with the series (set by forecasters that read covariates);
        :meth:`take` and :meth:`slice` cut them with the series (dropping any future part).
    tz : str or None
        Time zone of tz-aware datetime input (``"Europe/Berlin"``): :attr:`times` hold UTC and
        output is converted back to this zone. Hours and shorter steps are counted in UTC,
        days and calendar steps on the zone's wall clock (see
        :mod:`forecastkit.data.timezones`).
    """

    ids: np.ndarray
    indptr: np.ndarray
    values: np.ndarray
    times: np.ndarray
    index_kind: IndexKind = "integer"
    freq: BaseOffset | None = None
    step: int = 1
    input_kind: InputKind = "long"
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"
    name: object = None
    period_freq: str | None = None
    tz: str | None = None
    covariates: Covariates | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ series access

    @property
    def n_series(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """Length of each series, shape (n_series,)."""
        return np.diff(self.indptr)

    def series(self, i: int) -> np.ndarray:
        """Values of series ``i`` (a view), shape (length_i,)."""
        return self.values[self.indptr[i] : self.indptr[i + 1]]

    def series_times(self, i: int) -> np.ndarray:
        """Time stamps of series ``i`` (a view), shape (length_i,)."""
        return self.times[self.indptr[i] : self.indptr[i + 1]]

    def __iter__(self):
        for i in range(self.n_series):
            yield self.ids[i], self.series(i)

    @property
    def last_times(self) -> np.ndarray:
        """Last time stamp of each series, shape (n_series,)."""
        return self.times[self.indptr[1:] - 1]

    def last(self, n: int) -> np.ndarray:
        """The last ``n`` values of each series, shape (n_series, n); needs length >= n."""
        check_min_length(self, n, what="the requested tail")
        pos = self.indptr[1:, None] - n + np.arange(n)[None, :]
        return self.values[pos]

    # ------------------------------------------------------------------ selecting and cutting

    def take(self, index: Sequence[int] | np.ndarray) -> Panel:
        """A panel of the series at positions ``index`` (in that order).

        Parameters
        ----------
        index : sequence of int, shape (n_taken,)
        """
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        pos = _run_positions(self.indptr[:-1][index], lengths)
        return replace(
            self,
            ids=self.ids[index],
            indptr=_offsets(lengths),
            values=self.values[pos],
            times=self.times[pos],
            covariates=None if self.covariates is None else self.covariates.rows(pos, index),
        )

    def slice(self, start: int | np.ndarray, end: int | np.ndarray) -> Panel:
        """The panel with series ``i`` cut to its positions ``start[i]:end[i]``.

        Positions count within each series, from 0 at its first observation.

        Parameters
        ----------
        start, end : int or ndarray of shape (n_series,)
            ``0 <= start < end <= length`` for every series.

        Returns
        -------
        Panel
            Same series, ids and metadata; series ``i`` has ``end[i] - start[i]`` observations.

        Raises
        ------
        InvalidInputError
            Naming the first series whose range is empty or outside it.
        """
        start = self._per_series(start)
        end = self._per_series(end)
        bad = np.flatnonzero((start < 0) | (end <= start) | (end > self.lengths))
        if len(bad):
            i = bad[0]
            raise InvalidInputError(
                f"series {self.ids[i]!r} has {self.lengths[i]} observations; cannot cut it to "
                f"positions {start[i]}:{end[i]}"
            )
        keep = end - start
        pos = _run_positions(self.indptr[:-1] + start, keep)
        return replace(
            self, indptr=_offsets(keep), values=self.values[pos], times=self.times[pos],
            covariates=None if self.covariates is None else self.covariates.rows(pos),
        )

    def drop_last(self, n: int | np.ndarray) -> Panel:
        """The panel without the last ``n`` observations of each series.

        Parameters
        ----------
        n : int or ndarray of shape (n_series,)
            How many observations to cut from the end of each series.

        Raises
        ------
        SeriesTooShortError
            Naming the first series that would keep no observation.
        """
        n = self._per_series(n)
        keep = self.lengths - n
        short = np.flatnonzero(keep < 1)
        if len(short):
            i = short[0]
            raise SeriesTooShortError(
                f"series {self.ids[i]!r} has {self.lengths[i]} observations; cannot hold out "
                f"{n[i]} of them and keep any for training"
            )
        return self.slice(0, keep)

    def values_after(self, end: int | np.ndarray, horizon: int) -> np.ndarray:
        """Values at positions ``end[i]:end[i] + horizon`` of each series.

        Parameters
        ----------
        end : int or ndarray of shape (n_series,)
            Position within each series where the block starts (a training part's end).
        horizon : int
            Length of the block.

        Returns
        -------
        ndarray of shape (n_series, horizon)
        """
        return self.values[self._block_positions(end, horizon)]

    def times_after(self, end: int | np.ndarray, horizon: int) -> np.ndarray:
        """Time stamps matching :meth:`values_after`, shape (n_series, horizon)."""
        return self.times[self._block_positions(end, horizon)]

    def _block_positions(self, end, horizon: int) -> np.ndarray:
        end = self._per_series(end)
        bad = np.flatnonzero((end < 0) | (end + horizon > self.lengths))
        if len(bad):
            i = bad[0]
            raise SeriesTooShortError(
                f"series {self.ids[i]!r} has {self.lengths[i]} observations; positions "
                f"{end[i]}:{end[i] + horizon} are outside it"
            )
        return self.indptr[:-1, None] + end[:, None] + np.arange(horizon)[None, :]

    def _per_series(self, x: int | np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=np.int64), (self.n_series,))

    # ------------------------------------------------------------------ time stamps

    def future_times(self, horizon: int) -> np.ndarray:
        """Time stamps of the ``horizon`` steps after each series' end.

        Returns
        -------
        ndarray of shape (n_series, horizon)
            In the panel's own representation (``int64`` or ``datetime64[ns]``, UTC for a
            panel with a time zone).
        """
        steps = np.arange(1, horizon + 1)
        last = self.last_times
        if self.index_kind == "integer":
            return last[:, None] + self.step * steps[None, :]
        if uses_wall_clock(self.freq, self.tz):
            # A day after midnight is midnight, whatever daylight saving does in between.
            wall = _steps_after(to_wall_clock(last, self.tz), self.freq, horizon)
            return from_wall_clock(wall, self.tz)
        return _steps_after(last, self.freq, horizon)

    def to_time_index(self, times: np.ndarray, *, with_freq: bool = False) -> pd.Index:
        """Time stamps of this panel as pandas output values, of the kind the input had.

        Parameters
        ----------
        times : ndarray of shape (n,)
            Stamps in the panel's representation (``int64`` or ``datetime64[ns]``), such as
            slices of :attr:`times` or of :meth:`future_times`.
        with_freq : bool, default=False
            Attach the panel's frequency to a datetime index (``times`` must then be regular at
            it), as the index of a Series output has.

        Returns
        -------
        pd.Index of shape (n,)
            ``int64`` for integer input, a ``PeriodIndex`` of :attr:`period_freq` for period
            input, a ``DatetimeIndex`` otherwise (in :attr:`tz` when the input had a zone).
        """
        if self.index_kind == "integer":
            return pd.Index(np.asarray(times).astype(np.int64))
        if self.index_kind == "period":
            return pd.DatetimeIndex(times).to_period(self.period_freq)
        dt = to_zone(times, self.tz)
        if not (with_freq and self.freq is not None):
            return dt
        try:
            return pd.DatetimeIndex(dt, freq=self.freq)
        except ValueError:
            # A wall-clock time skipped by daylight saving was moved off the grid: no freq.
            return dt

    def from_time_values(self, column) -> np.ndarray:
        """Output time stamps back in the panel's representation; undoes :meth:`to_time_index`.

        Parameters
        ----------
        column : pd.Series, pd.Index or array-like of shape (n,)
            Integers, periods or datetimes, as :meth:`to_time_index` writes them. Aware
            datetimes may be in any zone (text with UTC offsets too); naive ones are read as UTC,
            or as wall-clock times of :attr:`tz` when the panel has a zone.

        Returns
        -------
        ndarray of shape (n,)
            ``int64`` or ``datetime64[ns]`` (a period by its start, an aware stamp in UTC).
        """
        if self.index_kind == "integer":
            return np.asarray(column, dtype=np.int64)
        if self.index_kind == "period":
            return pd.PeriodIndex(column).to_timestamp().values.astype("datetime64[ns]")
        try:
            dt = pd.DatetimeIndex(column)
        except (TypeError, ValueError):  # pandas 2 raises TypeError, pandas 3 ValueError
            # Stamps with different UTC offsets (one zone across a DST change, read as text)
            dt = pd.DatetimeIndex(pd.to_datetime(pd.Index(column), utc=True))
        if dt.tz is not None:
            return dt.tz_convert(None).values.astype("datetime64[ns]")
        return from_wall_clock(dt.values, self.tz)

    def to_long(self, value_col: str | None = None) -> pd.DataFrame:
        """The panel as a long DataFrame ``id_col, time_col, value_col``."""
        return pd.DataFrame(
            {
                self.id_col: np.repeat(self.ids, self.lengths),
                self.time_col: self.to_time_index(self.times),
                value_col or self.target_col: self.values,
            }
        )


def _steps_after(last: np.ndarray, freq: BaseOffset | None, horizon: int) -> np.ndarray:
    """The ``horizon`` stamps of ``freq`` after each naive stamp of ``last``.

    Parameters
    ----------
    last : ndarray of shape (n_series,), datetime64[ns]

    Returns
    -------
    ndarray of shape (n_series, horizon), datetime64[ns]
    """
    steps = np.arange(1, horizon + 1)
    if isinstance(freq, pd.offsets.Tick | pd.offsets.Day):  # fixed durations on naive stamps
        delta = pd.Timedelta(freq).to_timedelta64()  # type: ignore[arg-type]
        return last[:, None] + delta * steps[None, :]
    # Calendar offsets (month end, week anchored...) are not fixed durations: one date range
    # per distinct end, which a panel of series ending together has few of.
    ends, inverse = np.unique(last, return_inverse=True)
    rows = np.empty((len(ends), horizon), dtype="datetime64[ns]")
    for k, t in enumerate(ends):
        rows[k] = pd.date_range(start=pd.Timestamp(t), periods=horizon + 1, freq=freq)[1:]
    return rows[inverse.reshape(-1)]


def check_min_length(panel: Panel, min_length: int, what: str = "the model") -> None:
    """Raise :class:`SeriesTooShortError` naming the first series shorter than ``min_length``."""
    short = np.flatnonzero(panel.lengths < min_length)
    if len(short):
        i = short[0]
        more = f" (and {len(short) - 1} more)" if len(short) > 1 else ""
        raise SeriesTooShortError(
            f"series {panel.ids[i]!r} has {panel.lengths[i]} observations but {what} needs at "
            f"least {min_length}{more}"
        )


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """``indptr`` of series of these lengths, shape (n_series + 1,)."""
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _run_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flat positions of the runs ``starts[i]:starts[i] + lengths[i]``, run after run."""
    lengths = np.asarray(lengths, dtype=np.int64)
    shift = np.asarray(starts, dtype=np.int64) - _offsets(lengths)[:-1]
    return np.repeat(shift, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)
