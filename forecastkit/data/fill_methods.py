"""The fills behind :func:`forecastkit.data.fill_missing`, one series at a time.

:func:`filled_values` fills the NaN of one series (leading NaN already trimmed) by one of
``fill_missing``'s methods; ``"auto"`` lets M4's seasonality test decide whether the season
shapes the fill, and splits runs at the networks' threshold
(:data:`forecastkit.data.gap_rule.LONG_GAP_SEASONS`). NumPy and pandas only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit.data.gap_rule import LONG_GAP_SEASONS
from forecastkit.data.seasonality import seasonality_test

__all__ = ["filled_values"]


def filled_values(g: pd.DataFrame, target_col: str, time_col: str, method: str,
                  season_length: int | None) -> np.ndarray:
    """``g[target_col]`` with every NaN filled by ``method`` (one of ``FILL_METHODS``), shape
    (len(g),); ``g`` is one series in time order, starting with an observation."""
    v = g[target_col].reset_index(drop=True)
    if method == "time":
        stamps = pd.Index(g[time_col])
        if isinstance(stamps, pd.PeriodIndex):
            stamps = stamps.to_timestamp()
        s = pd.Series(v.to_numpy(), index=pd.DatetimeIndex(stamps))
        return s.interpolate(method="time").ffill().to_numpy()
    if method == "nearest":
        return v.interpolate(method="nearest").ffill().to_numpy()
    if method == "linear":
        return v.interpolate(method="linear").ffill().to_numpy()
    if method == "auto":
        linear = filled_values(g, target_col, time_col, "linear", None)
        # The season shapes the fill only where M4's test finds one (on the line-filled
        # series): drawn around a weak or absent season, the fill follows noise.
        if (season_length is None or int(season_length) < 2
                or not seasonality_test(linear, int(season_length), lag_cap=False)):
            return linear
        m = int(season_length)
        seasonal = filled_values(g, target_col, time_col, "seasonal", m)
        missing = v.isna().to_numpy()
        short = missing & (_run_lengths(missing) < LONG_GAP_SEASONS * m)
        if not short.any():
            return seasonal
        return np.where(short, _line_around_the_season(v.to_numpy(), seasonal, linear, m),
                        seasonal)
    out = v.to_numpy().copy()
    m = int(season_length)  # type: ignore[arg-type]
    for p in range(m):
        # One season position: the values one cycle apart, interpolated between themselves;
        # before its first observation it takes that one (the next cycle's value).
        phase = pd.Series(out[p::m])
        if phase.notna().any():
            out[p::m] = (phase.interpolate(method="linear", limit_area="inside").ffill().bfill()
                         .to_numpy())
    rest = pd.Series(out)  # positions never observed in the series
    return rest.interpolate(method="linear").ffill().bfill().to_numpy()


def _line_around_the_season(y: np.ndarray, seasonal: np.ndarray, linear: np.ndarray,
                            m: int) -> np.ndarray:
    """A short gap's fill: the straight line between its neighbours drawn after taking out
    the season, which is then put back.

    The season at step t is the mean of the seasonally filled series one cycle before and one
    after (either where only one exists). Across a few hours of a strong daily cycle a straight
    line through the values themselves cuts the day's shape off; through the deviations from
    the neighbouring days it keeps it. Shapes (n,); ``linear`` is used where no cycle exists
    on either side (a series of at most ``m`` steps).

    The fill is clipped to the range of the series' observed values, which the linear and
    seasonal fills never leave: next to a day far quieter than its neighbours the line can
    overshoot, down to zero or below in a positive series, and one such value switches a
    network's ``scaler="auto"`` off log-levels for the whole panel
    (experiments/results/missing_data/fill_error.md).
    """
    n = len(y)
    if n <= m:
        return linear
    before = np.full(n, np.nan)
    after = np.full(n, np.nan)
    before[m:], after[:-m] = seasonal[:-m], seasonal[m:]
    season = np.where(np.isnan(before), after,
                      np.where(np.isnan(after), before, (before + after) / 2))
    deviation = pd.Series(y - season).interpolate(method="linear").ffill().bfill().to_numpy()
    return np.clip(season + deviation, np.nanmin(y), np.nanmax(y))


def _run_lengths(missing: np.ndarray) -> np.ndarray:
    """Length of the run of ``True`` each element is in (0 where ``False``), shape of
    ``missing`` (1-D bool)."""
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = np.zeros(len(missing), dtype=np.int64)
    for start, end in zip(starts, ends, strict=True):
        lengths[start:end] = end - start
    return lengths
