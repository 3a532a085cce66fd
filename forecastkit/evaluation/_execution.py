"""Running a backtest's units of work: in local processes (joblib) or on a Dask cluster.

A unit is one model over one group of windows and one block of series; it runs in a worker and
returns its forecasts to the parent process, which alone writes results (see
:mod:`forecastkit.evaluation.backtest`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from forecastkit.data.frames import Panel
from forecastkit.evaluation.splitters import Window
from forecastkit.exceptions import InvalidInputError
from forecastkit.forecasters.base import fits_series_independently

__all__ = ["Unit", "unit_view", "forecast_window", "check_backend", "check_n_jobs", "execute",
           "progress_bar", "CONNECT_TIMEOUT"]

# Seconds to wait for a Dask scheduler given by address before giving up; Dask's own default
# (30 s, and a retry loop on refused connections) makes a mistyped address look like a hang.
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Unit:
    model: str
    fit_window: int  # the window whose training data the model is fitted on
    windows: tuple[int, ...]  # windows still to forecast (a subset of the group)
    part: int | None = None  # block of series (local models), or None: all series
    series: tuple[int, int] | None = None  # [first, stop) positions of that block
    levels: tuple[float, ...] | None = None  # quantile levels to forecast too, or None


def unit_view(panel: Panel, win: Window, block: tuple[int, int] | None) -> tuple[Panel, Window]:
    """The series of ``block`` (``[first, stop)`` positions; None: all) that ``win`` covers,
    and the window over them: a series too short for a window of a ragged split is left out
    of it (see :meth:`Window.covered`)."""
    if block is not None:
        panel, win = panel.take(np.arange(*block)), win.take(slice(*block))
    keep = win.covered()
    if len(keep) == len(win.end):
        return panel, win
    return panel.take(keep), win.take(keep)


def run_unit(unit: Unit, forecaster, panel: Panel, windows: list[Window], horizon: int,
             covariates: tuple = (None, None)):
    """Fit at ``unit.fit_window`` and forecast ``unit.windows``; runs in a worker.

    ``covariates``: ``(X, static)`` frames for forecasters that read them (the full frames:
    each fit and forecast looks up the rows of its own series and time stamps).

    Returns a list of ``(unit, window, y_pred, quantiles, seconds)``: ``y_pred`` of shape
    (n_covered, horizon), ``quantiles`` of shape (n_covered, horizon, n_levels) at
    ``unit.levels`` (None when the unit forecasts no quantiles), for the series of the unit's
    block that the window covers (:func:`unit_view`).
    """
    t0 = time.perf_counter()
    fit_panel, fit_win = unit_view(panel, windows[unit.fit_window], unit.series)
    # The forecaster only ever receives the sliced panel: nothing after the cutoff.
    X, static = covariates
    model = clone(forecaster).fit(fit_panel.slice(fit_win.start, fit_win.end),
                                  **_covariate_kwargs(X, static))
    fit_seconds = time.perf_counter() - t0
    out = []
    for w in unit.windows:
        t1 = time.perf_counter()
        history = None
        if w != unit.fit_window:
            # A later window may cover more series than the fit window of a ragged split; a
            # global model continues them from their histories, a local one is fitted on them.
            sub, win = unit_view(panel, windows[w], unit.series)
            history = sub.slice(win.start, win.end)
        y_pred, q = forecast_window(model, horizon, unit.levels, history, covariates)
        secs = time.perf_counter() - t1 + (fit_seconds if w == unit.fit_window else 0.0)
        out.append((unit, w, y_pred, q, secs))
    return out


def forecast_window(model, horizon: int, levels, history: Panel | None,
                    covariates: tuple = (None, None)):
    """A fitted model's point forecasts (n_series, horizon) and, with ``levels``, its
    quantiles (n_series, horizon, n_levels), from its training data or from ``history``."""
    cov = _covariate_kwargs(*covariates)
    if levels is None:
        return np.asarray(model.predict_array(horizon, y=history, **cov),
                          dtype=np.float64), None
    if history is not None and fits_series_independently(model):
        # A local model is fitted on each new history; fit it once for both forecasts.
        model, history = clone(model).fit(history, **cov), None
    y_pred = np.asarray(model.predict_array(horizon, y=history, **cov), dtype=np.float64)
    q = model.predict_quantiles_array(list(levels), horizon, y=history, **cov)
    return y_pred, np.asarray(q, dtype=np.float64)


def check_covariates(models: dict, X, static) -> None:
    """Covariates given: every model must read them (else a CovariateError names it)."""
    if X is None and static is None:
        return
    from forecastkit.exceptions import CovariateError

    for name, model in models.items():
        if not getattr(model, "supports_covariates", False):
            raise CovariateError(f"model {name!r} ({type(model).__name__}) cannot use "
                                 f"covariates; backtest it without X and static")


def _covariate_kwargs(X, static) -> dict:
    """``X=`` and ``static=`` for fit and predict, only when given (so forecasters written
    without covariate parameters keep working)."""
    return {k: v for k, v in (("X", X), ("static", static)) if v is not None}


def check_backend(backend) -> tuple[str, Any]:
    """``("joblib", None)``, ``("dask", None)`` (a local cluster) or ``("dask", scheduler)``
    for a scheduler address or a ``distributed.Client``."""
    if isinstance(backend, str):
        if backend in ("joblib", "dask"):
            return backend, None
        if "://" in backend:
            return "dask", backend
    elif hasattr(backend, "submit") and hasattr(backend, "scatter"):
        return "dask", backend
    raise InvalidInputError(
        f"backend must be 'joblib', 'dask', a Dask scheduler address or a distributed.Client, "
        f"got {backend!r}"
    )


def check_n_jobs(n_jobs, backend) -> None:
    """``n_jobs`` must be None or a non-zero integer (joblib: -1 all cores, -2 all but one...);
    a local Dask cluster takes a positive number of workers, or -1/None for Dask's default."""
    kind, scheduler = check_backend(backend)
    ok = n_jobs is None or (isinstance(n_jobs, int | np.integer) and not isinstance(n_jobs, bool)
                            and n_jobs != 0)
    if ok and kind == "dask" and scheduler is None:
        ok = n_jobs is None or n_jobs == -1 or n_jobs > 0
    if not ok:
        raise InvalidInputError(
            f"n_jobs must be a positive number of workers, or -1 for all cores, got {n_jobs!r}"
        )


def execute(units, models, panel, windows, horizon, n_jobs, backend,
            covariates: tuple = (None, None)) -> Iterator[tuple]:
    """Yield ``(unit, window, y_pred, quantiles, seconds)`` as units finish, in any order."""
    if not units:
        return
    kind, scheduler = check_backend(backend)
    if kind == "dask":
        yield from _execute_dask(units, models, panel, windows, horizon, n_jobs, scheduler,
                                 covariates)
        return
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    jobs = (delayed(run_unit)(u, models[u.model], panel, windows, horizon, covariates)
            for u in units)
    for results in parallel(jobs):
        yield from results


def _execute_dask(units, models, panel, windows, horizon, n_jobs, scheduler, covariates):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidInputError(
            "a Dask backend needs dask.distributed: pip install 'forecastkit[dask]'"
        ) from None
    owned = []
    if scheduler is None:
        workers = None if n_jobs in (None, -1) else int(n_jobs)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        owned = [client, cluster]
    elif isinstance(scheduler, str):
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as err:
            raise InvalidInputError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {CONNECT_TIMEOUT:g} s "
                f"({err}); is it running, and is the address right?"
            ) from None
        owned = [client]
    else:
        client = scheduler
    try:
        # Send the panel once to every worker instead of once per unit.
        panel_f = client.scatter(panel, broadcast=True)
        cov_f = client.scatter(covariates, broadcast=True) if any(
            c is not None for c in covariates) else covariates
        futures = [
            client.submit(run_unit, u, models[u.model], panel_f, windows, horizon, cov_f,
                          pure=False)
            for u in units
        ]
        for fut in as_completed(futures):
            yield from fut.result()
    finally:
        for obj in owned:
            obj.close()


class progress_bar:
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
