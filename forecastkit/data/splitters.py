"""Rolling-origin splits of a panel: where each window's training data ends.

Backtests (:mod:`forecastkit.evaluation`) and the forecasters that calibrate on their own
training data (:class:`~forecastkit.forecasters.ConformalIntervals`) share these splits, so the
splitter lives in the data layer, below both.

A window is described per series by two positions, ``start`` and ``end``: the forecaster trains on
``series[start:end]`` and is scored on ``series[end:end + horizon]``. Positions are counted from
the end of each series, so series of different lengths that end together share their cutoffs (as
a real panel does), and nothing after ``end`` is ever handed to the forecaster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from forecastkit.data.frames import to_panel
from forecastkit.data.panel import Panel
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError

__all__ = ["RollingOriginSplitter", "RollingOriginCV", "Window", "MIN_SCORED_TRAIN_LENGTH"]

# The fewest training points a series needs before a window to be forecast and scored in it (a
# scaled error needs two); a ragged split leaves a shorter series out of that window.
MIN_SCORED_TRAIN_LENGTH = 2


@dataclass(frozen=True)
class Window:
    """One backtest window over every series of a panel.

    Attributes
    ----------
    index : int
        0 for the earliest window.
    start, end : ndarray of shape (n_series,), int64
        Series ``i`` trains on positions ``start[i]:end[i]`` and is scored on
        ``end[i]:end[i] + horizon``.
    """

    index: int
    start: np.ndarray
    end: np.ndarray

    def covered(self) -> np.ndarray:
        """Positions of the series this window scores: all of them, except those a ragged
        split left out of it (whose training part is empty: ``end`` is 0)."""
        return np.flatnonzero(self.end >= 1)

    def take(self, positions) -> Window:
        """The window over the series at ``positions`` (indices or a slice), in that order."""
        return Window(self.index, self.start[positions], self.end[positions])


class _RollingOrigin:
    """The parameters of a rolling origin, checked; shared by the panel splitter and the
    scikit-learn one."""

    def __init__(
        self,
        horizon: int,
        n_windows: int = 3,
        step: int | None = None,
        window: Literal["expanding", "sliding"] = "expanding",
        window_length: int | None = None,
    ):
        self.horizon = horizon
        self.n_windows = n_windows
        self.step = step
        self.window = window
        self.window_length = window_length

    def _check(self) -> int:
        for name in ("horizon", "n_windows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")
        step = self.horizon if self.step is None else self.step
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 1:
            raise InvalidInputError(f"step must be a positive integer, got {self.step!r}")
        if self.window not in ("expanding", "sliding"):
            raise InvalidInputError(
                f"window must be 'expanding' or 'sliding', got {self.window!r}"
            )
        if self.window == "sliding":
            wl = self.window_length
            if isinstance(wl, bool) or not isinstance(wl, int | np.integer) or wl < 1:
                raise InvalidInputError(
                    f"window='sliding' needs a positive integer window_length, got {wl!r}"
                )
        return int(step)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(horizon={self.horizon}, n_windows={self.n_windows}, "
            f"step={self.step}, window={self.window!r}, window_length={self.window_length})"
        )


class RollingOriginSplitter(_RollingOrigin):
    """Cutoffs of a rolling-origin (time-series cross-validation) evaluation.

    The last window forecasts the last ``horizon`` points of each series; each earlier window ends
    ``step`` points before the next, so the windows together hold out the last
    ``(n_windows - 1) * step + horizon`` points of each series.

    Parameters
    ----------
    horizon : int
        Steps forecast in each window.
    n_windows : int, default=3
        Number of forecast origins.
    step : int, optional
        Points between consecutive origins; defaults to ``horizon`` (windows that do not overlap).
    window : {"expanding", "sliding"}, default="expanding"
        ``"expanding"`` trains on all history up to the cutoff; ``"sliding"`` on the last
        ``window_length`` points only.
    window_length : int, optional
        Training length of a sliding window (required for ``window="sliding"``). A series with
        fewer points before a cutoff trains on what it has.

    Examples
    --------
    >>> RollingOriginSplitter(horizon=2, n_windows=3).train_ends(10)
    array([4, 6, 8])
    """

    @property
    def held_out(self) -> int:
        """Points at the end of each series that some window forecasts."""
        return (self.n_windows - 1) * self._check() + self.horizon

    def train_ends(self, length: int | np.ndarray) -> np.ndarray:
        """Training end positions of every window, earliest first.

        Parameters
        ----------
        length : int or ndarray of shape (n_series,)
            Series length(s).

        Returns
        -------
        ndarray of shape (n_windows,) or (n_series, n_windows)
        """
        step = self._check()
        back = self.horizon + step * np.arange(self.n_windows - 1, -1, -1)
        return np.asarray(length, dtype=np.int64)[..., None] - back

    def windows(self, panel: Panel, min_train_length: int = 1, *,
                ragged: bool = False) -> list[Window]:
        """The windows over ``panel``.

        Parameters
        ----------
        panel : Panel
        min_train_length : int, default=1
            Shortest training part a window may have.
        ragged : bool, default=False
            False: every series must support every window. True: a series with fewer than
            ``min_train_length`` points before an earlier window is left out of it (its
            ``start`` and ``end`` there are 0, and :meth:`Window.covered` omits it); it must
            still support the last window.

        Raises
        ------
        SeriesTooShortError
            Naming the first series whose earliest window (with ``ragged``, its last window)
            would train on fewer than ``min_train_length`` points.
        """
        ends = self.train_ends(panel.lengths)  # (n_series, n_windows)
        first = self.n_windows - 1 if ragged else 0
        short = np.flatnonzero(ends[:, first] < min_train_length)
        if len(short):
            i = short[0]
            more = f" (and {len(short) - 1} more)" if len(short) > 1 else ""
            held_out = self.horizon if ragged else self.held_out
            which = "its last window" if ragged else (
                f"a rolling origin with {self.n_windows} window(s)")
            raise SeriesTooShortError(
                f"series {panel.ids[i]!r} has {panel.lengths[i]} observations; {which} of "
                f"horizon {self.horizon} holds out the last {held_out} and needs at least "
                f"{min_train_length} before them, i.e. {held_out + min_train_length} in "
                f"all{more}. Use fewer windows, a smaller step or horizon, or drop short series"
            )
        out = []
        for w in range(self.n_windows):
            end = ends[:, w]
            if self.window == "sliding":
                start = np.maximum(end - int(self.window_length), 0)  # type: ignore[arg-type]
            else:
                start = np.zeros_like(end)
            # A series a ragged split leaves out: an empty training part at position 0.
            end = np.where(end >= min_train_length, end, 0)
            start = np.minimum(start, end)
            out.append(Window(index=w, start=start, end=end))
        return out

    def split(self, panel: Panel) -> Iterator[tuple[Panel, np.ndarray]]:
        """Yield ``(train_panel, holdout_values)`` per window; holdout_values has shape
        (n_series, horizon)."""
        for win in self.windows(panel):
            yield panel.slice(win.start, win.end), panel.values_after(win.end, self.horizon)




class RollingOriginCV(_RollingOrigin):
    """Rolling-origin folds of a long frame in scikit-learn's splitter protocol.

    ``split(X)`` yields, per window of :class:`RollingOriginSplitter`, the row positions of
    ``X`` each series trains on and the row positions of the ``horizon`` steps after them, so
    ``GridSearchCV(forecaster, grid, cv=RollingOriginCV(...)).fit(frame)`` fits every
    candidate on each fold's training rows and scores it with the forecaster's ``score`` on
    the rows that follow (:meth:`BaseForecaster.score`). The folds are the windows
    :func:`~forecastkit.evaluation.backtest` scores: positions count from the end of each
    series, and a series with fewer than :data:`MIN_SCORED_TRAIN_LENGTH` points before an
    early window is left out of that fold (the fold's train and test rows alike). With a sliding
    window, ``score`` scales MASE by the fold's training rows (what the estimator was fitted
    on), the backtest by the whole history up to the cutoff.

    Parameters
    ----------
    horizon, n_windows, step, window, window_length
        As for :class:`RollingOriginSplitter`.

    Examples
    --------
    >>> import forecastkit as fk
    >>> from sklearn.model_selection import GridSearchCV
    >>> df = fk.datasets.make_trend_seasonal(n_series=3, length=60, season_length=12,
    ...                                      trend="none", seed=0)
    >>> search = GridSearchCV(
    ...     fk.baselines.SeasonalNaive(horizon=6), {"season_length": [1, 12]},
    ...     cv=fk.data.RollingOriginCV(horizon=6, n_windows=2),
    ...     scoring=fk.evaluation.ForecastScorer("mase", season_length=12),  # one scale for all
    ... ).fit(df)
    >>> search.best_params_
    {'season_length': 12}
    """

    def _splitter(self) -> RollingOriginSplitter:
        return RollingOriginSplitter(self.horizon, self.n_windows, self.step, self.window,
                                     self.window_length)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of folds: ``n_windows`` (``X``, ``y``, ``groups`` are ignored)."""
        self._check()
        return int(self.n_windows)

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train_rows, test_rows)`` per window, earliest first.

        Parameters
        ----------
        X : pd.DataFrame or pd.Series
            A long frame ``unique_id, ds, y`` (each series sorted by time, series in any
            order or interleaved) or one series indexed by time: what ``fit`` takes.
        y, groups : ignored
            scikit-learn passes them; the target is a column of ``X``.

        Yields
        ------
        train_rows, test_rows : ndarray of int64
            Positions (``X.iloc``) of each covered series' training points and of its
            ``horizon`` points after them.

        Raises
        ------
        SeriesTooShortError
            Naming a series too short for the last window, or an early window no series is
            long enough for.
        """
        panel = to_panel(X)
        windows = self._splitter().windows(panel, MIN_SCORED_TRAIN_LENGTH, ragged=True)
        empty = [w.index for w in windows if not len(w.covered())]
        if empty:
            # An empty fold would score NaN, and GridSearchCV would then rank every candidate
            # alike and keep the first without a word.
            raise SeriesTooShortError(
                f"window {empty[-1]} of {self.n_windows} (0 the earliest) covers no series: "
                f"every series has fewer than {MIN_SCORED_TRAIN_LENGTH} points before it; use "
                f"fewer windows or a smaller step"
            )
        series, position = _row_positions(X, panel)
        for win in windows:
            covered = np.zeros(panel.n_series, dtype=bool)
            covered[win.covered()] = True
            keep = covered[series]
            start, end = win.start[series], win.end[series]
            train = keep & (position >= start) & (position < end)
            test = keep & (position >= end) & (position < end + self.horizon)
            yield np.flatnonzero(train), np.flatnonzero(test)



def _row_positions(X, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``X``: its series' index in ``panel`` and its position in that series."""
    if isinstance(X, pd.Series):
        order = np.argsort(np.argsort(panel.from_time_values(X.index), kind="stable"),
                           kind="stable")
        return np.zeros(len(X), dtype=np.int64), order.astype(np.int64)
    if not isinstance(X, pd.DataFrame) or panel.id_col not in X:
        raise InvalidInputError(
            "RollingOriginCV splits a long DataFrame (unique_id, ds, y) or one Series indexed "
            f"by time, got {type(X).__name__}"
        )
    series = pd.Index(panel.ids).get_indexer(X[panel.id_col].to_numpy())
    times = pd.Series(panel.from_time_values(X[panel.time_col]), index=X.index)
    position = times.groupby(series).rank(method="first").to_numpy(dtype=np.int64) - 1
    return series.astype(np.int64), position
