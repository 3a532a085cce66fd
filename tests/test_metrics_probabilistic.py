"""Probabilistic metrics: hand-computed cases, naive loops of the definitions, and scoringrules
(an independent implementation of the CRPS) on random cases."""

from __future__ import annotations

import numpy as np
import pytest
import scoringrules as sr
from scipy.stats import norm

from forecastkit import metrics as M
from forecastkit.exceptions import InvalidInputError

TRAIN = np.array([1.0, 3.0, 2.0, 5.0, 4.0])  # scale m=1: 7/4; m=2: 5/3


# --------------------------------------------------------------------------- hand-computed


def test_pinball_and_crps_quantiles_hand_computed():
    y = np.array([1.0, 2.0])
    q = np.array([[0.0, 1.5], [3.0, 2.0]])
    levels = [0.1, 0.9]
    # y=1: 0.1 * (1 - 0) = 0.1; (1 - 0.9) * (1.5 - 1) = 0.05
    # y=2: (1 - 0.1) * (3 - 2) = 0.9; 0
    assert M.pinball(y, q, levels) == pytest.approx(1.05 / 4)
    assert M.pinball(y, q, levels, TRAIN, 1) == pytest.approx(1.05 / 4 / (7 / 4))
    assert M.pinball(y, q, levels, TRAIN, 2) == pytest.approx(1.05 / 4 / (5 / 3))
    assert M.crps_quantiles(y, q, levels) == pytest.approx(2 * 1.05 / 4)
    assert M.crps(y, q, levels) == M.crps_quantiles(y, q, levels)
    # one level: q may be a vector; the median's loss is half the absolute error
    assert M.pinball([3.0, 5.0], [1.0, 6.0], [0.5]) == pytest.approx((0.5 * 2 + 0.5 * 1) / 2)


def test_crps_samples_hand_computed():
    # E|X - 0| = 1, E|X - X'| = (0 + 2 + 2 + 0) / 4 = 1  ->  1 - 1/2
    assert M.crps_samples([0.0], [[-1.0], [1.0]]) == pytest.approx(0.5)
    # one draw: the CRPS of a point forecast is its absolute error
    assert M.crps_samples([1.0, 2.0], [[3.0, 2.5]]) == pytest.approx((2 + 0.5) / 2)
    assert M.crps_samples([4.0], [[4.0], [4.0], [4.0]]) == 0.0
    assert M.crps([0.0], [[-1.0], [1.0]]) == pytest.approx(0.5)


def test_msis_hand_computed():
    y = np.array([5.0, 10.0, 0.0])
    lo = np.array([4.0, 4.0, 2.0])
    hi = np.array([6.0, 8.0, 3.0])
    # inside: width 2; above by 2: 4 + 40 * 2; below by 2: 1 + 40 * 2  (2 / alpha = 40)
    raw = (2 + 84 + 81) / 3
    assert M.msis(y, lo, hi, TRAIN, 1) == pytest.approx(raw / (7 / 4))
    assert M.msis(y, lo, hi, TRAIN, 2) == pytest.approx(raw / (5 / 3))
    # alpha = 0.2: 2 / alpha = 10
    assert M.msis(y, lo, hi, TRAIN, 1, alpha=0.2) == pytest.approx((2 + 24 + 21) / 3 / (7 / 4))
    # m larger than the series: lag-one scale, as MASE
    assert M.msis(y, lo, hi, TRAIN, 12) == pytest.approx(raw / (7 / 4))


def test_zero_scale_and_nan_follow_the_point_metrics():
    flat = np.ones(6)
    assert M.msis([1.0], [0.0], [2.0], flat) == np.inf
    assert np.isnan(M.msis([1.0], [1.0], [1.0], flat))  # 0 / 0
    assert M.pinball([1.0], [[0.0]], [0.5], flat) == np.inf
    # NaN anywhere gives NaN, never a hit, a miss or a perfect score
    assert np.isnan(M.coverage([1.0, np.nan], [0.0, 0.0], [2.0, 2.0]))
    assert np.isnan(M.coverage([1.0, 1.0], [0.0, np.nan], [2.0, 2.0]))
    assert np.isnan(M.msis([1.0, np.nan], [0.0, 0.0], [2.0, 2.0], TRAIN))
    assert np.isnan(M.msis([1.0, 1.0], [0.0, 0.0], [2.0, np.nan], TRAIN))
    assert np.isnan(M.pinball([1.0, np.nan], [[0.0], [0.0]], [0.5]))
    assert np.isnan(M.crps_samples([1.0], [[0.0], [np.nan]]))
    assert np.isnan(M.crps_samples([np.nan], [[0.0], [1.0]]))
    assert np.isnan(M.msis([1.0], [0.0], [2.0], [1.0, np.nan, 3.0]))


def test_bad_input_says_what_is_wrong():
    with pytest.raises(InvalidInputError, match="outside"):
        M.pinball([1.0], [[1.0]], [1.0])
    with pytest.raises(InvalidInputError, match="outside"):
        M.crps_quantiles([1.0], [[1.0]], [0.0])
    with pytest.raises(InvalidInputError, match=r"shape \(horizon, n_levels\) = \(2, 2\)"):
        M.pinball([1.0, 2.0], [[1.0, 2.0]], [0.1, 0.9])
    with pytest.raises(InvalidInputError, match="alpha"):
        M.msis([1.0], [0.0], [2.0], TRAIN, alpha=1.5)
    with pytest.raises(InvalidInputError, match="lower bound is above the upper bound at step 1"):
        M.msis([1.0, 1.0], [0.0, 3.0], [2.0, 2.0], TRAIN)
    with pytest.raises(InvalidInputError, match="at least 2"):
        M.msis([1.0], [0.0], [2.0], [1.0])
    with pytest.raises(InvalidInputError, match="n_samples, horizon"):
        M.crps_samples([1.0, 2.0], [[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidInputError, match="2 values"):
        M.coverage([1.0, 2.0], [0.0], [3.0])


# --------------------------------------------------------------------------- references


def _naive_pinball(y, q, levels):
    total = 0.0
    for t in range(len(y)):
        for j, tau in enumerate(levels):
            e = y[t] - q[t, j]
            total += tau * e if e >= 0 else (tau - 1) * e
    return total / (len(y) * len(levels))


def _naive_scale(train, m):
    m = m if len(train) > m else 1
    return sum(abs(train[t] - train[t - m]) for t in range(m, len(train))) / (len(train) - m)


def _naive_msis(y, lo, hi, train, m, a):
    total = 0.0
    for t in range(len(y)):
        total += hi[t] - lo[t]
        if y[t] < lo[t]:
            total += 2 / a * (lo[t] - y[t])
        if y[t] > hi[t]:
            total += 2 / a * (y[t] - hi[t])
    return total / len(y) / _naive_scale(train, m)


@pytest.mark.parametrize("seed", range(8))
def test_pinball_and_msis_match_naive_loops(seed):
    rng = np.random.default_rng(seed)
    h, k, m = int(rng.integers(1, 20)), int(rng.integers(1, 6)), int(rng.integers(1, 13))
    y = rng.normal(size=h)
    levels = np.sort(rng.uniform(0.01, 0.99, size=k))
    q = rng.normal(size=(h, k))
    train = rng.normal(size=int(rng.integers(2, 40))).cumsum()
    assert M.pinball(y, q, levels) == pytest.approx(_naive_pinball(y, q, levels), rel=1e-12)
    assert M.pinball(y, q, levels, train, m) == pytest.approx(
        _naive_pinball(y, q, levels) / _naive_scale(train, m), rel=1e-12)
    lo = rng.normal(size=h) - 1.0
    hi = lo + rng.exponential(size=h)
    alpha = float(rng.uniform(0.01, 0.5))
    assert M.msis(y, lo, hi, train, m, alpha) == pytest.approx(
        _naive_msis(y, lo, hi, train, m, alpha), rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_crps_samples_matches_scoringrules_ensemble_crps(seed):
    rng = np.random.default_rng(seed)
    n, h = int(rng.integers(1, 300)), int(rng.integers(1, 10))
    samples = rng.standard_t(3, size=(n, h)) * rng.uniform(0.1, 5)
    y = rng.normal(size=h) * 3
    # "nrg": E|X - y| - E|X - X'| / 2 over the empirical distribution (all pairs)
    expected = sr.crps_ensemble(y, samples, m_axis=0, estimator="nrg")
    assert M.crps_samples(y, samples) == pytest.approx(float(np.mean(expected)), rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_crps_from_a_fine_quantile_grid_matches_the_gaussian_closed_form(seed):
    rng = np.random.default_rng(seed)
    h = 7
    mu, sd = rng.normal(size=h) * 10, rng.uniform(0.1, 5, size=h)
    y = rng.normal(mu, 2 * sd)
    levels = (np.arange(1, 1001) - 0.5) / 1000  # midpoints of an even grid
    q = mu[:, None] + sd[:, None] * norm.ppf(levels)[None, :]
    expected = float(np.mean(sr.crps_normal(y, mu, sd)))
    assert M.crps_quantiles(y, q, levels) == pytest.approx(expected, rel=1e-4)
    # and the same number as scoringrules' own quantile-decomposition CRPS
    assert M.crps_quantiles(y, q, levels) == pytest.approx(
        float(np.mean(sr.crps_quantile(y, q, levels))), rel=1e-10)


def test_crps_samples_of_many_gaussian_draws_approaches_the_closed_form():
    rng = np.random.default_rng(0)
    y = np.array([0.3, -2.0, 4.0])
    samples = rng.normal(size=(40_000, 3))
    expected = float(np.mean(sr.crps_normal(y, 0.0, 1.0)))
    assert M.crps_samples(y, samples) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("m", [1, 4, 12])
def test_seasonal_scales_equal_mase_scale_of_each_series(m):
    rng = np.random.default_rng(m)
    lengths = rng.integers(2, 30, size=25)
    series = [rng.normal(size=n).cumsum() for n in lengths]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    got = M.seasonal_scales(np.concatenate(series), indptr, m)
    np.testing.assert_allclose(got, [M.mase_scale(s, m) for s in series], rtol=1e-12)
    assert np.isnan(M.seasonal_scales([1.0, 2.0, 3.0], [0, 2, 3], m)[1])  # one point: no scale
