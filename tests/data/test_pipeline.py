"""make_dataset: the windows a naive loop cuts, every window once an epoch, seeded shuffles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastkit.data import SeriesScaler, make_dataset, to_panel, window_source
from forecastkit.exceptions import InvalidInputError, MissingValuesError, SeriesTooShortError

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

LOOKBACK, HORIZON = 12, 4


def _epoch(ds):
    xs, ys, ms = [], [], []
    for x, y in ds:
        if isinstance(x, dict):
            ms.append(x["mask"].numpy())
            x = x["history"]
        xs.append(x.numpy())
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys), (np.concatenate(ms) if ms else None)


def _naive(df, lookback, horizon, stride=1, min_history=None):
    """Reference windows: per-series z-scores by NumPy, a Python loop over origins, left padding."""
    min_history = min_history or lookback
    X, Y = [], []
    for _, g in df.groupby("unique_id", sort=False):
        x = g["y"].to_numpy()
        z = (x - x.mean()) / x.std()
        for o in range(len(z) - horizon, min_history - 1, -stride)[::-1]:
            h = z[max(0, o - lookback) : o]
            X.append(np.concatenate([np.zeros(lookback - len(h)), h]))
            Y.append(z[o : o + horizon])
    return np.array(X, dtype=np.float32), np.array(Y, dtype=np.float32)


def _sorted_rows(X, Y):
    rows = np.concatenate([X.reshape(len(X), -1), Y], axis=1)
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize("stride", [1, 3])
def test_unshuffled_windows_equal_naive_loop(panel_df, stride):
    ds = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=32, stride=stride, shuffle=False)
    X, Y, _ = _epoch(ds)
    eX, eY = _naive(panel_df, LOOKBACK, HORIZON, stride)
    assert X.shape == (len(eX), LOOKBACK, 1) and X.dtype == np.float32
    assert Y.shape == (len(eY), HORIZON)
    np.testing.assert_allclose(X[:, :, 0], eX, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(Y, eY, rtol=1e-5, atol=1e-5)


def test_same_windows_as_keras_utility_for_one_series(monthly_series):
    """Independent reference: Keras' timeseries_dataset_from_array on the unscaled series."""
    x = monthly_series.to_numpy().astype(np.float32)
    ref = keras.utils.timeseries_dataset_from_array(
        x, None, sequence_length=LOOKBACK + HORIZON, batch_size=1000, shuffle=False
    )
    windows = np.concatenate([w.numpy() for w in ref])
    X, Y, _ = _epoch(make_dataset(monthly_series, LOOKBACK, HORIZON, scaler=None, shuffle=False))
    np.testing.assert_array_equal(X[:, :, 0], windows[:, :LOOKBACK])
    np.testing.assert_array_equal(Y, windows[:, LOOKBACK:])


def test_shuffled_epoch_holds_every_window_once(panel_df):
    ds = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=20, seed=7)
    X, Y, _ = _epoch(ds)
    eX, eY = _naive(panel_df, LOOKBACK, HORIZON)
    np.testing.assert_allclose(_sorted_rows(X[:, :, 0], Y), _sorted_rows(eX, eY), atol=1e-5)


def test_shuffle_is_seeded_and_reshuffles_each_epoch(panel_df):
    a = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=16, seed=3)
    b = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=16, seed=3)
    c = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=16, seed=4)
    a1, a2 = _epoch(a)[1], _epoch(a)[1]
    b1, b2 = _epoch(b)[1], _epoch(b)[1]
    np.testing.assert_array_equal(a1, b1)  # same seed, same first epoch ...
    np.testing.assert_array_equal(a2, b2)  # ... and same second epoch
    assert not np.array_equal(a1, a2)  # a new order every epoch
    assert not np.array_equal(a1, _epoch(c)[1])  # another seed, another order


def test_batches_and_drop_remainder(panel_df):
    n = len(_naive(panel_df, LOOKBACK, HORIZON)[0])
    sizes = [x.shape[0] for x, _ in make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=50)]
    assert sum(sizes) == n and sizes[:-1] == [50] * (len(sizes) - 1)
    ds = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=50, drop_remainder=True)
    assert [x.shape[0] for x, _ in ds] == [50] * (n // 50)


def test_short_histories_are_left_padded_with_a_mask(panel_df):
    ds = make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=64, shuffle=False, min_history=3)
    X, Y, M = _epoch(ds)
    eX, eY = _naive(panel_df, LOOKBACK, HORIZON, min_history=3)
    np.testing.assert_allclose(X[:, :, 0], eX, atol=1e-5)
    np.testing.assert_allclose(Y, eY, atol=1e-5)
    assert M.dtype == bool and M.shape == (len(eX), LOOKBACK)
    assert M[:, -1].all() and M.sum(axis=1).min() == 3  # newest step always observed
    np.testing.assert_array_equal(X[~M, 0], 0)
    # The dataset feeds a masked Keras model directly.
    hist = keras.Input((LOOKBACK, 1), name="history")
    mask = keras.Input((LOOKBACK,), name="mask", dtype="bool")
    out = keras.layers.Dense(HORIZON)(keras.layers.LSTM(4)(hist, mask=mask))
    model = keras.Model({"history": hist, "mask": mask}, out)
    model.compile("adam", "mse")
    model.fit(ds, epochs=1, verbose=0, shuffle=False)


def test_fitted_scaler_is_applied_and_none_leaves_values(panel_df):
    panel = to_panel(panel_df)
    scaler = SeriesScaler("minmax").fit(panel)
    X, Y, _ = _epoch(make_dataset(panel, LOOKBACK, HORIZON, scaler=scaler, shuffle=False))
    assert X.min() >= -1e-6 and X.max() <= 1 + 1e-6
    src = window_source(panel_df, LOOKBACK, HORIZON, scaler="robust")
    assert src.scaler.method == "robust" and src.n_windows == len(X)
    raw = _epoch(make_dataset(panel_df, LOOKBACK, HORIZON, scaler=None, shuffle=False))[1]
    np.testing.assert_allclose(raw[-1], panel.series(panel.n_series - 1)[-HORIZON:], rtol=1e-6)


def test_bad_input_names_the_series(panel_df):
    df = panel_df.copy()
    sid = df["unique_id"].iloc[-1]
    df.loc[df.index[-3], "y"] = np.nan
    with pytest.raises(MissingValuesError, match=repr(sid)):
        make_dataset(df, LOOKBACK, HORIZON)
    short = pd.concat([panel_df, pd.DataFrame({"unique_id": "stub", "ds": [0, 1], "y": 1.0})])
    with pytest.raises(SeriesTooShortError, match="'stub'"):
        make_dataset(short, LOOKBACK, HORIZON)
    with pytest.raises(InvalidInputError, match="batch_size"):
        make_dataset(panel_df, LOOKBACK, HORIZON, batch_size=0)
    with pytest.raises(InvalidInputError, match="scaler"):
        make_dataset(panel_df, LOOKBACK, HORIZON, scaler=42)


def _numbers_seen(ds):
    """The window each row is, read from its first target: the values are their positions."""
    return np.concatenate([y[:, 0].numpy() for _, y in ds]).astype(np.int64)


def _position_panel(panel_df):
    panel = to_panel(panel_df)
    return panel, np.arange(len(panel.values), dtype=np.float64)


@pytest.mark.parametrize("subsample", [None, 150])
def test_streamed_order_is_a_fresh_permutation_each_epoch(panel_df, subsample):
    """The order computed batch by batch holds the same windows as the held shuffle, each once
    an epoch, reshuffled every epoch and reproduced by the seed (also for a subsampled plan)."""
    from forecastkit.data import WindowPlan, window_dataset

    panel, positions = _position_panel(panel_df)
    plan = WindowPlan.for_lengths(panel.lengths, LOOKBACK, HORIZON, 1, LOOKBACK)
    if subsample:
        plan = plan.subsample(subsample, 0)

    def stream(order, seed=5, per_epoch=None):
        return window_dataset(panel, plan, batch_size=32, seed=seed, order=order,
                              values=positions, windows_per_epoch=per_epoch)

    held = _numbers_seen(stream("held"))
    ds = stream("streamed")
    first, second = _numbers_seen(ds), _numbers_seen(ds)
    assert len(first) == plan.n_windows == len(np.unique(first))
    np.testing.assert_array_equal(np.sort(first), np.sort(held))
    np.testing.assert_array_equal(np.sort(second), np.sort(held))
    assert not np.array_equal(first, second) and not np.array_equal(first, held)
    np.testing.assert_array_equal(first, _numbers_seen(stream("streamed")))
    # Seeds that differ only above the low bits the shuffle kernel reads give other orders.
    for other in (6, 5 + 2**8, 5 + 2**13):
        assert not np.array_equal(first, _numbers_seen(stream("streamed", seed=other)))
    # Shuffled, not shifted: the order is unrelated to the plan's.
    assert abs(np.corrcoef(np.arange(len(first)), np.argsort(np.argsort(first)))[0, 1]) < 0.25
    part = _numbers_seen(stream("streamed", per_epoch=40))
    assert len(part) == 40 == len(np.unique(part)) and set(part) <= set(held)


def test_order_auto_streams_from_the_threshold(panel_df, monkeypatch):
    from forecastkit.data import WindowPlan, pipeline, window_dataset

    panel, positions = _position_panel(panel_df)
    plan = WindowPlan.for_lengths(panel.lengths, LOOKBACK, HORIZON, 1, LOOKBACK)

    def seen(order):
        return _numbers_seen(window_dataset(panel, plan, batch_size=32, seed=5, order=order,
                                            values=positions))

    assert plan.n_windows < pipeline.STREAMED_ORDER_MIN_WINDOWS
    np.testing.assert_array_equal(seen("auto"), seen("held"))
    monkeypatch.setattr(pipeline, "STREAMED_ORDER_MIN_WINDOWS", plan.n_windows)
    np.testing.assert_array_equal(seen("auto"), seen("streamed"))
    with pytest.raises(InvalidInputError, match="order must be"):
        window_dataset(panel, plan, order="random")


def test_streamed_epochs_do_not_repeat(panel_df):
    """Forty epochs, forty orders (the shuffle kernel reads few bits of its seed)."""
    from forecastkit.data import WindowPlan, window_dataset

    panel, positions = _position_panel(panel_df)
    plan = WindowPlan.for_lengths(panel.lengths, LOOKBACK, HORIZON, 1, LOOKBACK)
    ds = window_dataset(panel, plan, batch_size=plan.n_windows, seed=0, order="streamed",
                        values=positions)
    orders = {_numbers_seen(ds).tobytes() for _ in range(40)}
    assert len(orders) == 40


@pytest.mark.parametrize("n_windows", [2**16 + 1, 2**16 + 2])
def test_streamed_order_is_a_permutation_where_the_kernel_wraps(n_windows):
    """index_shuffle with max_index 2**16 (a power of 4) maps two positions to one window;
    the streamed order must still hold every window once."""
    from forecastkit.data import WindowPlan, window_dataset

    lookback, horizon = 2, 1
    panel = to_panel(pd.DataFrame({"unique_id": "a", "ds": np.arange(n_windows + 2),
                                   "y": np.zeros(n_windows + 2)}))
    plan = WindowPlan.for_lengths(panel.lengths, lookback, horizon, 1, lookback)
    assert plan.n_windows == n_windows
    positions = np.arange(len(panel.values), dtype=np.float64)
    seen = _numbers_seen(window_dataset(panel, plan, batch_size=8192, seed=0, order="streamed",
                                        values=positions))
    np.testing.assert_array_equal(np.sort(seen), np.arange(n_windows) + lookback)


def test_held_order_is_the_stateless_shuffle_of_the_window_numbers(panel_df):
    """Below the threshold every epoch is, as before the streamed order existed, TensorFlow's
    stateless shuffle of the plan's window numbers keyed by (seed, the epoch's draw of
    ``tf.data.Dataset.random(seed)``); subsampled and unshuffled plans keep their order."""
    from forecastkit.data import WindowPlan, window_dataset

    panel, positions = _position_panel(panel_df)
    full = WindowPlan.for_lengths(panel.lengths, LOOKBACK, HORIZON, 1, LOOKBACK)
    first_target = full.index()[:, 1] + np.asarray(panel.indptr[:-1])[full.index()[:, 0]]
    for plan in (full, full.subsample(150, 0)):
        ds = window_dataset(panel, plan, batch_size=32, seed=5, values=positions)
        numbers = tf.constant(plan.window_numbers())
        keys = tf.data.Dataset.random(seed=5, rerandomize_each_iteration=True).take(1)
        for _ in range(2):  # two epochs, each with its own key
            key = next(iter(keys))
            order = tf.random.experimental.stateless_shuffle(
                numbers, seed=tf.stack([tf.constant(5, tf.int64), key])).numpy()
            np.testing.assert_array_equal(_numbers_seen(ds), first_target[order])
        unshuffled = window_dataset(panel, plan, batch_size=32, shuffle=False, values=positions)
        np.testing.assert_array_equal(_numbers_seen(unshuffled),
                                      first_target[plan.window_numbers()])
