"""Input frames: checks, and the conversion of user data to and from a :class:`Panel`.

forecastkit accepts three shapes of input:

* a ``pd.Series`` indexed by a ``DatetimeIndex``, a ``PeriodIndex`` or integers (one series);
* a *long* ``pd.DataFrame`` with one row per observation and columns ``unique_id, ds, y``
  (the names are configurable);
* a *wide* ``pd.DataFrame`` with one column per series and the time stamps as its index
  (leading and trailing NaN are taken as "not observed yet / any more", so series of
  different lengths fit one frame).

All of them become a :class:`Panel`: every series' values in one contiguous float64 array with
offsets (``indptr``), the layout statsforecast calls a grouped array. Hot loops work on this array
and never on per-series DataFrames. Output frames mirror the input: a Series in, a Series out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from forecastkit.exceptions import (
    DuplicateTimestampError,
    EmptyDataError,
    FrequencyError,
    InvalidInputError,
    MissingValuesError,
    NonNumericError,
    SeriesTooShortError,
    UnsortedTimestampError,
)

__all__ = ["Panel", "to_panel", "from_panel_values", "check_min_length"]

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
        Time stamps matching ``values``: ``datetime64[ns]`` or ``int64``.
    index_kind : {"datetime", "period", "integer"}
        What the time stamps were in the input; output uses the same kind.
    freq : pandas.DateOffset or None
        Frequency of datetime/period stamps; ``None`` for integer stamps.
    step : int
        Step between integer stamps (1 unless the input says otherwise).
    input_kind : {"series", "long", "wide"}
        The shape of the input, so that output can mirror it.
    id_col, time_col, target_col : str
        Column names of long input (and long output).
    name : hashable
        ``pd.Series.name`` of a single-series input.
    """

    ids: np.ndarray
    indptr: np.ndarray
    values: np.ndarray
    times: np.ndarray
    index_kind: IndexKind = "integer"
    freq: pd.DateOffset | None = None
    step: int = 1
    input_kind: InputKind = "long"
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str = "y"
    name: object = None
    period_freq: str | None = None

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
        return self.times[self.indptr[i] : self.indptr[i + 1]]

    def __iter__(self):
        for i in range(self.n_series):
            yield self.ids[i], self.series(i)

    @property
    def last_times(self) -> np.ndarray:
        """Last time stamp of each series, shape (n_series,)."""
        return self.times[self.indptr[1:] - 1]

    def future_times(self, horizon: int) -> np.ndarray:
        """Time stamps of the ``horizon`` steps after each series' end.

        Returns an array of shape (n_series, horizon).
        """
        steps = np.arange(1, horizon + 1)
        last = self.last_times
        if self.index_kind == "integer":
            return last[:, None] + self.step * steps[None, :]
        freq = self.freq
        if isinstance(freq, pd.offsets.Tick):
            delta = np.timedelta64(pd.Timedelta(freq).value, "ns")
            return last[:, None] + delta * steps[None, :]
        # Calendar offsets (month end, week anchored...) are not fixed durations.
        out = np.empty((len(last), horizon), dtype="datetime64[ns]")
        cache: dict[np.datetime64, np.ndarray] = {}
        for i, t in enumerate(last):
            if t not in cache:
                rng = pd.date_range(start=pd.Timestamp(t), periods=horizon + 1, freq=freq)
                cache[t] = rng[1:].values
            out[i] = cache[t]
        return out

    def take(self, index: Sequence[int] | np.ndarray) -> Panel:
        """A panel of the series at positions ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        pos = np.concatenate(
            [np.arange(self.indptr[i], self.indptr[i + 1]) for i in index] or [np.array([], int)]
        )
        return replace(
            self, ids=self.ids[index], indptr=indptr, values=self.values[pos], times=self.times[pos]
        )

    def drop_last(self, n: int | np.ndarray) -> Panel:
        """The panel without the last ``n`` observations of each series.

        Parameters
        ----------
        n : int or ndarray of shape (n_series,)
            How many observations to cut from the end of each series.
        """
        n = np.broadcast_to(np.asarray(n, dtype=np.int64), (self.n_series,))
        keep = self.lengths - n
        short = np.flatnonzero(keep < 1)
        if len(short):
            i = short[0]
            raise SeriesTooShortError(
                f"series {self.ids[i]!r} has {self.lengths[i]} observations; cannot hold out "
                f"{n[i]} of them and keep any for training"
            )
        indptr = np.concatenate([[0], np.cumsum(keep)]).astype(np.int64)
        mask = np.ones(len(self.values), dtype=bool)
        for i in range(self.n_series):
            mask[self.indptr[i] + keep[i] : self.indptr[i + 1]] = False
        return replace(self, indptr=indptr, values=self.values[mask], times=self.times[mask])

    def last(self, n: int) -> np.ndarray:
        """The last ``n`` values of each series, shape (n_series, n); needs length >= n."""
        check_min_length(self, n, what="the requested tail")
        pos = self.indptr[1:, None] - n + np.arange(n)[None, :]
        return self.values[pos]

    def to_long(self, value_col: str | None = None) -> pd.DataFrame:
        """The panel as a long DataFrame ``id_col, time_col, value_col``."""
        ids = np.repeat(self.ids, self.lengths)
        return pd.DataFrame(
            {
                self.id_col: ids,
                self.time_col: self._time_values(self.times),
                value_col or self.target_col: self.values,
            }
        )

    def _time_values(self, times: np.ndarray):
        if self.index_kind == "period":
            return pd.DatetimeIndex(times).to_period(self.period_freq)
        return times


# --------------------------------------------------------------------------- input


def to_panel(
    y,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
) -> Panel:
    """Check user data and convert it to a :class:`Panel`.

    Parameters
    ----------
    y : pd.Series, pd.DataFrame or Panel
        One series (a Series), a long frame with ``id_col, time_col, target_col`` or a wide
        frame (one column per series, time stamps as index).
    id_col, time_col, target_col : str
        Column names of a long frame.

    Returns
    -------
    Panel

    Raises
    ------
    ForecastkitError
        A subclass naming the series and the problem: empty data, NaN/inf, non-numeric values,
        duplicate or unsorted time stamps, irregular or mixed frequency.
    """
    if isinstance(y, Panel):
        return y
    if isinstance(y, pd.Series):
        return _from_series(y)
    if isinstance(y, pd.DataFrame):
        if id_col in y.columns or time_col in y.columns or target_col in y.columns:
            missing = [c for c in (id_col, time_col, target_col) if c not in y.columns]
            if missing:
                raise InvalidInputError(
                    f"long DataFrame is missing column(s) {missing}; expected columns "
                    f"{[id_col, time_col, target_col]} (names are set with id_col/time_col/"
                    f"target_col)"
                )
            return _from_long(y, id_col, time_col, target_col)
        return _from_wide(y, id_col, time_col, target_col)
    if isinstance(y, np.ndarray | list | tuple):
        raise InvalidInputError(
            "forecastkit takes a pd.Series or a pd.DataFrame, not a bare array: wrap it with "
            "pd.Series(values) to get an integer time index"
        )
    raise InvalidInputError(f"expected a pd.Series or pd.DataFrame, got {type(y).__name__}")


def _from_series(y: pd.Series) -> Panel:
    sid = y.name if y.name is not None else "series"
    if len(y) == 0:
        raise EmptyDataError(f"series {sid!r} is empty")
    values = _numeric_values(y.to_numpy(), sid)
    kind, times, freq, step = _index_times(y.index, sid)
    _check_values(values, sid, times)
    _check_times(times, sid)
    freq, step = _check_frequency([times], [sid], kind, freq, step)
    return Panel(
        ids=np.array([sid], dtype=object),
        indptr=np.array([0, len(values)], dtype=np.int64),
        values=values,
        times=times,
        index_kind=kind,
        freq=freq,
        step=step,
        input_kind="series",
        name=y.name,
        period_freq=_period_freqstr(y.index),
    )


def _from_long(df: pd.DataFrame, id_col: str, time_col: str, target_col: str) -> Panel:
    if len(df) == 0:
        raise EmptyDataError("the DataFrame has no rows")
    # A stable sort by id keeps each series' rows in the order given, so an unsorted series is
    # still detected below rather than silently reordered.
    ids_raw = df[id_col].to_numpy()
    if pd.isna(ids_raw).any():
        raise InvalidInputError(f"column {id_col!r} holds missing series ids")
    codes, uniques = pd.factorize(ids_raw, sort=False)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(uniques))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    ids = np.asarray(uniques, dtype=object)
    target = df[target_col]
    if not (pd.api.types.is_numeric_dtype(target) or target.dtype == object):
        raise NonNumericError(f"column {target_col!r} is not numeric (dtype {target.dtype})")
    raw = target.to_numpy()[order]
    time_index = pd.Index(df[time_col].to_numpy()[order])
    kind, times, freq, step = _index_times(time_index, None)
    values = np.empty(len(raw), dtype=np.float64)
    for i, sid in enumerate(ids):
        sl = slice(indptr[i], indptr[i + 1])
        values[sl] = _numeric_values(raw[sl], sid)
        _check_values(values[sl], sid, times[sl])
        _check_times(times[sl], sid)
    freq, step = _check_frequency(
        [times[indptr[i] : indptr[i + 1]] for i in range(len(ids))], ids, kind, freq, step
    )
    return Panel(
        ids=ids,
        indptr=indptr,
        values=values,
        times=times,
        index_kind=kind,
        freq=freq,
        step=step,
        input_kind="long",
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        period_freq=_period_freqstr(time_index),
    )


def _from_wide(df: pd.DataFrame, id_col: str, time_col: str, target_col: str) -> Panel:
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise EmptyDataError("the wide DataFrame has no rows or no columns")
    kind, all_times, freq, step = _index_times(df.index, None)
    _check_times(all_times, "<index>")
    pieces, time_pieces = [], []
    for col in df.columns:
        v = _numeric_values(df[col].to_numpy(), col)
        finite = np.flatnonzero(~np.isnan(v))
        if len(finite) == 0:
            raise EmptyDataError(f"series {col!r} has no observed values")
        # Leading/trailing NaN mark a series that starts late or ends early; NaN inside is missing.
        sl = slice(finite[0], finite[-1] + 1)
        _check_values(v[sl], col, all_times[sl])
        pieces.append(v[sl])
        time_pieces.append(all_times[sl])
    freq, step = _check_frequency(time_pieces, list(df.columns), kind, freq, step)
    lengths = [len(p) for p in pieces]
    return Panel(
        ids=np.asarray(list(df.columns), dtype=object),
        indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        values=np.concatenate(pieces),
        times=np.concatenate(time_pieces),
        index_kind=kind,
        freq=freq,
        step=step,
        input_kind="wide",
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        period_freq=_period_freqstr(df.index),
    )


def _period_freqstr(index: pd.Index) -> str | None:
    """The period alias (``"M"``, ``"Q-DEC"``...) of a PeriodIndex, so output can rebuild it."""
    return index.freqstr if isinstance(index, pd.PeriodIndex) else None


def _numeric_values(raw: np.ndarray, sid) -> np.ndarray:
    if raw.dtype == bool:
        raise NonNumericError(f"series {sid!r} holds booleans, not numbers")
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next((v for v in raw if not _is_number(v)), None)
        raise NonNumericError(
            f"series {sid!r} holds a non-numeric value {bad!r}; convert it with pd.to_numeric"
        ) from None


def _is_number(v) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _check_values(values: np.ndarray, sid, times: np.ndarray) -> None:
    if len(values) == 0:
        raise EmptyDataError(f"series {sid!r} is empty")
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "NaN" if np.isnan(values[i]) else "infinite"
        raise MissingValuesError(
            f"series {sid!r} has {int(bad.sum())} NaN/inf value(s); the first ({what}) is at "
            f"{_fmt_time(times[i])}. Fill or drop them before fitting"
        )


def _fmt_time(t) -> str:
    if isinstance(t, np.datetime64):
        return str(pd.Timestamp(t))
    return str(t)


def _index_times(index: pd.Index, sid) -> tuple[IndexKind, np.ndarray, pd.DateOffset | None, int]:
    """Time stamps as a numpy array, with their kind and any frequency the index declares."""
    where = f"series {sid!r}" if sid is not None else "the time column"
    if isinstance(index, pd.PeriodIndex):
        return "period", index.to_timestamp().values.astype("datetime64[ns]"), index.freq, 1
    if isinstance(index, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(index):
        dt = pd.DatetimeIndex(index)
        if dt.tz is not None:
            dt = dt.tz_convert(None)
        if dt.isna().any():
            raise InvalidInputError(f"{where} has missing time stamps (NaT)")
        freq = getattr(index, "freq", None)
        return "datetime", dt.values.astype("datetime64[ns]"), freq, 1
    if pd.api.types.is_integer_dtype(index):
        return "integer", np.asarray(index, dtype=np.int64), None, 1
    if pd.api.types.is_float_dtype(index) and np.all(np.mod(np.asarray(index), 1) == 0):
        return "integer", np.asarray(index, dtype=np.int64), None, 1
    raise InvalidInputError(
        f"{where} has time stamps of dtype {index.dtype}; use datetimes, periods or integers"
    )


def _check_times(times: np.ndarray, sid) -> None:
    if len(times) < 2:
        return
    d = np.diff(times)
    zero = np.flatnonzero(d == d.dtype.type(0))
    if len(zero):
        raise DuplicateTimestampError(
            f"series {sid!r} has duplicate time stamp {_fmt_time(times[zero[0]])}"
        )
    neg = np.flatnonzero(d < d.dtype.type(0))
    if len(neg):
        raise UnsortedTimestampError(
            f"series {sid!r} is not sorted by time: {_fmt_time(times[neg[0] + 1])} comes after "
            f"{_fmt_time(times[neg[0]])}; sort it (df.sort_values([id, ds])) first"
        )


def _check_frequency(time_list, ids, kind, declared, step):
    """Infer one frequency for the panel; irregular or mixed frequencies are errors."""
    if kind == "integer":
        steps = {}
        for sid, t in zip(ids, time_list, strict=True):
            if len(t) < 2:
                continue
            d = np.diff(t)
            if not np.all(d == d[0]):
                gap = int(np.flatnonzero(d != d[0])[0])
                raise FrequencyError(
                    f"series {sid!r} has irregular integer time steps: {t[gap]} -> {t[gap + 1]} "
                    f"after a step of {d[0]}; fill the missing steps first"
                )
            steps.setdefault(int(d[0]), sid)
        if len(steps) > 1:
            (s1, id1), (s2, id2) = list(steps.items())[:2]
            raise FrequencyError(
                f"mixed time steps: series {id1!r} steps by {s1}, series {id2!r} by {s2}"
            )
        return None, (next(iter(steps)) if steps else 1)
    found: dict[str, object] = {}
    for sid, t in zip(ids, time_list, strict=True):
        if len(t) < 3:
            continue
        alias = _infer_freq(pd.DatetimeIndex(t))
        if alias is None:
            raise FrequencyError(
                f"series {sid!r} has irregular time stamps (no frequency could be inferred); "
                f"resample it to a regular frequency first"
            )
        found.setdefault(alias, sid)
    if len(found) > 1:
        (f1, id1), (f2, id2) = list(found.items())[:2]
        raise FrequencyError(
            f"mixed frequencies: series {id1!r} is {f1!r} and series {id2!r} is {f2!r}; "
            f"one model needs one frequency"
        )
    if found:
        freq = pd.tseries.frequencies.to_offset(next(iter(found)))
    elif declared is not None:
        freq = pd.tseries.frequencies.to_offset(declared)
    else:
        raise FrequencyError(
            "cannot infer a frequency: every series has fewer than 3 time stamps; pass a series "
            "with a DatetimeIndex that declares its freq"
        )
    return freq, step


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
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


# --------------------------------------------------------------------------- output


def from_panel_values(panel: Panel, values: np.ndarray, value_col: str = "y_pred"):
    """Forecasts for each series of ``panel`` as a frame that mirrors the input.

    Parameters
    ----------
    panel : Panel
        The (training) panel the forecasts continue.
    values : ndarray of shape (n_series, horizon)
        Forecasts in the original units.
    value_col : str
        Name of the value column of long output.

    Returns
    -------
    pd.Series or pd.DataFrame
        A Series indexed by the future time stamps for series input, a long DataFrame
        ``id_col, time_col, value_col`` otherwise.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != panel.n_series:
        raise InvalidInputError(
            f"expected forecasts of shape (n_series={panel.n_series}, horizon), got {values.shape}"
        )
    horizon = values.shape[1]
    future = panel.future_times(horizon)
    if panel.input_kind == "series":
        index = _output_index(panel, future[0])
        return pd.Series(values[0], index=index, name=panel.name)
    return pd.DataFrame(
        {
            panel.id_col: np.repeat(panel.ids, horizon),
            panel.time_col: _output_index(panel, future.ravel()),
            value_col: values.ravel(),
        }
    )


def _output_index(panel: Panel, times: np.ndarray) -> pd.Index:
    if panel.index_kind == "integer":
        return pd.Index(times.astype(np.int64))
    dt = pd.DatetimeIndex(times)
    if panel.index_kind == "period":
        return dt.to_period(panel.period_freq)
    if panel.input_kind == "series":
        return pd.DatetimeIndex(dt, freq=panel.freq)
    return dt
