"""The shared machinery of probabilistic forecasts: levels, columns, checks, combination.

A forecaster gives quantiles through its ``_predict_quantiles`` hook (shape
``(n_series, horizon, n_levels)``) or joint sample paths through ``_sample_paths`` (shape
``(n_series, n_paths, horizon)``); :class:`~forecastkit.forecasters.base.BaseForecaster` turns
them into frames with the helpers here. Columns are named ``q<level>`` for quantiles
(``q0.1``, ``q0.5``) and ``lo-<c>``/``hi-<c>`` for central intervals of coverage ``c`` percent
(``lo-80``, ``hi-95``), as NeuralForecast and statsforecast name them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit.data.panel import Panel
from forecastkit.exceptions import ForecastkitError, InvalidInputError

__all__ = [
    "check_levels",
    "interval_levels",
    "quantile_name",
    "check_quantiles",
    "empirical_quantiles",
    "average_quantiles",
    "frame_of_columns",
    "paths_frame",
    "DEFAULT_PATHS",
]

# Paths drawn to estimate quantiles of a model that only samples: the Monte Carlo error of a
# 5% quantile from 2,000 draws is about 0.5 points of coverage.
DEFAULT_PATHS = 2000


def check_levels(quantiles) -> np.ndarray:
    """Quantile levels as a sorted float64 array; InvalidInputError for anything else.

    Parameters
    ----------
    quantiles : sequence of float
        Levels strictly between 0 and 1, each once.
    """
    if isinstance(quantiles, str) or np.ndim(quantiles) != 1:
        raise InvalidInputError(
            f"quantiles must be a sequence of levels in (0, 1), e.g. [0.1, 0.5, 0.9]; got "
            f"{quantiles!r}"
        )
    try:
        levels = np.asarray(quantiles, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"quantile levels must be numbers, got {quantiles!r}") from None
    if levels.size == 0:
        raise InvalidInputError("quantiles is empty; give at least one level in (0, 1)")
    bad = levels[~((levels > 0) & (levels < 1))]
    if bad.size:
        raise InvalidInputError(
            f"quantile level {bad[0]!r} is outside (0, 1); levels are fractions such as 0.1 "
            f"for the 10% quantile"
        )
    if len(np.unique(levels)) != len(levels):
        raise InvalidInputError(f"quantile levels repeat: {list(quantiles)!r}")
    return np.sort(levels)


def interval_levels(coverage) -> tuple[np.ndarray, dict[str, float]]:
    """Quantile levels of central intervals, and the ``lo-<c>``/``hi-<c>`` column of each.

    Parameters
    ----------
    coverage : float or sequence of float
        Fractions in (0, 1): 0.8 is the interval holding 80% of the distribution.

    Returns
    -------
    levels : ndarray
        Sorted levels ``(1 - c) / 2`` and ``1 - (1 - c) / 2`` of every coverage.
    columns : dict
        Column name -> level, in the order ``lo-c1, hi-c1, lo-c2, hi-c2`` (coverage
        ascending).
    """
    values = np.atleast_1d(np.asarray(coverage, dtype=object))
    if values.size == 0:
        raise InvalidInputError("coverage is empty; give at least one fraction, e.g. 0.8")
    columns: dict[str, float] = {}
    for c in sorted({_coverage(v) for v in values}):
        name = format(round(c * 100, 10), "g")
        columns[f"lo-{name}"] = (1 - c) / 2
        columns[f"hi-{name}"] = 1 - (1 - c) / 2
    return np.array(sorted(set(columns.values()))), columns


def _coverage(value) -> float:
    try:
        c = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"coverage must be a fraction in (0, 1), got {value!r}") from None
    if not 0 < c < 1:
        raise InvalidInputError(
            f"coverage {value!r} is outside (0, 1); it is a fraction, e.g. 0.8 for an 80% "
            f"interval"
        )
    return c


def quantile_name(level: float) -> str:
    """Column name of a quantile level: ``q0.1`` for 0.1."""
    return "q" + format(float(level), "g")


def check_quantiles(q: np.ndarray, panel: Panel, horizon: int, n_levels: int,
                    who: str) -> np.ndarray:
    """Check a hook's quantiles and make them non-crossing.

    Returns ``q`` as float64 of shape (n_series, horizon, n_levels), sorted along the level
    axis (monotone rearrangement: the sorted values are closer to the true quantiles than
    crossing ones, in every Lp norm). A non-finite value is a ForecastkitError naming the
    series, never a silent NaN.
    """
    q = np.asarray(q, dtype=np.float64)
    expected = (panel.n_series, horizon, n_levels)
    if q.shape != expected:
        raise ForecastkitError(f"{who} returned quantiles of shape {q.shape}, not {expected}")
    finite = np.isfinite(q).all(axis=(1, 2))
    if not finite.all():
        sid = panel.ids[int(np.flatnonzero(~finite)[0])]
        raise ForecastkitError(f"{who} produced non-finite quantiles for series {sid!r}")
    return np.sort(q, axis=2)


def empirical_quantiles(paths: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles of sample paths: (n_series, n_paths, horizon) -> (n_series, horizon, k)."""
    q = np.quantile(np.asarray(paths, dtype=np.float64), levels, axis=1)  # (k, n, h)
    return np.moveaxis(q, 0, -1)


def average_quantiles(members: list[np.ndarray], weights=None) -> np.ndarray:
    """Combine members' quantile forecasts by averaging their quantile functions.

    Parameters
    ----------
    members : list of ndarray of shape (n_series, horizon, n_levels)
    weights : sequence of float, optional
        Non-negative weights (normalised here); equal weights by default.

    Returns
    -------
    ndarray of shape (n_series, horizon, n_levels)
        For each level the (weighted) mean of the members' quantiles at that level. Averaging
        quantile functions (Vincentization) keeps quantiles non-crossing.
    """
    stack = np.stack([np.asarray(m, dtype=np.float64) for m in members])
    w = np.ones(len(members)) if weights is None else np.asarray(weights, dtype=np.float64)
    return np.tensordot(w / w.sum(), stack, axes=1)


def frame_of_columns(panel: Panel, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Forecast columns, each (n_series, horizon), as a frame that mirrors the input.

    A single series in gives a DataFrame indexed by the future time stamps; a long or wide
    frame in gives a long frame ``id_col, time_col, <columns>``.
    """
    horizon = next(iter(columns.values())).shape[1]
    future = panel.future_times(horizon)
    if panel.input_kind == "series":
        index = panel.to_time_index(future[0], with_freq=True)
        return pd.DataFrame({k: np.asarray(v[0], dtype=np.float64) for k, v in columns.items()},
                            index=index)
    out = {
        panel.id_col: np.repeat(panel.ids, horizon),
        panel.time_col: panel.to_time_index(future.ravel()),
    }
    out.update({k: np.asarray(v, dtype=np.float64).ravel() for k, v in columns.items()})
    return pd.DataFrame(out)


def paths_frame(panel: Panel, paths: np.ndarray) -> pd.DataFrame:
    """Sample paths (n_series, n_paths, horizon) as a long frame ``id, time, path, y``."""
    n_series, n_paths, horizon = paths.shape
    future = panel.future_times(horizon)  # (n_series, horizon)
    times = np.broadcast_to(future[:, None, :], paths.shape).ravel()
    return pd.DataFrame({
        panel.id_col: np.repeat(panel.ids, n_paths * horizon),
        panel.time_col: panel.to_time_index(times),
        "path": np.tile(np.repeat(np.arange(n_paths), horizon), n_series),
        panel.target_col: paths.ravel(),
    })
