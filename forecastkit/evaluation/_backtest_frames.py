"""A backtest's forecasts as rows: one window of one model's forecasts as a frame, blocks of
series joined, and a stored unit read back and checked (the frames of
:func:`forecastkit.evaluation.backtest.backtest`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit.data.frames import Panel
from forecastkit.evaluation.splitters import Window
from forecastkit.evaluation.store import ResultStore
from forecastkit.exceptions import PersistenceError
from forecastkit.forecasters._probabilistic import quantile_name

__all__ = ["unit_frame", "join_parts", "reload_unit"]


def unit_frame(panel: Panel, win: Window, horizon: int, model: str, forecasts: tuple,
           levels: np.ndarray | None) -> pd.DataFrame:
    """The rows of one window: ``forecasts`` is ``(y_pred, q)`` (q None for a point-only
    model, whose quantile columns are NaN when the run has ``levels``)."""
    n = panel.n_series
    y_pred, q = forecasts
    cutoff_pos = panel.indptr[:-1] + win.end - 1
    columns = {
        "unique_id": np.repeat(panel.ids, horizon),
        "ds": panel.to_time_index(panel.times_after(win.end, horizon).ravel()),
        "cutoff": panel.to_time_index(np.repeat(panel.times[cutoff_pos], horizon)),
        "y": panel.values_after(win.end, horizon).ravel(),
        "y_pred": np.asarray(y_pred, dtype=np.float64).reshape(n * horizon),
    }
    for j, level in enumerate(() if levels is None else levels):
        columns[quantile_name(level)] = (np.full(n * horizon, np.nan) if q is None
                                         else q[:, :, j].reshape(n * horizon))
    columns.update(model=model, window=win.index)
    return pd.DataFrame(columns)


def join_parts(forecasts: list[tuple]) -> tuple:
    """``(y_pred, q)`` of the blocks of series of one window, stacked in series order."""
    y_pred = np.concatenate([f[0] for f in forecasts])
    q = None if forecasts[0][1] is None else np.concatenate([f[1] for f in forecasts])
    return y_pred, q


def reload_unit(store: ResultStore, name: str, w: int, part, panel: Panel, win: Window,
            horizon: int, levels: np.ndarray | None) -> tuple:
    """A stored unit's ``(y_pred, q)``, checked against the series and the quantile levels
    it claims to cover."""
    saved = store.load(name, w, part)
    expected = np.repeat(panel.ids, horizon).astype(str)
    if len(saved) != len(expected) or not np.array_equal(
        saved["unique_id"].astype(str).to_numpy(), expected
    ):
        raise PersistenceError(
            f"{store.unit_file(name, w, part)} does not match the data's series; rerun with "
            f"fresh=True (--fresh on the command line) to start over"
        )
    shape = (panel.n_series, horizon)
    y_pred = saved["y_pred"].to_numpy(dtype=np.float64).reshape(shape)
    if levels is None:
        return y_pred, None
    names = [quantile_name(v) for v in levels]
    missing = [c for c in names if c not in saved]
    if missing or saved[names].isna().to_numpy().any():
        raise PersistenceError(
            f"{store.unit_file(name, w, part)} holds no quantile forecasts {missing or names} "
            f"of model {name!r}; rerun with fresh=True (--fresh on the command line) to start "
            f"over"
        )
    q = saved[names].to_numpy(dtype=np.float64).reshape(*shape, len(names))
    return y_pred, q
