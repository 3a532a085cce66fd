"""Windows: equal to a naive loop, zero-copy, never across series, and a split with no leakage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastkit.data import (
    gather_windows,
    sliding_windows,
    to_panel,
    train_val_split,
    validation_window_index,
    window_index,
)
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError


def naive_windows(x, lookback, horizon, stride):
    """Reference: every window by a Python loop, the last one ending at the series' end."""
    n = len(x)
    origins = list(range(n - horizon, lookback - 1, -stride))[::-1]
    X = [x[o - lookback : o] for o in origins]
    Y = [x[o : o + horizon] for o in origins]
    return np.array(X), np.array(Y), origins


def panel_of(lengths, seed=0):
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(n), "y": rng.normal(size=n) + 10 * i})
        for i, n in enumerate(lengths)
    ]
    return to_panel(pd.concat(frames, ignore_index=True))


sizes = st.tuples(st.integers(1, 12), st.integers(1, 6), st.integers(1, 5))


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), sz=sizes, features=st.sampled_from([None, 1, 3]))
def test_sliding_windows_match_naive_loop(n, sz, features):
    lookback, horizon, stride = sz
    x = np.arange(n, dtype=float) if features is None else np.arange(n * features).reshape(n, -1)
    if n < lookback + horizon:
        with pytest.raises(SeriesTooShortError, match=f"{n} observations"):
            sliding_windows(x, lookback, horizon, stride)
        return
    X, Y = sliding_windows(x, lookback, horizon, stride)
    eX, eY, origins = naive_windows(x, lookback, horizon, stride)
    np.testing.assert_array_equal(X, eX)
    np.testing.assert_array_equal(Y, eY)
    # Anchored at the end: the newest observation is the last target of the last window.
    np.testing.assert_array_equal(Y[-1][-1], x[-1])


def test_sliding_windows_are_readonly_views():
    x = np.arange(100.0)
    X, Y = sliding_windows(x, 10, 5, stride=3)
    assert np.shares_memory(X, x) and np.shares_memory(Y, x)
    assert not X.flags.writeable and not Y.flags.writeable
    x2 = np.arange(200.0).reshape(100, 2)
    X2, Y2 = sliding_windows(x2, 10, 5)
    assert X2.shape == (86, 10, 2) and Y2.shape == (86, 5, 2)
    assert np.shares_memory(X2, x2)


def test_sliding_windows_bad_arguments():
    with pytest.raises(SeriesTooShortError, match="'abc'.*needs at least 15"):
        sliding_windows(np.arange(10.0), 10, 5, series_id="abc")
    for kw in ({"lookback": 0}, {"horizon": -1}, {"stride": 1.5}):
        args = {"lookback": 3, "horizon": 2, "stride": 1, **kw}
        with pytest.raises(InvalidInputError):
            sliding_windows(np.arange(10.0), **args)
    with pytest.raises(InvalidInputError, match="shape"):
        sliding_windows(np.zeros((3, 3, 3)), 1, 1)


lengths_st = st.lists(st.integers(1, 40), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(lengths=lengths_st, sz=sizes, data=st.data())
def test_window_index_and_gather_match_naive_loop(lengths, sz, data):
    lookback, horizon, stride = sz
    min_history = data.draw(st.integers(1, lookback))
    panel = panel_of(lengths)
    index = window_index(
        panel.lengths, lookback, horizon, stride, min_history=min_history, on_short="skip"
    )
    X, mask, Y = gather_windows(panel, index, lookback, horizon)
    expected = []
    for s in range(panel.n_series):
        x = panel.series(s)
        # Naive loop over origins, last window at the end, histories of >= min_history steps.
        for o in range(len(x) - horizon, min_history - 1, -stride)[::-1]:
            expected.append((s, o))
    assert [tuple(r) for r in index] == expected
    for (s, o), xr, mr, yr in zip(expected, X, mask, Y, strict=True):
        x = panel.series(s)
        hist = x[max(0, o - lookback) : o]
        # Left padding: zeros first, the history right-aligned so x[o-1] is the last step.
        np.testing.assert_array_equal(xr[lookback - len(hist) :], hist)
        np.testing.assert_array_equal(xr[: lookback - len(hist)], 0)
        np.testing.assert_array_equal(mr, np.arange(lookback) >= lookback - len(hist))
        np.testing.assert_array_equal(yr, x[o : o + horizon])


@settings(max_examples=40, deadline=None)
@given(lengths=lengths_st, sz=sizes)
def test_windows_never_cross_series(lengths, sz):
    lookback, horizon, stride = sz
    # Each series holds its own id as every value: a window that crossed would mix ids.
    panel = panel_of(lengths)
    ids = np.repeat(np.arange(panel.n_series, dtype=float) + 1, panel.lengths)
    index = window_index(panel.lengths, lookback, horizon, stride, 1, on_short="skip")
    X, mask, Y = gather_windows(panel, index, lookback, horizon, values=ids)
    owner = index[:, :1] + 1.0
    assert np.all(Y == owner)
    assert np.all(X[mask] == np.broadcast_to(owner, X.shape)[mask])


def test_right_padding_puts_history_first():
    panel = panel_of([6])
    index = np.array([[0, 2]])
    X, mask, Y = gather_windows(panel, index, 4, 2, pad_side="right")
    np.testing.assert_array_equal(X[0, :2], panel.series(0)[:2])
    np.testing.assert_array_equal(mask[0], [True, True, False, False])
    np.testing.assert_array_equal(Y[0], panel.series(0)[2:4])


def test_gather_rejects_windows_outside_series():
    panel = panel_of([10, 10])
    with pytest.raises(InvalidInputError, match="'s1'"):
        gather_windows(panel, np.array([[1, 9]]), 4, 2)
    with pytest.raises(InvalidInputError, match="pad_side"):
        gather_windows(panel, np.array([[0, 5]]), 4, 2, pad_side="middle")


def test_window_index_short_series():
    with pytest.raises(SeriesTooShortError, match="'b'.*3 observations"):
        window_index([20, 3], 4, 2, ids=np.array(["a", "b"]))
    index = window_index([20, 3], 4, 2, on_short="skip")
    assert set(index[:, 0]) == {0}
    with pytest.raises(InvalidInputError, match="min_history"):
        window_index([20], 4, 2, min_history=5)


@settings(max_examples=40, deadline=None)
@given(lengths=st.lists(st.integers(20, 50), min_size=1, max_size=5), sz=sizes, data=st.data())
def test_split_leaks_nothing(lengths, sz, data):
    lookback, horizon, stride = sz
    n_val = data.draw(st.integers(horizon, 2 * horizon))
    panel = panel_of(lengths)
    train, val = train_val_split(panel, n_val)
    np.testing.assert_array_equal(train.lengths, panel.lengths - n_val)
    tr_index = window_index(train.lengths, lookback, horizon, stride, 1, on_short="skip")
    va_index = validation_window_index(val.lengths, n_val, lookback, horizon, stride, 1)
    for s in range(panel.n_series):
        cut = panel.lengths[s] - n_val  # first held-out step
        # The training panel is a prefix of the series: same values, stopping before `cut`.
        np.testing.assert_array_equal(train.series(s), panel.series(s)[:cut])
        tr = tr_index[tr_index[:, 0] == s, 1]
        va = va_index[va_index[:, 0] == s, 1]
        assert np.all(tr + horizon <= cut)  # training targets end before the held-out part
        assert len(va) >= 1 and np.all(va >= cut)  # validation targets all held out
        assert va.max() + horizon == panel.lengths[s]  # the last validation window is at the end


def test_split_rejects_bad_n_val():
    panel = panel_of([10, 4])
    with pytest.raises(SeriesTooShortError, match="'s1'"):
        train_val_split(panel, 4)
    with pytest.raises(InvalidInputError):
        train_val_split(panel, 0)
    with pytest.raises(InvalidInputError, match="horizon"):
        validation_window_index(panel.lengths, 2, 3, 4)
