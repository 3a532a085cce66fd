"""Gaps and missing values in a long frame, made explicit and then filled.

Real data has rows that never arrived (a sensor offline for a day: time stamps missing from a
regular grid) and values that arrived empty (NaN). forecastkit's models need a regular series of
finite values, so :func:`to_panel` refuses both, naming the series. These two steps repair a
frame before fitting, each reporting what it did:

* :func:`fill_gaps` puts a row, with NaN values, at every time stamp missing from each series'
  regular grid (the panel's frequency, inferred or given); an irregular series stays an error.
* :func:`fill_missing` trims leading NaN (a series that starts late), fills the other NaN by
  pandas' interpolation (``"linear"``, ``"time"``, ``"nearest"``) or, for seasonal data, by
  linear interpolation between the same season position of neighbouring cycles
  (``"seasonal"``: a lost day of hourly data is filled from the hours of the days around it,
  not by a straight line across the daily cycle), or by the rule the forecasters use
  (``"auto"``: the season shapes the fill only for a series that tests seasonal), and
  reports per series what was filled.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from forecastkit.data.fill_methods import filled_values as _filled
from forecastkit.data.frequency import infer_freq_alias
from forecastkit.data.panel import Panel
from forecastkit.exceptions import (
    ForecastkitWarning,
    FrequencyError,
    InvalidInputError,
    MissingValuesError,
)

__all__ = ["fill_gaps", "fill_missing", "FILL_METHODS", "trim_leading_missing",
           "interpolate_panel", "missing_counts"]

FILL_METHODS = ("linear", "time", "nearest", "seasonal", "auto")


def fill_gaps(y: pd.DataFrame, freq=None, *, id_col: str = "unique_id", time_col: str = "ds",
              target_col: str = "y") -> pd.DataFrame:
    """The frame with a NaN row at every time stamp missing from each series' regular grid.

    Parameters
    ----------
    y : pd.DataFrame
        Long frame ``id_col, time_col, target_col`` (other columns are kept, NaN in the added
        rows), each series sorted or not.
    freq : str or pandas offset, optional
        The grid's frequency for datetime stamps (``"h"``, ``"D"``, ``"MS"``...). Default:
        inferred from the series that have no gap (``pd.infer_freq``). Ignored for periods
        (their own frequency) and integers (the smallest step between two stamps of any
        series).
    id_col, time_col, target_col : str

    Returns
    -------
    pd.DataFrame
        The rows of ``y`` and the added ones, sorted by series (in order of first appearance)
        and time, with a fresh index; ``attrs["gaps_filled"]`` maps each series that had gaps
        to the number of rows added.

    Raises
    ------
    FrequencyError
        No frequency can be inferred (every series has gaps: pass ``freq``), or a series has a
        stamp off the grid (irregular) or steps by a multiple of it (another frequency),
        named.
    InvalidInputError
        Missing columns or duplicate time stamps in a series.
    """
    _check_columns(y, [id_col, time_col, target_col])
    frame, order = _sorted(y, id_col, time_col)
    groups = dict(tuple(frame.groupby(id_col, sort=False)))
    times = {sid: pd.Index(groups[sid][time_col]) for sid in order}
    for sid, t in times.items():
        if t.has_duplicates:
            raise InvalidInputError(f"series {sid!r} has duplicate time stamps; cannot fill gaps")
    kinds = {_kind(t) for t in times.values()}
    if len(kinds) > 1:
        raise FrequencyError(f"the series mix time stamp kinds {sorted(kinds)}")
    kind = kinds.pop()
    if kind == "integer":
        step = _integer_step(times)
    elif kind == "period":
        step = next(iter(times.values())).freq  # a PeriodIndex carries its frequency
    else:
        step = _datetime_freq(times, freq)
    out, added = [], {}
    for sid in order:
        t, g = times[sid], groups[sid]
        grid = (pd.Index(np.arange(t[0], t[-1] + 1, step)) if kind == "integer"
                else _date_grid(t, step))
        name = step if kind == "integer" else getattr(step, "freqstr", step)
        off = t.difference(grid)
        if len(off):
            raise FrequencyError(
                f"series {sid!r} has time stamp {off[0]} off its grid of frequency {name}; it "
                f"is irregular or of another frequency"
            )
        # Stamps on the grid but all a multiple apart: a coarser frequency, not gaps.
        coarser = np.gcd.reduce(np.diff(grid.get_indexer(t))) if len(t) > 1 else 1
        if coarser > 1:
            raise FrequencyError(
                f"series {sid!r} steps by {coarser} x {name}: another frequency than the "
                f"panel's, not gaps; resample it first"
            )
        if len(grid) > len(t):
            added[sid] = len(grid) - len(t)
            g = g.set_index(time_col).reindex(grid).rename_axis(time_col).reset_index()
            g[id_col] = sid
        out.append(g)
    result = pd.concat(out, ignore_index=True)[list(y.columns)]
    result.attrs["gaps_filled"] = added
    return result


def fill_missing(y: pd.DataFrame, method: str = "linear", *, season_length: int | None = None,
                 drop_empty: bool = False, id_col: str = "unique_id", time_col: str = "ds",
                 target_col: str = "y") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trim leading NaN and fill the other NaN of every series.

    Parameters
    ----------
    y : pd.DataFrame
        Long frame ``id_col, time_col, target_col`` on a regular grid (see :func:`fill_gaps`);
        rows in any order (sorted by series, in order of first appearance, and time).
    method : {"linear", "time", "nearest", "seasonal", "auto"}, default="linear"
        ``"linear"``: a straight line between the observed neighbours (by position);
        ``"time"``: the same by time stamp; ``"nearest"``: the nearest observation;
        ``"seasonal"``: linear between the same season position of the neighbouring cycles
        (needs ``season_length``; a position never observed falls back to ``"linear"``);
        ``"auto"``: for a series that passes M4's seasonality test (90 %, on the linear
        fill), ``"seasonal"`` for a run of missing values at least half a season long (a lost
        day of hourly data) and, for a shorter run, the straight line between its neighbours
        drawn with the season taken out (the mean of the same position one cycle either
        side) and the season put back; ``"linear"`` for any other series, or without
        ``season_length``. The split at half a season is the networks' one
        (:func:`~forecastkit.data.gap_filling.interpolate_gaps`). NaN after the last
        observation take the last value (``"seasonal"``: the last value of the same
        position; ``"auto"``'s short run: that value's deviation from the season).
    season_length : int, optional
        Period of ``"seasonal"`` and ``"auto"``.
    drop_empty : bool, default=False
        Drop a series with no observed value (recorded) instead of raising.
    id_col, time_col, target_col : str

    Returns
    -------
    filled : pd.DataFrame
        ``y`` without the leading NaN rows of each series (and without dropped series), every
        ``target_col`` value finite.
    report : pd.DataFrame
        One row per series that had NaN: ``id_col``, ``trimmed`` (leading rows removed),
        ``filled`` (values filled), ``dropped`` (no value at all).

    Warns
    -----
    ForecastkitWarning
        Once, when anything was trimmed, filled or dropped, with the totals.

    Raises
    ------
    MissingValuesError
        A series with no observed value (named), unless ``drop_empty``.
    InvalidInputError
        An unknown method, ``"seasonal"`` without a season length of at least 2, an infinite
        value, or missing columns.
    """
    if method not in FILL_METHODS:
        raise InvalidInputError(f"method must be one of {FILL_METHODS}, got {method!r}")
    if method == "seasonal" and (season_length is None or int(season_length) < 2):
        raise InvalidInputError(f"method='seasonal' needs season_length >= 2, got "
                                f"{season_length!r}")
    _check_columns(y, [id_col, time_col, target_col])
    y, _ = _sorted(y, id_col, time_col)
    try:
        values = pd.to_numeric(y[target_col], errors="raise").astype(np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"{target_col} has a value that is not a number ({err}); only "
                                f"NaN is filled") from None
    if np.isinf(values).any():
        sid = y[id_col].to_numpy()[int(np.flatnonzero(np.isinf(values.to_numpy()))[0])]
        raise InvalidInputError(f"series {sid!r} has an infinite value; only NaN is filled")
    frame = y.assign(**{target_col: values})
    out, rows = [], []
    for sid, g in frame.groupby(id_col, sort=False):
        v = g[target_col]
        if not v.isna().any():
            out.append(g)
            continue
        observed = np.flatnonzero(v.notna().to_numpy())
        if not len(observed):
            if not drop_empty:
                raise MissingValuesError(f"series {sid!r} has no observed value; drop it or "
                                         f"pass drop_empty=True")
            rows.append({id_col: sid, "trimmed": 0, "filled": 0, "dropped": True})
            continue
        g = g.iloc[observed[0]:]
        n_missing = int(g[target_col].isna().sum())
        g = g.assign(**{target_col: _filled(g, target_col, time_col, method, season_length)})
        out.append(g)
        rows.append({id_col: sid, "trimmed": int(observed[0]), "filled": n_missing,
                     "dropped": False})
    report = pd.DataFrame(rows, columns=[id_col, "trimmed", "filled", "dropped"])
    if len(report):
        warnings.warn(
            f"{len(report)} series had NaN: {int(report.filled.sum())} value(s) filled "
            f"({method}), {int(report.trimmed.sum())} leading row(s) trimmed, "
            f"{int(report.dropped.sum())} series dropped; the report lists them",
            ForecastkitWarning, stacklevel=2,
        )
    filled = pd.concat(out, ignore_index=True) if out else frame.iloc[:0]
    return filled, report


# --------------------------------------------------------------------------- panels


def missing_counts(panel: Panel) -> np.ndarray:
    """NaN values of each series, shape (n_series,) int64."""
    nan = np.isnan(panel.values)
    if not nan.any():
        return np.zeros(panel.n_series, dtype=np.int64)
    return np.add.reduceat(nan, panel.indptr[:-1]).astype(np.int64)


def trim_leading_missing(panel: Panel) -> Panel:
    """The panel without the NaN before each series' first observation (late starters).

    Raises
    ------
    MissingValuesError
        Naming the first series with no observed value.
    """
    nan = np.isnan(panel.values)
    if not nan.any():
        return panel
    starts = panel.indptr[:-1]
    pos = np.arange(len(nan))
    # position of each series' first observation (its end when it has none)
    first = np.minimum.reduceat(np.where(nan, len(nan), pos), starts)
    empty = np.flatnonzero(first >= panel.indptr[1:])
    if len(empty):
        i = int(empty[0])
        raise MissingValuesError(
            f"series {panel.ids[i]!r} has no observed value (all {panel.lengths[i]} are NaN)"
            + (f"; and {len(empty) - 1} more series" if len(empty) > 1 else "")
        )
    keep = pos >= np.repeat(first, panel.lengths)
    if keep.all():
        return panel
    lengths = np.add.reduceat(keep, starts)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return replace(panel, values=panel.values[keep], times=panel.times[keep], indptr=indptr)


def interpolate_panel(panel: Panel, season_length: int = 1) -> tuple[Panel, np.ndarray]:
    """Every NaN of a panel filled, and how many per series.

    Parameters
    ----------
    panel : Panel
        Leading NaN already trimmed (:func:`trim_leading_missing`).
    season_length : int
        With ``season_length >= 2``, ``fill_missing``'s ``"auto"`` method (for a series that
        tests seasonal, a run of NaN of at least half a season from the same season position
        of the neighbouring cycles, a shorter one by a line around the season); else, and for
        every series that does not test seasonal, linearly between neighbours.

    Returns
    -------
    panel : Panel
    filled : ndarray of shape (n_series,), int64
    """
    counts = missing_counts(panel)
    if not counts.any():
        return panel, counts
    values = panel.values.copy()
    method = "auto" if season_length >= 2 else "linear"
    for i in np.flatnonzero(counts):
        a, b = panel.indptr[i], panel.indptr[i + 1]
        g = pd.DataFrame({"y": values[a:b]})
        values[a:b] = _filled(g, "y", "ds", method, season_length)
    return replace(panel, values=values), counts


# --------------------------------------------------------------------------- helpers


def _check_columns(y, needed: list[str]) -> None:
    if not isinstance(y, pd.DataFrame):
        raise InvalidInputError(f"expected a long DataFrame {needed}, got {type(y).__name__}")
    missing = [c for c in needed if c not in y.columns]
    if missing:
        raise InvalidInputError(f"the frame has no column(s) {missing}; expected {needed}")


def _sorted(y: pd.DataFrame, id_col: str, time_col: str) -> tuple[pd.DataFrame, np.ndarray]:
    """``y`` sorted by series (in order of first appearance) then time, and that order."""
    if y[id_col].isna().any():
        raise InvalidInputError(f"{id_col} has a missing value; every row needs a series id")
    order = np.asarray(pd.unique(y[id_col]))
    rank = pd.Series(np.arange(len(order)), index=order)
    key = rank.loc[y[id_col].to_numpy()].to_numpy()
    frame = y.assign(_series_rank=key).sort_values(["_series_rank", time_col], kind="stable")
    return frame.drop(columns="_series_rank"), order


def _kind(t: pd.Index) -> str:
    if isinstance(t, pd.PeriodIndex):
        return "period"
    return "integer" if pd.api.types.is_integer_dtype(t.dtype) else "datetime"


def _integer_step(times: dict) -> int:
    diffs = [np.diff(t.to_numpy()) for t in times.values() if len(t) > 1]
    positive = np.concatenate(diffs) if diffs else np.array([1])
    return int(positive.min()) if len(positive) else 1


def _datetime_freq(times: dict, freq):
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    inferred: dict[str, int] = {}
    for t in times.values():
        if len(t) >= 3:
            alias = infer_freq_alias(pd.DatetimeIndex(t))
            if alias is not None:
                inferred[alias] = inferred.get(alias, 0) + 1
    if not inferred:
        raise FrequencyError(
            "cannot infer the frequency: every series has gaps (or fewer than 3 stamps); pass "
            "freq= (e.g. 'h', 'D', 'MS')"
        )
    return pd.tseries.frequencies.to_offset(max(inferred, key=lambda a: inferred[a]))


def _date_grid(t: pd.Index, freq) -> pd.Index:
    if isinstance(t, pd.PeriodIndex):
        return pd.period_range(t[0], t[-1], freq=t.freq)
    return pd.date_range(t[0], t[-1], freq=freq)
