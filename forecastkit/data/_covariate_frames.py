"""Covariate frames checked and aligned with a panel (the helpers of
:mod:`forecastkit.data.covariates`): which columns ``X`` and ``static`` hold, and their rows
looked up by (series, time stamp), every gap an error naming the series and the column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit.exceptions import CovariateError

__all__ = ["column_names", "x_columns", "static_columns", "static_frame", "check_static_rows",
           "as_long", "aligned_frame", "lookup"]


def column_names(value, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        names = list(value)
    except TypeError:
        raise CovariateError(f"{what} must be a column name or a list of them, got "
                             f"{value!r}") from None
    if len(set(names)) != len(names):
        raise CovariateError(f"{what} names a column twice: {names}")
    return names


def x_columns(X, panel, futr_exog, hist_exog) -> tuple[list[str], list[str]]:
    futr, hist = column_names(futr_exog, "futr_exog"), column_names(hist_exog, "hist_exog")
    both = set(futr) & set(hist)
    if both:
        raise CovariateError(f"column {sorted(both)[0]!r} is named both future-known "
                             f"(futr_exog) and past-only (hist_exog)")
    if X is None:
        if futr or hist:
            raise CovariateError(f"futr_exog/hist_exog name {(futr + hist)[0]!r} but X is None")
        return [], []
    frame = as_long(X, panel, "X")
    given = [c for c in frame.columns if c not in (panel.id_col, panel.time_col)]
    if not futr and not hist:
        futr = given  # the documented rule: every column of X is future-known
    for col in futr + hist:
        if col not in given:
            raise CovariateError(f"X has no column {col!r} (it has {given})")
    extra = [c for c in given if c not in futr + hist]
    if extra:
        raise CovariateError(f"X has column {extra[0]!r} that neither futr_exog nor hist_exog "
                             f"names; name it or drop it from X")
    for col in futr + hist:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            raise CovariateError(f"X column {col!r} is not numeric ({frame[col].dtype}); "
                                 f"encode categories as numbers or one-hot columns")
    return futr, hist


def static_columns(static, panel, stat_exog):
    if static is None:
        if stat_exog:
            raise CovariateError(f"stat_exog names {list(column_names(stat_exog, 'stat_exog'))} "
                                 f"but static is None")
        return [], []
    frame = static_frame(static, panel)
    given = [c for c in frame.columns if c != panel.id_col]
    cols = column_names(stat_exog, "stat_exog") or given
    for col in cols:
        if col not in given:
            raise CovariateError(f"static has no column {col!r} (it has {given})")
    rows = frame.set_index(panel.id_col).reindex(panel.ids)
    check_static_rows(rows, panel)
    numeric, categories = [], []
    for col in cols:
        s = rows[col]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            cats = tuple(sorted(pd.unique(s.astype(object)), key=lambda v: (str(type(v)), v)))
            categories.append((col, cats))
        else:
            numeric.append(col)
    return numeric, categories


def static_frame(static, panel) -> pd.DataFrame:
    if not isinstance(static, pd.DataFrame) or panel.id_col not in static.columns:
        raise CovariateError(f"static must be a DataFrame with a {panel.id_col!r} column and "
                             f"one row per series")
    dup = static[panel.id_col].duplicated()
    if dup.any():
        raise CovariateError(f"static has two rows for series "
                             f"{static[panel.id_col][dup].iloc[0]!r}")
    return static


def check_static_rows(rows: pd.DataFrame, panel) -> None:
    absent = rows.isna().any(axis=1).to_numpy()
    if absent.any():
        i = int(np.flatnonzero(absent)[0])
        col = rows.columns[rows.iloc[i].isna().to_numpy()][0]
        raise CovariateError(f"static has no value of {col!r} for series {panel.ids[i]!r}")


def as_long(X, panel, what: str) -> pd.DataFrame:
    """``X`` as a long frame with the panel's id and time columns."""
    if not isinstance(X, pd.DataFrame):
        raise CovariateError(f"{what} must be a pandas DataFrame, got {type(X).__name__}")
    if panel.id_col in X.columns and panel.time_col in X.columns:
        return X
    if panel.n_series == 1 and panel.time_col not in X.columns:
        # A single series: X may be indexed by the time stamps, like the series itself.
        frame = X.rename_axis(panel.time_col).reset_index()
        frame.insert(0, panel.id_col, panel.ids[0])
        return frame
    raise CovariateError(f"{what} must be a long frame with columns {panel.id_col!r} and "
                         f"{panel.time_col!r} beside the covariates")


def aligned_frame(X, panel, cols: list[str], what: str) -> pd.DataFrame:
    """``X``'s ``cols`` indexed by (series position in the panel, time stamp as int64)."""
    if X is None:
        raise CovariateError(f"the model was fitted with covariates {cols}; pass {what}=")
    frame = as_long(X, panel, what)
    absent = [c for c in cols if c not in frame.columns]
    if absent:
        raise CovariateError(f"{what} has no column {absent[0]!r}")
    codes = pd.Index(panel.ids).get_indexer(frame[panel.id_col])
    keep = codes >= 0  # rows of other series are not needed here
    times = panel.from_time_values(frame[panel.time_col][keep]).astype(np.int64)
    values = frame.loc[keep, cols]
    for col in cols:
        if not pd.api.types.is_numeric_dtype(values[col]):
            raise CovariateError(f"{what} column {col!r} is not numeric ({values[col].dtype})")
    index = pd.MultiIndex.from_arrays([codes[keep], times])
    aligned = pd.DataFrame(values.to_numpy(np.float64), index=index, columns=cols)
    dup = aligned.index.duplicated()
    if dup.any():
        i, t = aligned.index[dup][0]
        raise CovariateError(f"{what} has two rows for series {panel.ids[i]!r} at "
                             f"{panel.to_time_index(np.array([t]).astype(panel.times.dtype))[0]}")
    return aligned


def lookup(aligned: pd.DataFrame, series: np.ndarray, times: np.ndarray, cols: list[str],
            panel, where: str) -> np.ndarray:
    """Rows of ``aligned`` at (series, times), shape (n, len(cols)); a gap is an error."""
    index = pd.MultiIndex.from_arrays([series, np.asarray(times).astype(np.int64)])
    values = aligned.reindex(index).to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, j = np.argwhere(bad)[0]
        stamp = panel.to_time_index(np.asarray(times)[row:row + 1])[0]
        raise CovariateError(f"covariate {cols[j]!r} of series {panel.ids[series[row]]!r} is "
                             f"missing at {stamp} (needed over {where}); fill it before "
                             f"fitting or forecasting")
    return values
