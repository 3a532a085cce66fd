"""Rolling-origin backtests of any forecastkit forecaster: parallel, resumable, with progress.

The unit of work is one model over one group of windows (one window when ``refit=True``): fit on
the data up to the group's first cutoff, forecast that window, then forecast the group's later
windows from their own histories without refitting. Units run on local cores through joblib or on
a Dask cluster; the parent process writes each finished window to ``out_dir`` as it arrives, so a
run started again skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecastkit.data.frames import Panel, to_panel
from forecastkit.evaluation.splitters import (
    RollingOriginSplitter,
    Window,
    holdout_times,
    holdout_values,
    slice_panel,
)
from forecastkit.evaluation.store import ResultStore
from forecastkit.exceptions import InvalidInputError, PersistenceError
from forecastkit.forecasters.base import fits_series_independently

__all__ = ["backtest", "backtest_metrics"]

COLUMNS = ["unique_id", "ds", "cutoff", "y", "y_pred", "model", "window"]


@dataclass(frozen=True)
class _Unit:
    model: str
    fit_window: int  # the window whose training data the model is fitted on
    windows: tuple[int, ...]  # windows still to forecast (a subset of the group)
    part: int | None = None  # block of series (local models), or None: all series
    series: tuple[int, int] | None = None  # [first, stop) positions of that block


def backtest(
    forecaster,
    y,
    horizon: int,
    n_windows: int = 3,
    step: int | None = None,
    window: Literal["expanding", "sliding"] = "expanding",
    window_length: int | None = None,
    refit: bool | int = True,
    n_jobs: int | None = -1,
    backend: Literal["joblib", "dask"] = "joblib",
    scheduler=None,
    out_dir=None,
    progress: bool = True,
    series_per_unit: int = 100,
) -> pd.DataFrame:
    """Rolling-origin evaluation of one or several forecasters.

    Parameters
    ----------
    forecaster : forecaster or dict of str to forecaster
        Unfitted forecastkit forecaster(s) (``fit(panel)``, ``predict_array(horizon, y=...)``);
        a dict names them. Each unit fits a clone, so the objects passed are left untouched.
    y : pd.Series, pd.DataFrame or Panel
        The full history of every series (see :func:`forecastkit.data.to_panel`).
    horizon : int
        Steps forecast from each cutoff.
    n_windows, step, window, window_length
        The rolling origin; see :class:`RollingOriginSplitter`. The windows hold out the last
        ``(n_windows - 1) * step + horizon`` points of each series.
    refit : bool or int, default=True
        ``True`` fits at every window; an int ``k`` fits at every k-th window and forecasts the
        windows in between with ``predict(y=history)`` (a global model reuses its weights; a
        local model is fitted on that history, as :meth:`BaseForecaster.predict` does);
        ``False`` fits once, at the first window.
    n_jobs : int, default=-1
        Parallel joblib workers (-1: all cores). For ``backend="dask"`` without ``scheduler``,
        the number of local Dask workers (-1 or None: Dask's default).
    backend : {"joblib", "dask"}
        Where units run: local processes, or a ``dask.distributed`` cluster.
    scheduler : str or distributed.Client, optional
        Dask scheduler address (``"tcp://host:8786"``) or a connected client; ``None`` starts a
        ``LocalCluster`` for the run.
    out_dir : str or Path, optional
        Folder that keeps each finished (model, window) as soon as it arrives (see
        :class:`~forecastkit.evaluation.store.ResultStore`); a run started again with the same
        data, split and models skips finished units.
    progress : bool, default=True
        Show a tqdm progress bar over the units of work.
    series_per_unit : int, default=100
        A model that fits each series independently (``fits_series_independently``: the
        local baselines) is split into blocks of this many series, each its own unit, so that
        a slow local model (ETS, ARIMA) spreads over all cores; its forecasts are the same as
        unsplit. Every other model (global networks, combinations with one, a
        ``ValidatedCombination``) always sees all series.

    Returns
    -------
    pd.DataFrame
        One row per series, window, step and model, columns ``unique_id, ds, cutoff, y, y_pred,
        model, window``. ``cutoff`` is the time of the last training point: every ``ds`` of a
        row is after it and every point the forecaster saw is at or before it.
        ``df.attrs["seconds"]`` maps each model to its fit+predict wall time summed over its
        units (units that ran in parallel add up, so this is the model's cost, not the
        elapsed time).

    Raises
    ------
    SeriesTooShortError
        Naming a series that has no training data before its first window.

    See Also
    --------
    backtest_metrics : accuracy per series, window and model.
    """
    models = _as_models(forecaster)
    panel = to_panel(y)
    splitter = RollingOriginSplitter(horizon, n_windows, step, window, window_length)
    windows = splitter.windows(panel)
    every = _refit_every(refit, n_windows)

    store = None
    if out_dir is not None:
        store = ResultStore(out_dir)
        config = {
            "data": _fingerprint(panel),
            "horizon": int(horizon),
            "n_windows": int(n_windows),
            "step": None if step is None else int(step),
            "window": window,
            "window_length": None if window_length is None else int(window_length),
            "refit": every,
            "series_per_unit": int(series_per_unit),
        }
        store.open(config, {name: _describe(f) for name, f in models.items()})

    parts = {name: _parts(f, panel.n_series, series_per_unit) for name, f in models.items()}
    done: dict[tuple[str, int, int | None], np.ndarray] = {}
    seconds: dict[tuple[str, int, int | None], float] = {}
    units = []
    for name in models:
        for part, block in parts[name]:
            sub = panel if block is None else panel.take(np.arange(*block))
            for first in range(0, n_windows, every):
                todo = []
                for w in range(first, min(first + every, n_windows)):
                    if store is not None and store.is_done(name, w, part):
                        win = _sub_window(windows[w], block)
                        done[name, w, part] = _reload(store, name, w, part, sub, win, horizon)
                        seconds[name, w, part] = store.seconds(name, w, part)
                    else:
                        todo.append(w)
                if todo:
                    units.append(_Unit(name, first, tuple(todo), part, block))

    total = n_windows * sum(len(p) for p in parts.values())
    with _progress(total, initial=len(done), enabled=progress) as bar:
        for unit, w, y_pred, secs in _execute(units, models, panel, windows, horizon,
                                              n_jobs, backend, scheduler):
            done[unit.model, w, unit.part] = y_pred
            seconds[unit.model, w, unit.part] = secs
            if store is not None:
                sub = panel if unit.series is None else panel.take(np.arange(*unit.series))
                frame = _frame(sub, _sub_window(windows[w], unit.series), horizon, y_pred,
                               unit.model)
                store.save(unit.model, w, unit.part, frame, secs)
            bar.update(1)

    frames = [
        _frame(panel, windows[w], horizon,
               np.concatenate([done[name, w, part] for part, _ in parts[name]]), name)
        for name in models
        for w in range(n_windows)
    ]
    out = pd.concat(frames, ignore_index=True)
    out.attrs["seconds"] = {name: float(sum(v for k, v in seconds.items() if k[0] == name))
                            for name in models}
    return out


def _parts(forecaster, n_series: int, size: int) -> list[tuple[int | None, tuple | None]]:
    """``(part, (first, stop))`` blocks of series for a model that fits each series
    independently; one ``(None, None)`` for any other."""
    if not fits_series_independently(forecaster) or n_series <= size:
        return [(None, None)]
    starts = range(0, n_series, size)
    return [(k, (a, min(a + size, n_series))) for k, a in enumerate(starts)]


def _sub_window(win: Window, block: tuple[int, int] | None) -> Window:
    if block is None:
        return win
    sl = slice(*block)
    return Window(win.index, win.start[sl], win.end[sl])


# --------------------------------------------------------------------------- units of work


def _run_unit(unit: _Unit, forecaster, panel: Panel, windows: list[Window], horizon: int):
    """Fit at ``unit.fit_window`` and forecast ``unit.windows``; runs in a worker.

    Returns a list of ``(unit, window, y_pred of shape (n_series, horizon), seconds)``.
    """
    t0 = time.perf_counter()
    if unit.series is not None:
        panel = panel.take(np.arange(*unit.series))
        windows = [_sub_window(w, unit.series) for w in windows]
    fit_win = windows[unit.fit_window]
    # The forecaster only ever receives the sliced panel: nothing after the cutoff.
    model = clone(forecaster).fit(slice_panel(panel, fit_win.start, fit_win.end))
    fit_seconds = time.perf_counter() - t0
    out = []
    for w in unit.windows:
        t1 = time.perf_counter()
        win = windows[w]
        if w == unit.fit_window:
            y_pred = model.predict_array(horizon)
        else:
            y_pred = model.predict_array(horizon, y=slice_panel(panel, win.start, win.end))
        secs = time.perf_counter() - t1 + (fit_seconds if w == unit.fit_window else 0.0)
        out.append((unit, w, np.asarray(y_pred, dtype=np.float64), secs))
    return out


def _execute(units, models, panel, windows, horizon, n_jobs, backend, scheduler):
    """Yield ``(unit, window, y_pred, seconds)`` as units finish, in any order."""
    if not units:
        return
    if backend == "joblib":
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        jobs = (delayed(_run_unit)(u, models[u.model], panel, windows, horizon) for u in units)
        for results in parallel(jobs):
            yield from results
    elif backend == "dask":
        yield from _execute_dask(units, models, panel, windows, horizon, n_jobs, scheduler)
    else:
        raise InvalidInputError(f"backend must be 'joblib' or 'dask', got {backend!r}")


def _execute_dask(units, models, panel, windows, horizon, n_jobs, scheduler):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidInputError(
            "backend='dask' needs dask.distributed: pip install 'forecastkit[dask]'"
        ) from None
    owned = []
    if scheduler is None:
        workers = None if n_jobs in (None, -1) else int(n_jobs)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        owned = [client, cluster]
    elif isinstance(scheduler, str):
        client = Client(scheduler)
        owned = [client]
    else:
        client = scheduler
    try:
        # Send the panel once to every worker instead of once per unit.
        panel_f = client.scatter(panel, broadcast=True)
        futures = [
            client.submit(_run_unit, u, models[u.model], panel_f, windows, horizon, pure=False)
            for u in units
        ]
        for fut in as_completed(futures):
            yield from fut.result()
    finally:
        for obj in owned:
            obj.close()


# --------------------------------------------------------------------------- frames


def _frame(panel: Panel, win: Window, horizon: int, y_pred: np.ndarray, model: str):
    n = panel.n_series
    cutoff_pos = panel.indptr[:-1] + win.end - 1
    return pd.DataFrame(
        {
            "unique_id": np.repeat(panel.ids, horizon),
            "ds": _times_out(panel, holdout_times(panel, win.end, horizon).ravel()),
            "cutoff": _times_out(panel, np.repeat(panel.times[cutoff_pos], horizon)),
            "y": holdout_values(panel, win.end, horizon).ravel(),
            "y_pred": np.asarray(y_pred, dtype=np.float64).reshape(n * horizon),
            "model": model,
            "window": win.index,
        },
        columns=COLUMNS,
    )


def _times_out(panel: Panel, times: np.ndarray):
    if panel.index_kind == "integer":
        return times.astype(np.int64)
    dt = pd.DatetimeIndex(times)
    return dt.to_period(panel.period_freq) if panel.index_kind == "period" else dt


def _reload(store: ResultStore, name: str, w: int, part, panel: Panel, win: Window,
            horizon: int):
    """A stored unit's forecasts, checked against the series they claim to cover."""
    saved = store.load(name, w, part)
    expected = np.repeat(panel.ids, horizon).astype(str)
    if len(saved) != len(expected) or not np.array_equal(
        saved["unique_id"].astype(str).to_numpy(), expected
    ):
        raise PersistenceError(
            f"{store.unit_file(name, w, part)} does not match the data's series; delete it to "
            f"redo it"
        )
    return saved["y_pred"].to_numpy(dtype=np.float64).reshape(panel.n_series, horizon)


# --------------------------------------------------------------------------- helpers


def _as_models(forecaster) -> dict[str, Any]:
    if isinstance(forecaster, Mapping):
        if not forecaster:
            raise InvalidInputError("no models given to backtest")
        models = dict(forecaster)
    else:
        models = {type(forecaster).__name__: forecaster}
    for name, f in models.items():
        if not (hasattr(f, "fit") and hasattr(f, "predict_array")):
            raise InvalidInputError(
                f"model {name!r} is a {type(f).__name__}, not a forecastkit forecaster "
                f"(needs fit and predict_array)"
            )
    return models


def _refit_every(refit: bool | int, n_windows: int) -> int:
    if refit is True:
        return 1
    if refit is False:
        return int(n_windows)
    if isinstance(refit, int | np.integer) and refit >= 1:
        return int(refit)
    raise InvalidInputError(f"refit must be True, False or a positive integer, got {refit!r}")


def _describe(forecaster) -> str:
    """A stable text of a forecaster's class and parameters (to recognise it on resume).

    Estimators inside parameters (a combination's members) are described the same way, in
    full: their ``repr`` would show only non-default parameters and scikit-learn cuts it short
    past 700 characters, so two combinations differing deep inside could read the same.
    """
    params = forecaster.get_params(deep=False) if hasattr(forecaster, "get_params") else {}
    body = ", ".join(f"{k}={_describe_value(params[k])}" for k in sorted(params))
    return f"{type(forecaster).__name__}({body})"


def _describe_value(value) -> str:
    if hasattr(value, "get_params") and not isinstance(value, type):
        return _describe(value)
    if isinstance(value, list | tuple):
        inner = [_describe_value(v) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    return repr(value)


def _fingerprint(panel: Panel) -> str:
    h = hashlib.sha1()
    h.update(json.dumps([str(i) for i in panel.ids]).encode())
    h.update(np.ascontiguousarray(panel.lengths).tobytes())
    h.update(np.ascontiguousarray(panel.values).tobytes())
    h.update(np.ascontiguousarray(panel.times).view(np.int64).tobytes())
    return h.hexdigest()


class _progress:
    """A tqdm bar, or a stand-in with the same two methods when disabled."""

    def __init__(self, total: int, initial: int, enabled: bool):
        self._bar = None
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, initial=initial, desc="backtest", unit="unit")

    def __enter__(self):
        return self

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()


def backtest_metrics(cv: pd.DataFrame, y, season_length: int) -> pd.DataFrame:
    """Accuracy of each series in each window for each model.

    Parameters
    ----------
    cv : pd.DataFrame
        The output of :func:`backtest`.
    y : pd.Series, pd.DataFrame or Panel
        The same history the backtest ran on; MASE and RMSSE scale each window's errors by the
        in-sample errors of the data up to that window's cutoff.
    season_length : int
        Seasonal period for MASE's seasonal-naive scale.

    Returns
    -------
    pd.DataFrame
        Columns ``model, window, unique_id, cutoff`` and one column per metric of
        :data:`forecastkit.evaluation.metrics.METRICS` (``mae, rmse, mape, smape, mase, rmsse``).

    Raises
    ------
    InvalidInputError
        A forecast is NaN or infinite (named by model, series and step), or a series of the
        backtest is not in ``y``.
    """
    from forecastkit.evaluation.metrics import METRICS, check_finite_forecasts

    check_finite_forecasts(cv)
    panel = to_panel(y)
    position = {sid: i for i, sid in enumerate(panel.ids)}
    cutoffs = _times_in(panel, cv["cutoff"])
    rows = []
    train_cache: dict[tuple[int, Any], np.ndarray] = {}
    # Row positions per (model, window, series) block; sort=False keeps the backtest's order.
    groups = cv.groupby(["model", "window", "unique_id"], sort=False).indices
    for (model, w, sid), idx in groups.items():
        if sid not in position:
            raise InvalidInputError(f"series {sid!r} of the backtest is not in y")
        i = position[sid]
        cut = cutoffs[idx[0]]
        key = (i, cut)
        if key not in train_cache:
            times = panel.series_times(i)
            train_cache[key] = panel.series(i)[: np.searchsorted(times, cut, side="right")]
        y_true = cv["y"].to_numpy()[idx]
        y_pred = cv["y_pred"].to_numpy()[idx]
        row = {"model": model, "window": w, "unique_id": sid, "cutoff": cv["cutoff"].iloc[idx[0]]}
        # The table mixes two call signatures, told apart by `scaled`.
        metric: Any
        for name, (metric, scaled) in METRICS.items():
            if scaled:
                row[name] = metric(y_true, y_pred, train_cache[key], season_length)
            else:
                row[name] = metric(y_true, y_pred)
        rows.append(row)
    return pd.DataFrame(rows)


def _times_in(panel: Panel, column: pd.Series) -> np.ndarray:
    """A column of output times back in the panel's own representation."""
    if panel.index_kind == "integer":
        return column.to_numpy(dtype=np.int64)
    if panel.index_kind == "period":
        return pd.PeriodIndex(column).to_timestamp().values.astype("datetime64[ns]")
    return pd.DatetimeIndex(column).values.astype("datetime64[ns]")
