"""User frames to and from a :class:`~forecastkit.data.panel.Panel`.

forecastkit accepts three shapes of input:

* a ``pd.Series`` indexed by a ``DatetimeIndex``, a ``PeriodIndex`` or integers (one series);
* a *long* ``pd.DataFrame`` with one row per observation and columns ``unique_id, ds, y``
  (the names are configurable);
* a *wide* ``pd.DataFrame`` with one column per series and the time stamps as its index
  (leading and trailing NaN are taken as "not observed yet / any more", so series of
  different lengths fit one frame).

All of them become a :class:`Panel` in one pass over contiguous arrays: a long frame is grouped
by series once (a stable sort, so an unsorted series is reported rather than reordered), then
every check runs over the whole array (:mod:`forecastkit.data.checks`,
:mod:`forecastkit.data.frequency`) and names the first offending series. Output frames mirror
the input: a Series in, a Series out, and time stamps in the input's time zone (a panel holds one
zone; :mod:`forecastkit.data.timezones`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from forecastkit.data.checks import find_bad_times, find_nonfinite, numeric_values, raise_first
from forecastkit.data.frequency import panel_frequency
from forecastkit.data.missing import trim_leading_missing
from forecastkit.data.panel import IndexKind, Panel, check_min_length
from forecastkit.data.timezones import find_mixed_zones, zone_name
from forecastkit.exceptions import EmptyDataError, InvalidInputError, NonNumericError

__all__ = ["Panel", "to_panel", "from_panel_values", "check_min_length"]


# --------------------------------------------------------------------------- input


def to_panel(
    y,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    allow_missing: bool = False,
) -> Panel:
    """Check user data and convert it to a :class:`Panel`.

    Parameters
    ----------
    y : pd.Series, pd.DataFrame or Panel
        One series (a Series), a long frame with ``id_col, time_col, target_col`` or a wide
        frame (one column per series, time stamps as index).
    id_col, time_col, target_col : str
        Column names of a long frame.
    allow_missing : bool, default=False
        Keep NaN values (missing observations) instead of refusing them: each series' leading
        NaN are dropped (it starts late), the others stay NaN in the panel. Infinite values
        and a series with no observed value are still errors.

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
    panel = _to_panel(y, id_col, time_col, target_col, allow_missing)
    return trim_leading_missing(panel) if allow_missing else panel


def _to_panel(y, id_col: str, time_col: str, target_col: str, allow_missing: bool) -> Panel:
    if isinstance(y, pd.Series):
        return _from_series(y, allow_missing)
    if isinstance(y, pd.DataFrame):
        if id_col in y.columns or time_col in y.columns or target_col in y.columns:
            missing = [c for c in (id_col, time_col, target_col) if c not in y.columns]
            if missing:
                raise InvalidInputError(
                    f"long DataFrame is missing column(s) {missing}; expected columns "
                    f"{[id_col, time_col, target_col]} (names are set with id_col/time_col/"
                    f"target_col)"
                )
            return _from_long(y, id_col, time_col, target_col, allow_missing)
        return _from_wide(y, id_col, time_col, target_col, allow_missing)
    if isinstance(y, np.ndarray | list | tuple):
        raise InvalidInputError(
            "forecastkit takes a pd.Series or a pd.DataFrame, not a bare array: wrap it with "
            "pd.Series(values) to get an integer time index"
        )
    raise InvalidInputError(f"expected a pd.Series or pd.DataFrame, got {type(y).__name__}")


def _from_series(y: pd.Series, allow_missing: bool) -> Panel:
    sid = y.name if y.name is not None else "series"
    if len(y) == 0:
        raise EmptyDataError(f"series {sid!r} is empty")
    ids = np.array([sid], dtype=object)
    indptr = np.array([0, len(y)], dtype=np.int64)
    values, problem = numeric_values(y.to_numpy(), indptr, ids)
    raise_first(problem, find_mixed_zones(y.index, indptr, ids))
    kind, times, declared, tz = _index_times(y.index, sid)
    raise_first(
        _nonfinite(values, times, indptr, ids, tz, allow_missing),
        find_bad_times(times, indptr, ids, tz),
    )
    freq, step = panel_frequency(times, indptr, ids, kind, declared, tz)
    return Panel(
        ids=ids,
        indptr=indptr,
        values=values,
        times=times,
        index_kind=kind,
        freq=freq,
        step=step,
        input_kind="series",
        name=y.name,
        period_freq=_period_freqstr(y.index),
        tz=tz,
    )


def _from_long(df: pd.DataFrame, id_col: str, time_col: str, target_col: str,
               allow_missing: bool) -> Panel:
    if len(df) == 0:
        raise EmptyDataError("the DataFrame has no rows")
    codes, uniques = pd.factorize(df[id_col], sort=False)  # a Categorical stays codes
    if (codes < 0).any():
        raise InvalidInputError(f"column {id_col!r} holds missing series ids")
    ids = np.asarray(uniques, dtype=object)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(ids)))])
    # Codes number the series in order of first appearance, so input already grouped by series
    # needs no reordering. Otherwise a stable sort keeps each series' rows in the order given, so
    # an unsorted series is reported below rather than silently reordered.
    order = None if (np.diff(codes) >= 0).all() else np.argsort(codes, kind="stable")
    target = df[target_col]
    if not (pd.api.types.is_numeric_dtype(target) or target.dtype == object):
        raise NonNumericError(f"column {target_col!r} is not numeric (dtype {target.dtype})")
    raw = target.to_numpy()
    stamps = df[time_col]
    # An object column may still hold periods or datetimes: let pd.Index infer them.
    time_index = pd.Index(stamps.to_numpy() if stamps.dtype == object else stamps)
    if order is not None:
        raw, time_index = raw[order], time_index[order]
    raise_first(find_mixed_zones(time_index, indptr, ids))
    kind, times, declared, tz = _index_times(time_index, None)
    values, problem = numeric_values(raw, indptr, ids)
    raise_first(
        problem,
        _nonfinite(values, times, indptr, ids, tz, allow_missing),
        find_bad_times(times, indptr, ids, tz),
    )
    freq, step = panel_frequency(times, indptr, ids, kind, declared, tz)
    return Panel(
        ids=ids,
        indptr=indptr.astype(np.int64),
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
        tz=tz,
    )


def _from_wide(df: pd.DataFrame, id_col: str, time_col: str, target_col: str,
               allow_missing: bool) -> Panel:
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise EmptyDataError("the wide DataFrame has no rows or no columns")
    if df.columns.has_duplicates:
        dup = df.columns[df.columns.duplicated()][0]
        raise InvalidInputError(f"the wide DataFrame has more than one column {dup!r}")
    raise_first(find_mixed_zones(df.index, np.array([0, len(df)]), ["<index>"]))
    kind, all_times, declared, tz = _index_times(df.index, None)
    raise_first(find_bad_times(all_times, np.array([0, len(all_times)]), ["<index>"], tz))
    ids = np.asarray(list(df.columns), dtype=object)
    matrix, problem = _wide_values(df, ids)  # (n_times, n_series)
    # Leading/trailing NaN mark a series that starts late or ends early; NaN inside is missing.
    observed = ~np.isnan(matrix)
    has_any = observed.any(axis=0)
    first = observed.argmax(axis=0)
    last = len(all_times) - 1 - observed[::-1].argmax(axis=0)
    row = np.arange(len(all_times))
    # (n_series, n_times): the observed span of each series
    keep = (row >= first[:, None]) & (row <= last[:, None]) & has_any[:, None]
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
    values = matrix.T[keep]
    times = np.broadcast_to(all_times, keep.shape)[keep]
    empty = np.flatnonzero(~has_any)
    raise_first(
        problem,
        (int(empty[0]), EmptyDataError(f"series {ids[empty[0]]!r} has no observed values"))
        if len(empty)
        else None,
        _nonfinite(values, times, indptr, ids, tz, allow_missing),
    )
    freq, step = panel_frequency(times, indptr, ids, kind, declared, tz)
    return Panel(
        ids=ids,
        indptr=indptr,
        values=values,
        times=times,
        index_kind=kind,
        freq=freq,
        step=step,
        input_kind="wide",
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        period_freq=_period_freqstr(df.index),
        tz=tz,
    )


def _nonfinite(values, times, indptr, ids, tz, allow_missing: bool):
    """:func:`find_nonfinite`, or with ``allow_missing`` the infinite values only."""
    if allow_missing:
        values = np.where(np.isnan(values), 0.0, values)
    return find_nonfinite(values, times, indptr, ids, tz)


def _wide_values(df: pd.DataFrame, ids: np.ndarray):
    """The frame's values as float64, shape (n_times, n_series), and the first non-numeric
    column as a problem (its values read as 0)."""
    matrix = np.zeros(df.shape, dtype=np.float64)
    plain = np.array([isinstance(d, np.dtype) and d.kind in "iuf" for d in df.dtypes])
    if plain.any():
        matrix[:, plain] = df.iloc[:, np.flatnonzero(plain)].to_numpy(dtype=np.float64)
    one = np.array([0, df.shape[0]])
    for j in np.flatnonzero(~plain):
        matrix[:, j], problem = numeric_values(np.asarray(df.iloc[:, int(j)]), one, [ids[j]])
        if problem is not None:
            return matrix, (int(j), problem[1])
    return matrix, None


def _period_freqstr(index: pd.Index) -> str | None:
    """The period alias (``"M"``, ``"Q-DEC"``...) of a PeriodIndex, so output can rebuild it."""
    return index.freqstr if isinstance(index, pd.PeriodIndex) else None


def _index_times(
    index: pd.Index, sid
) -> tuple[IndexKind, np.ndarray, BaseOffset | None, str | None]:
    """Time stamps as a numpy array (naive UTC for an aware index), with their kind, any
    frequency the index declares and the name of its time zone."""
    where = f"series {sid!r}" if sid is not None else "the time column"
    if isinstance(index, pd.PeriodIndex):
        return "period", index.to_timestamp().values.astype("datetime64[ns]"), index.freq, None
    if isinstance(index, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(index):
        dt = pd.DatetimeIndex(index)
        if dt.isna().any():
            raise InvalidInputError(f"{where} has missing time stamps (NaT)")
        tz = None
        if dt.tz is not None:
            tz = zone_name(dt.tz, where, dt)
            dt = dt.tz_convert(None)
        return "datetime", dt.values.astype("datetime64[ns]"), getattr(index, "freq", None), tz
    if pd.api.types.is_integer_dtype(index):
        return "integer", np.asarray(index, dtype=np.int64), None, None
    if pd.api.types.is_float_dtype(index) and np.all(np.mod(np.asarray(index), 1) == 0):
        return "integer", np.asarray(index, dtype=np.int64), None, None
    raise InvalidInputError(
        f"{where} has time stamps of dtype {index.dtype}; use datetimes, periods or integers"
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
        index = panel.to_time_index(future[0], with_freq=True)
        return pd.Series(values[0], index=index, name=panel.name)
    return pd.DataFrame(
        {
            panel.id_col: np.repeat(panel.ids, horizon),
            panel.time_col: panel.to_time_index(future.ravel()),
            value_col: values.ravel(),
        }
    )
