"""Which windows of a panel to train on, described per series rather than per window.

A panel of ``n_series`` series holds millions of (history, target) windows, but the windows of
one series are just the origins ``last - j * stride`` (``j = 0, 1, ...``) down to a first
origin: two integers per series describe them all. A :class:`WindowPlan` keeps those two
integers, numbers the windows ``0 .. n_windows - 1`` series after series (origins increasing
inside a series), and maps a window number back to ``(series, origin)`` - in NumPy here, and in
TensorFlow inside :func:`forecastkit.data.window_dataset`, so that no per-window array is ever
built unless a subsample is asked for. The *origin* of a window is the position, inside its
series, of its first target step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from forecastkit.exceptions import InvalidInputError, SeriesTooShortError

__all__ = ["WindowPlan", "check_window_sizes"]


def check_window_sizes(lookback: int, horizon: int, stride: int = 1) -> None:
    """Raise InvalidInputError unless all three are positive integers (numpy ones included)."""
    for name, v in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise InvalidInputError(f"{name} must be a positive integer, got {v!r}")


@dataclass(frozen=True)
class WindowPlan:
    """The windows of a panel: per series, the origins ``last - j * stride >= first``.

    Parameters
    ----------
    lookback : int
        History length of every window (shorter histories are left padded and masked).
    horizon : int
        Target steps after each origin.
    first : ndarray of shape (n_series,), int64
        Smallest origin a window of each series may have.
    last : ndarray of shape (n_series,), int64
        Origin of the newest window of each series (its targets end at ``last + horizon``).
    stride : int
        Step between consecutive origins of a series.
    subset : ndarray of shape (n_selected,), int64, optional
        Sorted window numbers to keep (a seeded subsample); None keeps all windows.
    """

    lookback: int
    horizon: int
    first: np.ndarray
    last: np.ndarray
    stride: int = 1
    subset: np.ndarray | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def for_lengths(
        cls,
        lengths,
        lookback: int,
        horizon: int,
        stride: int = 1,
        min_history: int | None = None,
        *,
        ids=None,
        on_short: Literal["raise", "skip"] = "raise",
    ) -> WindowPlan:
        """Every window of series of the given lengths, anchored at each series' end.

        Parameters
        ----------
        lengths : array-like of int, shape (n_series,)
        lookback, horizon, stride : int
        min_history : int, optional
            Fewest observed history steps a window may have (default ``lookback``).
        ids : array-like of shape (n_series,), optional
            Series ids for error messages.
        on_short : {"raise", "skip"}
            A series too short for one window raises SeriesTooShortError naming it, or gets
            no windows.
        """
        check_window_sizes(lookback, horizon, stride)
        min_history = lookback if min_history is None else min_history
        if not 1 <= min_history <= lookback:
            raise InvalidInputError(
                f"min_history must be between 1 and lookback={lookback}, got {min_history}"
            )
        if on_short not in ("raise", "skip"):
            raise InvalidInputError(f"on_short must be 'raise' or 'skip', got {on_short!r}")
        lengths = np.asarray(lengths, dtype=np.int64)
        plan = cls(int(lookback), int(horizon), np.full(len(lengths), int(min_history)),
                   lengths - horizon, int(stride))
        if on_short == "raise":
            plan.raise_if_empty(lengths, ids, "a window")
        return plan

    def raise_if_empty(self, lengths, ids, what: str, need: int | None = None) -> None:
        """SeriesTooShortError naming the first series without a window (``need``: the length
        the message asks for; default the first origin plus the horizon)."""
        short = np.flatnonzero(self.counts == 0)
        if len(short):
            i = int(short[0])
            sid = ids[i] if ids is not None else f"at position {i}"
            more = f" (and {len(short) - 1} more)" if len(short) > 1 else ""
            if need is None:
                need = int(self.first[i]) + self.horizon
            raise SeriesTooShortError(
                f"series {sid!r} has {int(np.asarray(lengths)[i])} observations but {what} "
                f"needs at least {need}{more}"
            )

    def holdout(self, n_val: int) -> tuple[WindowPlan, WindowPlan]:
        """Split by time: training windows whose targets end ``n_val`` steps before each
        series' end, and the newest window of each series for validation.

        Returns
        -------
        train, val : WindowPlan
            ``val`` has one window per series that has any; nothing ``val`` scores is a target
            of ``train``. A series too short to keep a training window keeps none.
        """
        back = -(-int(n_val) // self.stride) * self.stride  # whole strides of at least n_val
        train = replace(self, last=self.last - back, subset=None)
        has = self.counts > 0
        val = replace(self, first=np.where(has, self.last, self.last + 1), subset=None)
        return train, val

    def subsample(self, n: int, seed: int) -> WindowPlan:
        """A seeded random subset of ``n`` windows (all of them when there are fewer)."""
        total = self.n_windows
        if n >= total:
            return self
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(total, n, replace=False)).astype(np.int64)
        if self.subset is not None:
            chosen = self.subset[chosen]
        return replace(self, subset=chosen)

    # ------------------------------------------------------------------ numbering

    @property
    def counts(self) -> np.ndarray:
        """Windows of each series, shape (n_series,) (before any subset)."""
        span = self.last - self.first
        return np.where(span >= 0, span // self.stride + 1, 0).astype(np.int64)

    @property
    def offsets(self) -> np.ndarray:
        """Number of each series' first window, shape (n_series + 1,) (before any subset)."""
        return np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)

    @property
    def n_windows(self) -> int:
        return int(self.counts.sum()) if self.subset is None else len(self.subset)

    def window_numbers(self) -> np.ndarray:
        """The numbers of the windows in the plan, shape (n_windows,), increasing."""
        if self.subset is not None:
            return self.subset
        return np.arange(self.n_windows, dtype=np.int64)

    def locate(self, numbers) -> np.ndarray:
        """``(series, origin)`` of window numbers, shape (n, 2), int64."""
        numbers = np.asarray(numbers, dtype=np.int64)
        offsets = self.offsets
        series = np.searchsorted(offsets, numbers, side="right") - 1
        from_end = offsets[series + 1] - 1 - numbers
        origin = self.last[series] - from_end * self.stride
        return np.stack([series, origin], axis=1).reshape(-1, 2)

    def index(self) -> np.ndarray:
        """``(series, origin)`` of every window in the plan, shape (n_windows, 2)."""
        return self.locate(self.window_numbers())
