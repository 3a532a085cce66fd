"""The base of the classical baselines: one model per series, run by per-series kernels.

:class:`_LocalBaseline` runs a kernel of :mod:`._kernels` over every series (in-process, or
over chunks of series in joblib processes for :class:`_ParallelBaseline`; a kernel with a batch
method gets a chunk's series in one call), stores the forecasts, their error
standard deviations and the per-series parameters, and answers quantile and sample-path
requests from them; see :mod:`forecastkit.forecasters.baselines` for the methods.
"""

from __future__ import annotations

import json
import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from forecastkit._compat import Interval
from forecastkit.data.frames import Panel
from forecastkit.exceptions import (
    ForecastkitError,
    ForecastkitWarning,
    InvalidInputError,
    SeriesTooShortError,
)
from forecastkit.forecasters import _intervals as _iv
from forecastkit.forecasters import _kernels as _k
from forecastkit.forecasters import _probabilistic as _prob
from forecastkit.forecasters.base import BaseForecaster

__all__ = ["_LocalBaseline", "_ParallelBaseline"]

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")


class _LocalBaseline(BaseForecaster):
    """One model per series; :mod:`forecastkit.forecasters.baselines` describes the intervals,
    the fallback and the fitted state."""

    is_global: ClassVar[bool] = False
    supports_paths: ClassVar[bool] = True
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "season_length": [_POSITIVE_INT],
        "horizon": [_POSITIVE_INT, None],
    }
    _kernel: ClassVar[Any] = None
    _min_length: ClassVar[int] = 1  # shorter series fall back to Naive2
    _parallel: ClassVar[bool] = False  # worth spreading over processes

    def __init__(self, season_length: int = 1, horizon: int | None = None):
        self.season_length = season_length
        self.horizon = horizon

    @property
    def supports_quantiles(self) -> bool:
        return True

    def _required_length(self) -> int:
        return self._min_length

    def _fit_horizon(self) -> int:
        # Without a horizon parameter, store two seasons (at least 8 steps) of forecasts.
        return self.horizon if self.horizon is not None else max(2 * self.season_length, 8)

    def _check_horizon(self, horizon: int | None) -> int:
        if horizon is None and self.horizon is None and hasattr(self, "forecasts_"):
            horizon = self.forecasts_.shape[1]  # what fit computed without a horizon
        return super()._check_horizon(horizon)

    def _map(self, func, items: list, *args) -> list:
        """``func(chunk, *args)`` over chunks of ``items``, concatenated: one chunk in-process,
        or a few per joblib process when worth it (``func`` returns a list per chunk)."""
        n_jobs = getattr(self, "n_jobs", 1)
        workers = effective_n_jobs(n_jobs)
        if not self._parallel or workers <= 1 or len(items) < 2 * workers:
            return func(items, *args)
        # A few chunks per worker: balanced load without one task per (millisecond) series.
        bounds = np.linspace(0, len(items), 4 * workers + 1).astype(int)
        chunks = Parallel(n_jobs=n_jobs)(
            delayed(func)(items[a:b], *args)
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            if b > a
        )
        return [r for chunk in chunks for r in chunk]

    def _run(self, panel: Panel, horizon: int) -> list:
        # A chunk's series go to the kernel together: kernels with a batch method (the
        # smoothing methods) fit them all in one search.
        kernel, m, need = type(self)._kernel, self.season_length, self._required_length()
        series = [panel.series(i) for i in range(panel.n_series)]
        return self._map(_k.run_series, series, kernel, m, horizon, need)

    def _fit(self, panel: Panel) -> None:
        results = self._run(panel, self._fit_horizon())
        self.forecasts_ = np.stack([r[0] for r in results])
        self.scales_ = np.stack([r[1] for r in results])
        self.params_ = [r[2] for r in results]
        failed = [(panel.ids[i], r[3]) for i, r in enumerate(results) if r[3] is not None]
        self.fallback_ids_ = np.array([sid for sid, _ in failed], dtype=object)
        if failed:
            shown = "; ".join(f"{sid!r} ({why})" for sid, why in failed[:10])
            more = f"; and {len(failed) - 10} more (see fallback_ids_)" if len(failed) > 10 else ""
            warnings.warn(
                f"{type(self).__name__} could not be fitted to {len(failed)} series, which fall "
                f"back to Naive2: {shown}{more}",
                ForecastkitWarning,
                stacklevel=3,
            )
        additive = [panel.ids[i] for i, p in enumerate(self.params_)
                    if p.get("decomposition") == "additive"]
        if additive:
            shown = ", ".join(repr(sid) for sid in additive[:10])
            more = f" and {len(additive) - 10} more" if len(additive) > 10 else ""
            warnings.warn(
                f"{type(self).__name__}: {len(additive)} seasonal series not strictly positive "
                f"({shown}{more}) were deseasonalised additively instead of by M4's "
                f"multiplicative decomposition (params_[i]['decomposition'] says which)",
                ForecastkitWarning,
                stacklevel=3,
            )

    def _state(self, panel: Panel, horizon: int):
        """``(forecasts, sds, params)`` for ``horizon`` steps: the stored ones, or for a longer
        horizon the training series refitted (fallbacks were already reported by fit)."""
        if horizon <= self.forecasts_.shape[1]:
            return self.forecasts_[:, :horizon], self.scales_[:, :horizon], self.params_
        results = self._run(panel, horizon)
        return (np.stack([r[0] for r in results]), np.stack([r[1] for r in results]),
                [r[2] for r in results])

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        return self._state(panel, horizon)[0]

    # ------------------------------------------------------------------ probabilistic

    def _predict_quantiles(self, panel: Panel, horizon: int, levels: np.ndarray) -> np.ndarray:
        fc, sd, params = self._state(panel, horizon)
        normal = self._check_spread(panel, params, sd)
        q = _iv.normal_quantiles(fc, sd, levels)
        simulated = np.flatnonzero(~normal)
        if simulated.size:
            # A fixed seed per series id: the same quantiles in any panel, order or process.
            seeds = [_iv.quantile_seed(panel.ids[i]) for i in simulated]
            paths = self._model_paths(panel, simulated, params, horizon, _prob.DEFAULT_PATHS,
                                      seeds)
            q[simulated] = _prob.empirical_quantiles(paths, levels)
        return q

    def _sample_paths(self, panel: Panel, horizon: int, n_paths: int, rng) -> np.ndarray:
        fc, sd, params = self._state(panel, horizon)
        self._check_spread(panel, params, sd)
        # One seed per series, so a series' paths do not depend on how series are spread.
        seeds = rng.integers(0, np.iinfo(np.int64).max, size=panel.n_series)
        out = np.empty((panel.n_series, n_paths, horizon))
        fitted = []
        for i, p in enumerate(params):
            if p["interval"]["kind"] in _iv.LINEAR_KINDS:
                out[i] = _iv.linear_paths(fc[i], sd[i], p["interval"], n_paths,
                                          np.random.default_rng(seeds[i]))
            else:
                fitted.append(i)
        if fitted:
            out[fitted] = self._model_paths(panel, fitted, params, horizon, n_paths,
                                            seeds[fitted])
        return out

    def _model_paths(self, panel, rows, params, horizon, n_paths, seeds) -> np.ndarray:
        """Paths (len(rows), n_paths, horizon) of the fitted ETS/ARIMA models of ``rows``."""
        jobs = [(panel.series(i), params[i], horizon, n_paths, int(seed))
                for i, seed in zip(rows, seeds, strict=True)]
        return np.stack(self._map(_k.run_each, jobs, _k.model_paths))

    def _check_spread(self, panel: Panel, params: list, sd: np.ndarray) -> np.ndarray:
        """Which series have Gaussian errors (bool, (n_series,)); raise for a Gaussian one
        whose spread could not be estimated, naming it."""
        name = type(self).__name__
        if any("interval" not in p for p in params):
            raise ForecastkitError(f"this {name} was fitted by a forecastkit without intervals; "
                                   f"fit it again to get quantiles")
        normal = np.array([p["interval"].get("normal", True) for p in params], dtype=bool)
        unknown = normal & ~np.isfinite(sd).all(axis=1)
        if unknown.any():
            i = int(np.flatnonzero(unknown)[0])
            raise SeriesTooShortError(
                f"series {panel.ids[i]!r} has {panel.lengths[i]} observations: too few for "
                f"{name} to estimate the spread of its forecast errors (intervals need "
                f"{_iv.min_length(params[i]['interval'])}); give longer histories or drop it"
            )
        return normal

    # ------------------------------------------------------------------ persistence

    def get_fitted_state(self) -> dict:
        """Fitted state as numpy arrays and JSON text (what ``set_fitted_state`` needs).

        Returns
        -------
        dict
            ``forecasts`` and ``scales``: float64 arrays (n_series, horizon) of the point
            forecasts and their error standard deviations; ``fallback``: bool array
            (n_series,); ``params``: JSON string of the per-series parameter dicts (the
            error models included).
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        fallback = np.isin(self.panel_.ids, self.fallback_ids_)
        return {
            "forecasts": np.asarray(self.forecasts_, dtype=np.float64),
            "scales": np.asarray(self.scales_, dtype=np.float64),
            "fallback": fallback,
            "params": json.dumps(self.params_),
        }

    def set_fitted_state(self, state: dict, panel: Panel):
        """Restore :meth:`get_fitted_state` output for the training ``panel``; returns self."""
        forecasts = np.asarray(state["forecasts"], dtype=np.float64)
        if forecasts.ndim != 2 or forecasts.shape[0] != panel.n_series:
            raise InvalidInputError(
                f"fitted state holds forecasts of shape {forecasts.shape}; expected "
                f"({panel.n_series}, horizon) for the given panel"
            )
        # A state saved before intervals existed has no scales: point forecasts still work.
        scales = np.asarray(state.get("scales", np.full(forecasts.shape, np.nan)), np.float64)
        if scales.shape != forecasts.shape:
            raise InvalidInputError(
                f"fitted state holds scales of shape {scales.shape}; expected {forecasts.shape}"
            )
        self.forecasts_ = forecasts
        self.scales_ = scales
        self.params_ = json.loads(str(state["params"]))
        self.fallback_ids_ = panel.ids[np.asarray(state["fallback"], dtype=bool)]
        self.panel_ = panel
        self.n_series_ = panel.n_series
        return self


class _ParallelBaseline(_LocalBaseline):
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        **_LocalBaseline._parameter_constraints,
        "n_jobs": [Integral, None],
    }
    _parallel: ClassVar[bool] = True

    def __init__(self, season_length: int = 1, horizon: int | None = None, n_jobs: int | None = -1):
        self.season_length = season_length
        self.horizon = horizon
        self.n_jobs = n_jobs
