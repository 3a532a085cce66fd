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
