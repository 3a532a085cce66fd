"""Windows of history and targets cut from one series or from a panel of many.

Two layers, one for each use:

* :func:`sliding_windows` cuts every window of one array as zero-copy, read-only strided views
  (``numpy.lib.stride_tricks.sliding_window_view``): no window is copied until it is used.
* :func:`window_index` describes the windows of a whole panel as ``(series, origin)`` pairs
  (16 bytes a window), and :func:`gather_windows` (NumPy) or :func:`forecastkit.data.make_dataset`
  (tf.data) gather only the windows a batch needs. Windows never cross a series boundary.

Every window is anchored at the end of its series: the last window's targets end exactly at
the series' last observation, and a ``stride`` larger than one skips old data, never the most
recent.

The *origin* of a window is the position, inside its series, of the first forecast step: the
history is ``series[origin - lookback:origin]`` and the targets ``series[origin:origin + horizon]``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from forecastkit.data.frames import Panel
from forecastkit.data.window_plan import WindowPlan, check_window_sizes
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError

__all__ = [
    "sliding_windows",
    "window_index",
    "gather_windows",
    "last_windows",
    "train_val_split",
    "validation_window_index",
]


def sliding_windows(
    values, lookback: int, horizon: int, stride: int = 1, *, series_id=None
) -> tuple[np.ndarray, np.ndarray]:
    """Every (history, target) window of one series, as zero-copy views.

    Parameters
    ----------
    values : array-like of shape (n,) or (n, features)
        One series in time order (a 2-D array has one column per feature).
    lookback : int
        Length of the history of each window.
    horizon : int
        Number of target steps after the history.
    stride : int
        Step between the origins of consecutive windows. Windows are anchored at the end: the
        last window's targets end at ``values[-1]``.
    series_id : hashable, optional
        Name of the series, used in error messages.

    Returns
    -------
    X : ndarray of shape (n_windows, lookback) or (n_windows, lookback, features)
        Histories, a read-only view of ``values`` (no copy).
    Y : ndarray of shape (n_windows, horizon) or (n_windows, horizon, features)
        Targets, a read-only view of ``values``. ``n_windows = (n - lookback - horizon) // stride
        + 1``; window ``k`` has history ``values[o - lookback:o]`` and targets
        ``values[o:o + horizon]`` with ``o = n - horizon - (n_windows - 1 - k) * stride``.

    Raises
    ------
    SeriesTooShortError
        When ``n < lookback + horizon``.
    """
    check_window_sizes(lookback, horizon, stride)
    values = np.asarray(values)
    if values.ndim not in (1, 2):
        raise InvalidInputError(
            f"values must have shape (n,) or (n, features), got shape {values.shape}"
        )
    width = lookback + horizon
    n = values.shape[0]
    if n < width:
        name = f"series {series_id!r}" if series_id is not None else "the series"
        raise SeriesTooShortError(
            f"{name} has {n} observations but a window of lookback={lookback} + "
            f"horizon={horizon} needs at least {width}"
        )
    # sliding_window_view puts the window axis last: (n_windows, [features,] width).
    win = sliding_window_view(values, width, axis=0)
    if values.ndim == 2:
        win = win.swapaxes(1, 2)
    # Anchor at the end: start at the offset that makes the last window end at values[-1].
    win = win[(n - width) % stride :: stride]
    return win[:, :lookback], win[:, lookback:]


def window_index(
    lengths,
    lookback: int,
    horizon: int,
    stride: int = 1,
    min_history: int | None = None,
    *,
    ids=None,
    on_short: Literal["raise", "skip"] = "raise",
) -> np.ndarray:
    """The windows of a panel as (series position, origin) pairs.

    Parameters
    ----------
    lengths : array-like of int, shape (n_series,)
        Length of each series (``Panel.lengths``).
    lookback, horizon, stride : int
        As in :func:`sliding_windows`; windows of each series are anchored at its end.
    min_history : int, optional
        Shortest history a window may have (default ``lookback``: full windows only). With
        ``min_history < lookback``, windows whose origin is at least ``min_history`` but less
        than ``lookback`` are included; their history must be padded (:func:`gather_windows`).
    ids : array-like of shape (n_series,), optional
        Series ids, used in error messages.
    on_short : {"raise", "skip"}
        What to do with a series too short for a single window: raise
        :class:`SeriesTooShortError` naming it (default) or give it no windows.

    Returns
    -------
    ndarray of shape (n_windows, 2), int64
        Rows ``(series, origin)``, series after series, origins increasing; targets of a row are
        ``series[origin:origin + horizon]``, all inside the series.
    """
    plan = WindowPlan.for_lengths(
        lengths, lookback, horizon, stride, min_history, ids=ids, on_short=on_short
    )
    return plan.index()


def gather_windows(
    panel: Panel,
    index: np.ndarray,
    lookback: int,
    horizon: int,
    pad_side: Literal["left", "right"] = "left",
    *,
    values: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Copy the windows listed in ``index`` out of a panel, padding short histories.

    One fancy-indexing gather for all windows (no Python loop per window).

    Padding side: ``"left"`` (the default) puts the zeros *before* the history, so the most
    recent observation is always at the last time step. A many-to-one RNN reads its output at
    the last step, so that is where the newest data must be; Keras' ``pad_sequences`` pads on
    the left ("pre") by default for the same reason. ``"right"`` puts the history first and the
    zeros after it; use it only with a model that honours the mask (a masked RNN carries its
    state over masked steps, so both sides then give the same output).

    Parameters
    ----------
    panel : Panel
        The series.
    index : ndarray of shape (n_windows, 2)
        ``(series, origin)`` rows, as made by :func:`window_index`.
    lookback, horizon : int
        Window sizes.
    pad_side : {"left", "right"}
        Where padding goes when ``origin < lookback``.
    values : ndarray of shape (n_obs,), optional
        Values to gather from instead of ``panel.values`` (e.g. the scaled values).

    Returns
    -------
    X : ndarray of shape (n_windows, lookback)
        Histories, 0 where padded.
    mask : ndarray of shape (n_windows, lookback), bool
        True at observed steps, False at padding.
    Y : ndarray of shape (n_windows, horizon)
        Targets.
    """
    check_window_sizes(lookback, horizon, 1)
    if pad_side not in ("left", "right"):
        raise InvalidInputError(f"pad_side must be 'left' or 'right', got {pad_side!r}")
    values = panel.values if values is None else np.asarray(values)
    index = np.asarray(index, dtype=np.int64).reshape(-1, 2)
    series, origin = index[:, 0], index[:, 1]
    lengths = panel.lengths[series]
    bad = np.flatnonzero((origin < 1) | (origin + horizon > lengths))
    if len(bad):
        i = int(bad[0])
        raise InvalidInputError(
            f"window with origin {origin[i]} does not fit series {panel.ids[series[i]]!r} of "
            f"length {lengths[i]} with horizon {horizon}"
        )
    start = panel.indptr[series] + origin  # global position of the first target
    hist = np.minimum(origin, lookback)
    steps = np.arange(lookback)
    if pad_side == "left":
        mask = steps[None, :] >= (lookback - hist)[:, None]
        pos = start[:, None] - lookback + steps[None, :]
    else:
        mask = steps[None, :] < hist[:, None]
        pos = (start - hist)[:, None] + steps[None, :]
    # Padded positions may point outside the series (or the array): clip, then zero them.
    X = np.where(mask, values[np.clip(pos, 0, len(values) - 1)], 0)
    Y = values[start[:, None] + np.arange(horizon)[None, :]]
    return X, mask, Y


def last_windows(panel: Panel, lookback: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``lookback`` values of every series, left padded: what a forecast reads.

    Parameters
    ----------
    panel : Panel
    lookback : int

    Returns
    -------
    history : ndarray of shape (n_series, lookback), float32
        0 where padded (series shorter than ``lookback``) or missing (NaN).
    mask : ndarray of shape (n_series, lookback), float32
        1 where observed.
    """
    check_window_sizes(lookback, 1, 1)
    ends = panel.indptr[1:]
    hist = np.minimum(panel.lengths, lookback)
    steps = np.arange(lookback)
    observed = steps[None, :] >= (lookback - hist)[:, None]
    pos = np.clip(ends[:, None] - lookback + steps[None, :], 0, max(len(panel.values) - 1, 0))
    values = panel.values[pos]
    observed &= ~np.isnan(values)  # a missing value is masked like padding
    history = np.where(observed, values, 0.0).astype(np.float32)
    return history, observed.astype(np.float32)


def train_val_split(panel: Panel, n_val: int) -> tuple[Panel, Panel]:
    """Split a panel by time into a training part and a validation part.

    The validation *targets* are the last ``n_val`` observations of every series. The training
    panel is each series without those observations, so no training window (history or
    target) can see them. The validation panel holds the *full* series: its windows need the
    history that precedes the held-out part, which the model is allowed to see at forecast
    time. Use :func:`validation_window_index` to list the validation windows (those whose
    targets lie entirely in the last ``n_val`` steps), and fit scalers on the training panel
    only.

    Parameters
    ----------
    panel : Panel
    n_val : int
        Number of held-out steps per series (typically the horizon, or a multiple of it).

    Returns
    -------
    train_panel, val_panel : Panel
    """
    if isinstance(n_val, bool) or not isinstance(n_val, int | np.integer) or n_val < 1:
        raise InvalidInputError(f"n_val must be a positive integer, got {n_val!r}")
    return panel.drop_last(n_val), panel


def validation_window_index(
    lengths,
    n_val: int,
    lookback: int,
    horizon: int,
    stride: int = 1,
    min_history: int | None = None,
    *,
    ids=None,
) -> np.ndarray:
    """Windows of the validation panel whose targets lie entirely in the last ``n_val`` steps.

    Parameters
    ----------
    lengths : array-like of int, shape (n_series,)
        Lengths of the full series (the validation panel of :func:`train_val_split`).
    n_val, lookback, horizon, stride, min_history
        As in :func:`train_val_split` and :func:`window_index`; ``n_val >= horizon``.

    Returns
    -------
    ndarray of shape (n_windows, 2), int64
        ``(series, origin)`` rows with ``origin >= length - n_val``, anchored at the end.
    """
    if n_val < horizon:
        raise InvalidInputError(f"n_val={n_val} is shorter than horizon={horizon}")
    plan = WindowPlan.for_lengths(lengths, lookback, horizon, stride, min_history, on_short="skip")
    lengths = np.asarray(lengths, dtype=np.int64)
    need = int(plan.first[0]) + horizon if len(lengths) else horizon
    plan = replace(plan, first=np.maximum(lengths - n_val, plan.first))
    plan.raise_if_empty(lengths, ids, "a validation window", need=need)
    return plan.index()
