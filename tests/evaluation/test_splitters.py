import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastkit.data.frames import to_panel
from forecastkit.evaluation.splitters import RollingOriginSplitter
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError


def test_train_ends_match_the_definition():
    # Last window forecasts the last h points; each earlier one ends `step` earlier.
    s = RollingOriginSplitter(horizon=3, n_windows=4, step=2)
    assert s.train_ends(20).tolist() == [20 - 3 - 6, 20 - 3 - 4, 20 - 3 - 2, 20 - 3]
    assert s.held_out == 9
    assert RollingOriginSplitter(horizon=5, n_windows=2).train_ends(30).tolist() == [20, 25]


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(12, 40), min_size=1, max_size=4),
    horizon=st.integers(1, 4),
    n_windows=st.integers(1, 3),
    step=st.integers(1, 3),
    sliding=st.booleans(),
)
def test_no_training_point_at_or_after_a_forecast_time(lengths, horizon, n_windows, step, sliding):
    # Integer stamps of different starts, as a ragged panel has.
    df = pd.concat(
        [pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(100 - n, 100),
                       "y": np.arange(n, dtype=float) + 1000 * i})
         for i, n in enumerate(lengths)]
    )
    panel = to_panel(df)
    s = RollingOriginSplitter(horizon, n_windows, step, "sliding" if sliding else "expanding", 5)
    for win in s.windows(panel):
        train = panel.slice(win.start, win.end)
        future = panel.times_after(win.end, horizon)
        for i in range(panel.n_series):
            t_train = train.series_times(i)
            assert t_train.max() < future[i].min()  # nothing from the forecast period is seen
            # the training part ends right before the window (no gap, nothing skipped)
            assert t_train.max() + 1 == future[i].min()
            if sliding:
                assert len(t_train) == min(5, win.end[i])
        # actual values are those at the forecast times
        vals = panel.values_after(win.end, horizon)
        for i in range(panel.n_series):
            expect = df[(df.unique_id == panel.ids[i]) & df.ds.isin(future[i])].y.to_numpy()
            np.testing.assert_array_equal(vals[i], expect)


def test_short_series_error_names_the_series():
    df = pd.DataFrame({"unique_id": ["a"] * 30 + ["tiny"] * 6,
                       "ds": list(range(30)) + list(range(6)), "y": np.ones(36)})
    with pytest.raises(SeriesTooShortError, match="'tiny'.*6 observations"):
        RollingOriginSplitter(horizon=3, n_windows=2).windows(to_panel(df))


@pytest.mark.parametrize("window", ["expanding", "sliding"])
def test_a_ragged_split_leaves_short_series_out_of_the_early_windows(window):
    lengths = {"a": 30, "b": 8, "c": 6}
    df = pd.concat([pd.DataFrame({"unique_id": k, "ds": np.arange(n), "y": np.ones(n)})
                    for k, n in lengths.items()])
    s = RollingOriginSplitter(horizon=3, n_windows=3, step=2, window=window, window_length=4)
    # Training ends (length - 7, - 5, - 3): b has 1, 3, 5 points, c -1, 1, 3; two needed.
    wins = s.windows(to_panel(df), min_train_length=2, ragged=True)
    assert [w.covered().tolist() for w in wins] == [[0], [0, 1], [0, 1, 2]]
    for w in wins:
        left_out = np.setdiff1d(np.arange(3), w.covered())
        assert (w.start[left_out] == 0).all() and (w.end[left_out] == 0).all()
        kept = w.take(w.covered())
        np.testing.assert_array_equal(kept.end, s.train_ends(np.array([30, 8, 6]))[
            w.covered(), w.index])
    with pytest.raises(SeriesTooShortError, match="'c' has 6 observations; its last window"):
        s.windows(to_panel(df), min_train_length=4, ragged=True)


@pytest.mark.parametrize(
    "kwargs",
    [dict(horizon=0), dict(horizon=2, n_windows=0), dict(horizon=2, step=0),
     dict(horizon=2, window="rolling"), dict(horizon=2, window="sliding")],
)
def test_bad_parameters(kwargs):
    with pytest.raises(InvalidInputError):
        RollingOriginSplitter(**kwargs).train_ends(50)


def test_split_yields_train_and_test(panel_df):
    panel = to_panel(panel_df)
    pieces = list(RollingOriginSplitter(horizon=4, n_windows=2).split(panel))
    assert len(pieces) == 2
    train, test = pieces[1]
    assert test.shape == (panel.n_series, 4)
    np.testing.assert_array_equal(train.lengths, panel.lengths - 4)
    for i in range(panel.n_series):
        np.testing.assert_array_equal(test[i], panel.series(i)[-4:])
        np.testing.assert_array_equal(train.series(i), panel.series(i)[:-4])


def test_evaluation_reexports_the_data_layer_splitter():
    # One splitter, below both backtests and the forecasters that calibrate on rolling origins.
    from forecastkit.data import splitters as data_splitters
    from forecastkit.evaluation import splitters as eval_splitters

    assert eval_splitters.RollingOriginSplitter is data_splitters.RollingOriginSplitter
    assert eval_splitters.Window is data_splitters.Window
