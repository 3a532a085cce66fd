"""The serving network's normalisation layers against independent references.

The in-graph seasonal adjustment must equal statsmodels' classical additive decomposition of the
log series (same centred 2 x m moving average, mean detrended value per position), and its
seasonality test must agree with the M4 rule computed from statsmodels' acf.
"""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import acf

from forecastkit.data.normalization import ForecastDenormalizer, WindowNormalizer


def _seasonal_series(n, m, seed, amplitude=0.3):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.exp(3 + 0.01 * t + amplitude * np.sin(2 * np.pi * t / m) + rng.normal(0, 0.02, n))


def _m4_is_seasonal(y, m):
    r = acf(y, nlags=m, fft=False)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[1:m] ** 2)) / len(y))
    return abs(r[m]) > limit


@pytest.mark.parametrize("m,n", [(12, 72), (4, 24), (7, 49)])
def test_seasonal_component_matches_statsmodels_decomposition(m, n):
    y = _seasonal_series(n, m, seed=m)
    assert _m4_is_seasonal(np.log(y), m)
    horizon = 2 * m + 1
    norm = WindowNormalizer(log=True, level_window=1, season_length=m, deseasonalize=True,
                            horizon=horizon)
    z, level, scale, seasonal = (np.asarray(v) for v in norm([y[None, :], np.ones((1, n))]))
    ref = seasonal_decompose(np.log(y), period=m, model="additive").seasonal
    # statsmodels' seasonal component is periodic from index 0; forecast step k is index n + k.
    expected_future = ref[(n + np.arange(horizon)) % m]
    np.testing.assert_allclose(seasonal[0], expected_future, atol=1e-5)
    # Normalised inputs are the deseasonalised log values minus the last one (level_window=1).
    adjusted = np.log(y) - ref
    np.testing.assert_allclose(z[0], adjusted - adjusted[-1], atol=1e-5)
    np.testing.assert_allclose(level[0, 0], adjusted[-1], atol=1e-5)


@pytest.mark.parametrize("m,n,amplitude", [(12, 72, 0.3), (24, 168, 1.0)])
def test_a_window_with_gaps_keeps_its_seasonal_component(m, n, amplitude):
    """10 % of the values missing at random, none of them the last: the window still passes
    the seasonality test and its component stays close to statsmodels' decomposition of the
    complete series (a decomposition that needed complete moving-average spans found almost
    none at this rate and left such windows seasonal)."""
    horizon = m
    norm = WindowNormalizer(log=True, season_length=m, deseasonalize=True, horizon=horizon)
    for seed in range(10):
        y = _seasonal_series(n, m, seed=seed, amplitude=amplitude)
        assert _m4_is_seasonal(np.log(y), m)
        ref = seasonal_decompose(np.log(y), period=m, model="additive").seasonal
        rng = np.random.default_rng(100 + seed)
        mask = np.ones(n)
        mask[rng.choice(n - 1, size=n // 10, replace=False)] = 0.0
        hist = np.where(mask > 0, y, 0.0)
        _, _, _, seasonal = norm([hist[None, :], mask[None, :]])
        expected = ref[(n + np.arange(horizon)) % m]
        np.testing.assert_allclose(np.asarray(seasonal)[0], expected, atol=0.03 * amplitude / 0.3)



@pytest.mark.parametrize("log", [True, False])
def test_interpolated_gaps_give_the_statistics_of_the_window_filled_beforehand(log):
    """``interpolate_gaps`` with short gaps: a window with gaps and left padding has the
    seasonal component of the same window filled first by NumPy's ``interp`` (in log space with
    ``log``) over its observed part; its ``z``, level and scale are those of the deseasonalised
    window filled again by ``interp`` across the same gaps."""
    m, n, pad = 24, 144, 10
    kw = dict(log=log, level_window=m, season_length=m, deseasonalize=True, horizon=2 * m)
    rng = np.random.default_rng(7)
    y = _seasonal_series(n - pad, m, seed=4, amplitude=1.0)
    mask = np.ones(n - pad)
    mask[rng.choice(n - pad - 1, size=(n - pad) // 10, replace=False)] = 0.0
    mask[-3] = 0.0  # a gap among the level window's steps
    t, seen = np.arange(n - pad), mask > 0
    assert _longest_run(~seen) < m / 2  # every gap is short: filled linearly
    space = np.log(y) if log else y
    filled = np.interp(t, t[seen], space[seen])
    filled = np.exp(filled) if log else filled
    with_gaps = np.concatenate([np.zeros(pad), np.where(seen, y, 0.0)])[None, :]
    gap_mask = np.concatenate([np.zeros(pad), mask])[None, :]
    beforehand = np.concatenate([np.zeros(pad), filled])[None, :]
    live = np.concatenate([np.zeros(pad), np.ones(n - pad)])[None, :]
    z, level, scale, seasonal = (np.asarray(v) for v in
                                 WindowNormalizer(**kw, interpolate_gaps=True)([with_gaps,
                                                                               gap_mask]))
    want = [np.asarray(v) for v in WindowNormalizer(**kw)([beforehand, live])]
    assert np.abs(want[3]).max() > 0.1  # the window is deseasonalised
    np.testing.assert_allclose(seasonal, want[3], atol=1e-5)
    # The second fill, by hand: the deseasonalised window, interpolated across the gaps again.
    adjusted = (want[0] * want[2] + want[1])[0, pad:]
    refilled = np.interp(t, t[seen], adjusted[seen])
    want_level = refilled[-m:].mean()
    want_scale = 1.0 if log else np.abs(refilled - want_level).mean()
    np.testing.assert_allclose(level[0, 0], want_level, atol=1e-5)
    np.testing.assert_allclose(scale[0, 0], want_scale, rtol=1e-5)
    np.testing.assert_allclose(z[0, pad:], (refilled - want_level) / want_scale, atol=1e-4)
    np.testing.assert_array_equal(z[0, :pad], 0.0)
    # The second fill changed the gaps' values (it is not the first fill again).
    assert np.abs(z[0, pad:][~seen] - want[0][0, pad:][~seen]).max() > 1e-3
    # Skipping the gaps instead gives other statistics (the option changes something).
    skipped = WindowNormalizer(**kw)([with_gaps, gap_mask])
    assert np.abs(np.asarray(skipped[3]) - want[3]).max() > 1e-3


def _longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


@pytest.mark.parametrize("m", [24, 12])
def test_a_lost_cycle_keeps_the_windows_statistics(m):
    """A whole cycle missing in the middle of a seasonal window: filled from the cycles around
    it, the window keeps the complete window's seasonal component and level; the straight line
    across it (what a gap shorter than half a season gets) would lose them."""
    n = 6 * m
    y = _seasonal_series(n, m, seed=m, amplitude=1.0)
    kw = dict(log=True, level_window=m, season_length=m, deseasonalize=True, horizon=m)
    complete = [np.asarray(v) for v in WindowNormalizer(**kw)([y[None, :], np.ones((1, n))])]
    mask = np.ones(n)
    mask[3 * m + 5: 4 * m + 5] = 0.0
    gappy = np.where(mask > 0, y, 0.0)[None, :]
    got = [np.asarray(v) for v in
           WindowNormalizer(**kw, interpolate_gaps=True)([gappy, mask[None, :]])]
    np.testing.assert_allclose(got[3], complete[3], atol=0.03)
    np.testing.assert_allclose(got[1], complete[1], atol=0.02)
    # The linear fill's statistics, for scale: the test above could fail.
    t, seen = np.arange(n), mask > 0
    linear = np.exp(np.interp(t, t[seen], np.log(y)[seen]))[None, :]
    lin = [np.asarray(v) for v in WindowNormalizer(**kw)([linear, np.ones((1, n))])]
    assert np.abs(lin[3] - complete[3]).max() > 0.1


def test_interpolate_gaps_leaves_a_window_without_gaps_as_it_was():
    y = _seasonal_series(60, 12, seed=5)
    hist = np.concatenate([np.zeros(12), y])[None, :]
    mask = np.concatenate([np.zeros(12), np.ones(60)])[None, :]
    kw = dict(log=True, level_window=12, season_length=12, deseasonalize=True, horizon=6)
    a = WindowNormalizer(**kw)([hist, mask])
    b = WindowNormalizer(**kw, interpolate_gaps=True)([hist, mask])
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def test_non_seasonal_window_is_left_alone():
    rng = np.random.default_rng(3)
    y = np.exp(2 + np.cumsum(rng.normal(0, 0.05, 60)))
    assert not _m4_is_seasonal(np.log(y), 12)
    norm = WindowNormalizer(log=True, season_length=12, deseasonalize=True, horizon=12)
    _, _, _, seasonal = norm([y[None, :], np.ones((1, 60))])
    np.testing.assert_array_equal(np.asarray(seasonal), 0.0)


def test_too_short_history_is_not_deseasonalised():
    # 30 observed values < 3 seasons of 12: the M4 test is not applied and nothing is removed.
    y = _seasonal_series(30, 12, seed=1, amplitude=0.5)
    hist = np.concatenate([np.zeros(42), y])[None, :]
    mask = np.concatenate([np.zeros(42), np.ones(30)])[None, :]
    norm = WindowNormalizer(log=True, season_length=12, deseasonalize=True, horizon=6)
    _, _, _, seasonal = norm([hist, mask])
    np.testing.assert_array_equal(np.asarray(seasonal), 0.0)


def test_padding_does_not_change_normalisation():
    y = _seasonal_series(50, 12, seed=2)
    norm = WindowNormalizer(log=True, level_window=12, season_length=12, deseasonalize=True,
                            horizon=6)
    alone = norm([y[None, :], np.ones((1, 50))])
    junk = np.random.default_rng(0).uniform(-5, 5, 22)
    padded = norm([np.concatenate([junk, y])[None, :],
                   np.concatenate([np.zeros(22), np.ones(50)])[None, :]])
    np.testing.assert_allclose(np.asarray(padded[0])[0, 22:], np.asarray(alone[0])[0], atol=1e-5)
    for a, b in zip(alone[1:], padded[1:], strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)


@pytest.mark.parametrize("log", [True, False])
def test_denormalizer_inverts_target_normalisation(log):
    rng = np.random.default_rng(5)
    hist = rng.uniform(1, 10, (4, 36)).astype("float32")
    future = rng.uniform(1, 10, (4, 6)).astype("float32")
    norm = WindowNormalizer(log=log, level_window=3, season_length=12, deseasonalize=True,
                            horizon=6)
    z, level, scale, seasonal = norm([hist, np.ones_like(hist)])
    target = norm.normalize_targets(future, level, scale, seasonal)
    back = ForecastDenormalizer(log=log)([target, level, scale, seasonal])
    np.testing.assert_allclose(np.asarray(back), future, rtol=1e-5)


# ------------------------------------------------ one definition of the seasonality test


def _windows_of(values, window, n):
    """``n`` windows of length ``window`` cut at evenly spaced ends of one series."""
    ends = np.linspace(window, len(values), n).astype(int)
    return [values[e - window : e] for e in ends]


@pytest.mark.parametrize("dataset,m,window", [("m3-monthly", 12, 72), ("m3-quarterly", 4, 24),
                                              ("m4-hourly", 24, 144)])
def test_in_graph_seasonality_test_equals_the_m4_kernel_on_bundled_data(dataset, m, window):
    """The in-graph test (the RNN's windows) and the classical kernel (Naive2, Theta) agree
    window by window on real series; they differ only by R's lag cap, which the in-graph test
    leaves out on purpose (with m = 24 it would switch off every window under 252 steps)."""
    from forecastkit.data.normalization import window_seasonality
    from forecastkit.datasets import load_dataset
    from forecastkit.forecasters._classical import seasonality_test

    train, _, _ = load_dataset(dataset)
    windows = []
    for _, g in train.groupby("unique_id", sort=False):
        y = g["y"].to_numpy()
        if len(y) >= window and len(windows) < 300:
            windows += _windows_of(np.log(y), window, 3)
    x = np.stack(windows).astype(np.float32)
    mask = np.ones_like(x)
    s_in, _ = window_seasonality(x, mask, m, horizon=1)
    in_graph = np.any(np.asarray(s_in) != 0, axis=1)
    kernel = np.array([seasonality_test(w.astype(np.float64), m, lag_cap=False) for w in x])
    assert 0.1 < kernel.mean() < 0.99  # both kinds of window are present
    # float32 in the graph vs float64 in the kernel: a window exactly at the threshold may tip.
    assert np.mean(in_graph == kernel) >= 0.99
    capped = np.array([seasonality_test(w.astype(np.float64), m) for w in x])
    if window < 252 and m == 24:
        assert not capped.any()  # the cap alone would turn hourly deseasonalisation off
    else:
        np.testing.assert_array_equal(capped, kernel)


def test_seasonal_position_layer_equals_the_numpy_onehot():
    """The in-graph one-hot the members read equals data.encoding's for the same steps."""
    from forecastkit.data.encoding import seasonal_position_onehot
    from forecastkit.forecasters._network import SeasonalPosition

    rng = np.random.default_rng(0)
    first = rng.integers(0, 12, 20)  # seasonal position of each window's first forecast step
    got = np.asarray(SeasonalPosition(lookback=30, season_length=12)(first.astype("int32")))
    steps = first[:, None] + np.arange(-30, 0)[None, :]
    expected = np.stack([seasonal_position_onehot(s, 12) for s in steps])
    np.testing.assert_array_equal(got, expected)
