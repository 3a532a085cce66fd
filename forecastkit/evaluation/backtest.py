"""Rolling-origin backtests of any forecastkit forecaster: parallel, resumable, with progress.

The unit of work is one model over one group of windows (one window when ``refit=True``): fit on
the data up to the group's first cutoff, forecast that window, then forecast the group's later
windows from their own histories without refitting. Units run on local cores through joblib or on
a Dask cluster (:mod:`forecastkit.evaluation._execution`); the parent process writes each
finished window to ``out_dir`` as it arrives, so a run started again skips what is done.

With ``quantiles``, every model also forecasts those quantile levels (through
``predict_quantiles_array`` on the same fit) and the frame gains one ``q<level>`` column per
level; :func:`~forecastkit.evaluation.scoring.backtest_metrics` then scores them too.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecastkit.data.frames import Panel, to_panel
from forecastkit.data.splitters import MIN_SCORED_TRAIN_LENGTH
from forecastkit.evaluation._backtest_frames import join_parts, reload_unit, unit_frame
from forecastkit.evaluation._execution import (
    Unit,
    check_covariates,
    check_n_jobs,
    execute,
    progress_bar,
    unit_view,
)
from forecastkit.evaluation.identity import describe, fingerprint
from forecastkit.evaluation.scoring import backtest_metrics
from forecastkit.evaluation.splitters import RollingOriginSplitter, Window
from forecastkit.evaluation.store import ResultStore
from forecastkit.evaluation.tracking import track_backtest
from forecastkit.exceptions import (
    ForecastkitWarning,
    InvalidInputError,
    NotProbabilisticError,
)
from forecastkit.forecasters._probabilistic import check_levels
from forecastkit.forecasters.base import fits_series_independently

__all__ = ["backtest", "backtest_metrics", "check_quantile_support"]

# The columns of a point backtest; a probabilistic one has q<level> columns after y_pred.
COLUMNS = ["unique_id", "ds", "cutoff", "y", "y_pred", "model", "window"]

# A model that fits each series independently (the local baselines) runs in blocks of this many
# series, each its own unit, so that a slow one (ETS, ARIMA) spreads over all cores; its
# forecasts are the same as unsplit.
SERIES_PER_UNIT = 100

Key = tuple[str, int, int | None]  # (model, window, block of series)


def backtest(
    forecaster,
    y,
    horizon: int,
    n_windows: int = 3,
    step: int | None = None,
    *,
    window_length: int | None = None,
    refit: bool | int = True,
    n_jobs: int | None = -1,
    backend="joblib",
    out_dir=None,
    fresh: bool = False,
    progress: bool = True,
    quantiles=None,
    skip_unsupported: bool = False,
    tracking_uri: str | None = None,
    season_length: int = 1,
    X=None,
    static=None,
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
    n_windows, step
        The rolling origin; see :class:`RollingOriginSplitter`. The windows hold out the last
        ``(n_windows - 1) * step + horizon`` points of each series.
    window_length : int, optional
        Train on only the last ``window_length`` points before each cutoff (a sliding window);
        None trains on all of them (an expanding window).
    refit : bool or int, default=True
        ``True`` fits at every window; an int ``k`` fits at every k-th window and forecasts the
        windows in between with ``predict(y=history)`` (a global model reuses its weights; a
        local model is fitted on that history, as :meth:`BaseForecaster.predict` does);
        ``False`` fits once, at the first window.
    n_jobs : int, default=-1
        Parallel workers (-1: all cores); for a local Dask cluster, its number of workers
        (-1 or None: Dask's default).
    backend : "joblib", "dask", str or distributed.Client
        Where units run: local processes (``"joblib"``), a ``LocalCluster`` started for the run
        (``"dask"``), or the Dask cluster of a scheduler address (``"tcp://host:8786"``) or of
        a connected client (left open). A scheduler that does not answer within
        :data:`~forecastkit.evaluation._execution.CONNECT_TIMEOUT` seconds (5) is an
        InvalidInputError.
    out_dir : str or Path, optional
        Folder that keeps each finished (model, window) as soon as it arrives (see
        :class:`~forecastkit.evaluation.store.ResultStore`); a run started again with the same
        data, split and models skips finished units. Every stored unit is checked against
        its checksum when reused: a damaged or altered one is a PersistenceError.
    fresh : bool, default=False
        Discard the finished units of ``out_dir`` (its manifest, units and records; other
        files are kept) and start over.
    progress : bool, default=True
        Show a tqdm progress bar over the units of work.
    quantiles : sequence of float, optional
        Quantile levels in (0, 1) to forecast beside ``y_pred`` (e.g. ``[0.025, 0.1, 0.5,
        0.9, 0.975]`` for the 80% and 95% intervals). Every model must support them
        (``supports_quantiles``); a stored run resumes only with the same levels.
    skip_unsupported : bool, default=False
        With ``quantiles``, let models without quantile support run for their point
        forecasts (their quantile columns are NaN) instead of raising.
    tracking_uri : str, optional
        Log the backtest as an MLflow run in this tracking store (see
        :mod:`forecastkit.evaluation.tracking`): the split, the models' descriptions and each
        model's metrics over series and windows; ``df.attrs["mlflow_run"]`` is the run.
    season_length : int, default=1
        Season of the logged MASE (and of OWA, with a model named ``naive2``); used only with
        ``tracking_uri``.
    X, static : pd.DataFrame, optional
        Covariates (:mod:`forecastkit.data.covariates`), ``X`` over every stamp of ``y``: each
        fit and forecast reads the rows of its own series up to its cutoff (and the window's
        future-known ones). Every model must read covariates, else a CovariateError.

    Returns
    -------
    pd.DataFrame
        One row per series, window, step and model, columns ``unique_id, ds, cutoff, y, y_pred,
        model, window``, with ``quantiles`` one column ``q<level>`` per level after
        ``y_pred`` (named as :meth:`BaseForecaster.predict` names them). ``cutoff`` is the
        time of the last training point: every ``ds`` of a row is after it and every point
        the forecaster saw is at or before it.
        ``df.attrs["seconds"]`` maps each model to its fit+predict wall time summed over its
        units (units that ran in parallel add up, so this is the model's cost, not the
        elapsed time).

    Raises
    ------
    SeriesTooShortError
        Naming a series with fewer than 2 points (``MIN_SCORED_TRAIN_LENGTH``) before its
        last window (at most ``horizon + 1`` in all).
    PersistenceError
        ``out_dir`` cannot be written, holds another run (other data, split, models or
        quantile levels), or a stored unit is damaged (the message names the file;
        ``fresh=True`` starts over).
    NotProbabilisticError
        ``quantiles`` were asked and a model cannot give them (the message names it), unless
        ``skip_unsupported=True``.

    Warns
    -----
    ForecastkitWarning
        Once, when some series are too short for the earlier windows: each such series is
        forecast in the windows it supports (at least 2 training points before the cutoff)
        and left out of the others, so windows differ in their series (see
        :func:`backtest_metrics`' ``n_windows`` column).

    Notes
    -----
    A model that fits each series independently (``fits_series_independently``: the local
    baselines) runs in blocks of :data:`SERIES_PER_UNIT` series; every other model (global
    networks, combinations with one, a ``ValidatedCombination``) always sees all series.

    See Also
    --------
    backtest_metrics : accuracy per series, window and model.
    """
    models = _as_models(forecaster)
    check_covariates(models, X, static)
    check_n_jobs(n_jobs, backend)
    levels, point_only = check_quantile_support(models, quantiles, skip_unsupported)
    panel = to_panel(y)
    window: Literal["expanding", "sliding"] = (
        "expanding" if window_length is None else "sliding"
    )
    splitter = RollingOriginSplitter(horizon, n_windows, step, window, window_length)
    windows = splitter.windows(panel, MIN_SCORED_TRAIN_LENGTH, ragged=True)
    _warn_ragged(panel, windows)
    every = _refit_every(refit, n_windows)
    store = None
    if out_dir is not None:
        store = ResultStore(out_dir)
        if fresh:
            store.clear()
        config = {
            "data": fingerprint(panel, X, static),
            "horizon": int(horizon),
            "n_windows": int(n_windows),
            "step": None if step is None else int(step),
            "window": window,
            "window_length": None if window_length is None else int(window_length),
            "refit": every,
            "series_per_unit": SERIES_PER_UNIT,
        }
        if levels is not None:  # absent for point runs, so their stores stay valid
            config["quantiles"] = [float(v) for v in levels]
        store.open(config, {name: describe(f) for name, f in models.items()})
    parts = {name: _parts(f, panel.n_series) for name, f in models.items()}
    model_levels = {name: None if levels is None or name in point_only else levels
                    for name in models}
    done, seconds, units = _plan(model_levels, parts, panel, windows, horizon, every, store)
    total = sum(_covers(windows[w], block)
                for name in models for _, block in parts[name] for w in range(n_windows))
    with progress_bar(total, initial=len(done), enabled=progress) as bar:
        for unit, w, y_pred, q, secs in execute(units, models, panel, windows, horizon,
                                                n_jobs, backend, (X, static)):
            done[unit.model, w, unit.part] = (y_pred, q)
            seconds[unit.model, w, unit.part] = secs
            if store is not None:
                sub, win = unit_view(panel, windows[w], unit.series)
                frame = unit_frame(sub, win, horizon, unit.model, (y_pred, q), levels)
                store.save(unit.model, w, unit.part, frame, secs)
            bar.update(1)
    frames = [
        unit_frame(*unit_view(panel, windows[w], None), horizon, name,
               join_parts([done[name, w, part] for part, _ in parts[name]
                            if (name, w, part) in done]), levels)
        for name in models
        for w in range(len(windows))
        if len(windows[w].covered())
    ]
    out = pd.concat(frames, ignore_index=True)
    out.attrs["seconds"] = {name: float(sum(v for k, v in seconds.items() if k[0] == name))
                            for name in models}
    if tracking_uri is not None:
        split = {"horizon": horizon, "n_windows": n_windows, "step": step, "refit": refit,
                 "window_length": window_length, "n_series": panel.n_series}
        out.attrs["mlflow_run"] = track_backtest(tracking_uri, models, out, panel, split,
                                                 season_length)
    return out


def check_quantile_support(models: Mapping[str, Any], quantiles, skip_unsupported: bool = False,
                           exempt=()) -> tuple[np.ndarray | None, list[str]]:
    """The checked quantile levels (None without ``quantiles``) and the models that will run
    for point forecasts only.

    Raises
    ------
    NotProbabilisticError
        Naming the first model (not in ``exempt``) without ``supports_quantiles``, unless
        ``skip_unsupported``.
    """
    if quantiles is None:
        return None, []
    levels = check_levels(quantiles)
    point_only = [name for name, f in models.items()
                  if not getattr(f, "supports_quantiles", False)]
    refused = [name for name in point_only if name not in exempt]
    if refused and not skip_unsupported:
        name = refused[0]
        raise NotProbabilisticError(
            f"model {name!r} ({type(models[name]).__name__}) gives no quantiles; wrap it in "
            f"forecastkit.forecasters.ConformalIntervals, leave it out, or pass "
            f"skip_unsupported=True to score only its point forecasts"
        )
    return levels, point_only


def _plan(model_levels: dict[str, np.ndarray | None], parts, panel: Panel,
          windows: list[Window], horizon: int, every: int, store: ResultStore | None):
    """The finished units' forecasts and seconds (reloaded from ``store``), and the units
    still to run. A block of series that a window does not cover (a ragged split) has no
    unit for it; a group of windows is fitted at the first of them that covers the block."""
    done: dict[Key, tuple] = {}
    seconds: dict[Key, float] = {}
    units = []
    for name, levels in model_levels.items():
        as_tuple = None if levels is None else tuple(float(v) for v in levels)
        for part, block in parts[name]:
            for first in range(0, len(windows), every):
                group = [w for w in range(first, min(first + every, len(windows)))
                         if _covers(windows[w], block)]
                todo = []
                for w in group:
                    if store is not None and store.is_done(name, w, part):
                        sub, win = unit_view(panel, windows[w], block)
                        done[name, w, part] = reload_unit(store, name, w, part, sub, win, horizon,
                                                      levels)
                        seconds[name, w, part] = store.seconds(name, w, part)
                    else:
                        todo.append(w)
                if todo:
                    units.append(Unit(name, group[0], tuple(todo), part, block, as_tuple))
    return done, seconds, units


def _covers(win: Window, block: tuple[int, int] | None) -> bool:
    """Whether ``win`` covers any series of ``block`` (None: of the panel)."""
    return len((win if block is None else win.take(slice(*block))).covered()) > 0


def _warn_ragged(panel: Panel, windows: list[Window]) -> None:
    """One warning when some series are left out of the earlier windows."""
    counts = np.zeros(panel.n_series, dtype=np.int64)
    for win in windows:
        counts[win.covered()] += 1
    short = np.flatnonzero(counts < len(windows))
    if not len(short):
        return
    fewest = int(counts[short].min())
    warnings.warn(
        f"{len(short)} of {panel.n_series} series are too short for all {len(windows)} "
        f"windows (e.g. {panel.ids[short[0]]!r}, {panel.lengths[short[0]]} observations): "
        f"each is forecast in the latest windows it supports ({fewest} at the fewest) and "
        f"left out of the earlier ones; backtest_metrics gives each series' n_windows",
        ForecastkitWarning, stacklevel=3,
    )


def _parts(forecaster, n_series: int) -> list[tuple[int | None, tuple | None]]:
    """``(part, (first, stop))`` blocks of series for a model that fits each series
    independently; one ``(None, None)`` for any other."""
    size = SERIES_PER_UNIT
    if not fits_series_independently(forecaster) or n_series <= size:
        return [(None, None)]
    starts = range(0, n_series, size)
    return [(k, (a, min(a + size, n_series))) for k, a in enumerate(starts)]


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
