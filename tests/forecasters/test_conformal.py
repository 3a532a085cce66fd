"""ConformalIntervals: coverage on simulated panels whose future is known in distribution,
known-answer quantiles, non-crossing under random inputs, bad input, saving."""

from __future__ import annotations

import math
import pickle
import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.utils import estimator_checks as sk_checks
from sklearn.utils._param_validation import Interval

import forecastkit as fk
from forecastkit.exceptions import (
    ForecastkitError,
    ForecastkitWarning,
    InvalidInputError,
    SeriesTooShortError,
)
from forecastkit.forecasters import BaseForecaster, ConformalIntervals, InvalidParameterError


def long_frame(values: np.ndarray | list) -> pd.DataFrame:
    """Rows of ``values`` (one series each, any lengths) as a long frame."""
    return pd.concat(
        [pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(len(v)), "y": np.asarray(v, float)})
         for i, v in enumerate(values)],
        ignore_index=True,
    )


def coverage(future: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of future values (n_series, n_paths, horizon) inside [lo, hi] (n_series, horizon)."""
    return float(np.mean((future >= lo[:, None, :]) & (future <= hi[:, None, :])))


class GlobalLast(BaseForecaster):
    """A global model (it forecasts new histories without refitting) that repeats the last
    value; counts its fits."""

    is_global: ClassVar[bool] = True
    fits: ClassVar[int] = 0
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "horizon": [Interval(Integral, 1, None, closed="left"), None],
        "max_steps": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, horizon=None, max_steps=None):
        self.horizon = horizon
        self.max_steps = max_steps

    @property
    def max_horizon(self):
        return self.max_steps

    def _fit(self, panel):
        type(self).fits += 1

    def _predict(self, panel, horizon):
        return np.repeat(panel.last(1), horizon, axis=1)


# --------------------------------------------------------------------------- coverage


LEVELS = [0.025, 0.1, 0.5, 0.9, 0.975]


def test_random_walk_coverage_is_nominal_on_a_fresh_continuation():
    # Naive on a Gaussian random walk: the h-step error is N(0, h sigma^2), the same law at
    # every origin, so the calibrated intervals must cover as they say.
    rng = np.random.default_rng(0)
    n, length, h, paths = 300, 200, 6, 20
    sigma = np.exp(rng.uniform(-3, 3, size=n))[:, None]  # series of very different sizes
    history = 100 * sigma + np.cumsum(rng.normal(size=(n, length)) * sigma, axis=1)
    f = ConformalIntervals(fk.baselines.Naive(horizon=h), n_windows=5).fit(long_frame(history))
    q = f.predict_quantiles_array(LEVELS)
    future = history[:, -1:, None] + np.cumsum(
        rng.normal(size=(n, paths, h)) * sigma[:, :, None], axis=2)
    assert coverage(future, q[:, :, 1], q[:, :, 3]) == pytest.approx(0.80, abs=0.03)
    assert coverage(future, q[:, :, 0], q[:, :, 4]) == pytest.approx(0.95, abs=0.02)
    # and the calibrated half-width follows the true sqrt(h) growth: scaled quantile
    # z * sqrt(h) / E|increment| = z * sqrt(h) / sqrt(2 / pi)
    true = 1.2815516 * np.sqrt(np.arange(1, h + 1)) / math.sqrt(2 / math.pi)
    np.testing.assert_allclose(f.scaled_quantiles([0.9])[:, 0], true, rtol=0.1)


def test_ar1_panel_coverage_with_a_combination_inside():
    # AR(1) series around their own means, wrapped around a combination (any forecaster).
    rng = np.random.default_rng(1)
    n, length, h, paths, phi = 300, 160, 4, 20, 0.7
    sigma = np.exp(rng.uniform(-2, 2, size=n))
    mu = rng.normal(size=n) * 50
    x = np.zeros((n, length))
    x[:, 0] = rng.normal(size=n) * sigma / math.sqrt(1 - phi**2)
    for t in range(1, length):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=n) * sigma
    # the horizon comes from the members, through the combination's own default
    combo = fk.forecasters.Combination(
        [("naive", fk.baselines.Naive(horizon=h)), ("mean", fk.baselines.Mean(horizon=h + 2))])
    f = ConformalIntervals(combo, n_windows=6).fit(long_frame(mu[:, None] + x))
    lo80, hi80, lo95, hi95 = (f.predict_interval().set_index(["unique_id", "ds"])[c]
                              .to_numpy().reshape(n, h)
                              for c in ("lo-80", "hi-80", "lo-95", "hi-95"))
    future = np.empty((n, paths, h))
    last = np.repeat(x[:, -1:], paths, axis=1)
    for step in range(h):
        last = phi * last + rng.normal(size=(n, paths)) * sigma[:, None]
        future[:, :, step] = last
    future += mu[:, None, None]
    assert coverage(future, lo80, hi80) == pytest.approx(0.80, abs=0.03)
    assert coverage(future, lo95, hi95) == pytest.approx(0.95, abs=0.02)


def test_signed_method_calibrates_each_tail_of_a_skewed_walk():
    # Increments Exp(1) - 1: errors are right-skewed. "signed" puts 10% in each tail of the
    # 80% interval; "absolute" (symmetric) cannot.
    rng = np.random.default_rng(2)
    n, length, h, paths = 300, 120, 3, 20
    history = np.cumsum(rng.exponential(size=(n, length)) - 1, axis=1)
    future = history[:, -1:, None] + np.cumsum(rng.exponential(size=(n, paths, h)) - 1, axis=2)
    below, above = {}, {}
    for method in ("signed", "absolute"):
        f = ConformalIntervals(fk.baselines.Naive(horizon=h), n_windows=8, method=method)
        q = f.fit(long_frame(history)).predict_quantiles_array([0.1, 0.9])
        below[method] = float(np.mean(future < q[:, None, :, 0]))
        above[method] = float(np.mean(future > q[:, None, :, 1]))
    assert below["signed"] == pytest.approx(0.10, abs=0.025)
    assert above["signed"] == pytest.approx(0.10, abs=0.025)
    assert below["absolute"] + above["absolute"] == pytest.approx(0.20, abs=0.03)
    # the symmetric interval misses mostly above (about 7% below, 13% above here)
    assert above["absolute"] - below["absolute"] > 0.04


# --------------------------------------------------------------------------- known answers


def test_linear_trends_give_exact_scaled_errors():
    # Naive on y = a + s t: every error at step h is s h and the scale is s, so every scaled
    # error is exactly h.
    slopes = np.array([0.5, 2.0, 10.0])
    t = np.arange(40)
    values = 3.0 + slopes[:, None] * t
    h = 3
    absolute = ConformalIntervals(fk.baselines.Naive(horizon=h), n_windows=4)
    q = absolute.fit(long_frame(values)).predict_quantiles_array([0.1, 0.5, 0.9])
    last = values[:, -1:]
    steps = np.arange(1, h + 1)
    np.testing.assert_allclose(q[:, :, 0], last - slopes[:, None] * steps)
    np.testing.assert_allclose(q[:, :, 1], np.repeat(last, h, axis=1))  # median = point
    np.testing.assert_allclose(q[:, :, 2], last + slopes[:, None] * steps)
    # signed: every quantile is the bias-corrected forecast, i.e. the true continuation
    signed = ConformalIntervals(fk.baselines.Naive(horizon=h), n_windows=4, method="signed")
    q = signed.fit(long_frame(values)).predict_quantiles_array([0.1, 0.5, 0.9])
    truth = 3.0 + slopes[:, None] * (t[-1] + steps)
    for j in range(3):
        np.testing.assert_allclose(q[:, :, j], truth)


def reference_scaled_quantile(errors: np.ndarray, level: float, method: str) -> float:
    """The conformal rank rule written out on a plain sorted list of one step's errors."""
    e = [float(v) for v in errors if np.isfinite(v)]
    n = len(e)
    if method == "absolute":
        ordered = sorted(abs(v) for v in e)
        cov = abs(2 * level - 1)
        k = math.ceil(round((n + 1) * cov, 9))
        value = 0.0 if k == 0 else ordered[min(k, n) - 1]
        return -value if level < 0.5 else value
    ordered = sorted(e)
    k = math.ceil(round((n + 1) * level, 9)) if level >= 0.5 else \
        math.floor(round((n + 1) * level, 9))
    return ordered[min(max(k, 1), n) - 1]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 6), st.integers(1, 30), st.integers(1, 4)),
    levels=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=6, unique=True),
    method=st.sampled_from(["absolute", "signed"]),
)
def test_scaled_quantiles_follow_the_conformal_rank_rule(seed, shape, levels, method):
    rng = np.random.default_rng(seed)
    errors = rng.standard_t(2, size=shape)
    errors[rng.random(shape) < 0.1] = np.nan  # left out, as errors of constant series are
    errors[0, 0] = 1.0  # at least one error per step
    f = ConformalIntervals(fk.baselines.Naive(), method=method)
    f.panel_, f.calibration_errors_, f.horizon_ = object(), errors, shape[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        got = f.scaled_quantiles(levels)
    order = np.sort(levels)
    for h in range(shape[2]):
        for j, p in enumerate(order):
            expected = reference_scaled_quantile(errors[:, :, h].ravel(), p, method)
            assert got[h, j] == pytest.approx(expected)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_series=st.integers(1, 5),
    horizon=st.integers(1, 4),
    n_windows=st.integers(1, 4),
    size=st.floats(1e-3, 1e6),
    levels=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=7, unique=True),
    method=st.sampled_from(["absolute", "signed"]),
)
def test_quantiles_never_cross(seed, n_series, horizon, n_windows, size, levels, method):
    rng = np.random.default_rng(seed)
    need = n_windows * horizon + 2
    values = [size * rng.standard_t(3, size=int(rng.integers(need, need + 30))).cumsum()
              for _ in range(n_series)]
    f = ConformalIntervals(fk.baselines.Naive(horizon=horizon), n_windows=n_windows,
                           method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ForecastkitWarning)
        f.fit(long_frame(values))
        scaled = f.scaled_quantiles(levels)
        q = f.predict_quantiles_array(levels)
    # by construction, before the base class' safety sort
    assert (np.diff(scaled, axis=1) >= 0).all()
    assert np.isfinite(q).all() and (np.diff(q, axis=2) >= 0).all()
    if method == "absolute" and 0.5 in levels:
        np.testing.assert_array_equal(q[:, :, list(np.sort(levels)).index(0.5)],
                                      f.predict_array())


# --------------------------------------------------------------------------- the contract


@pytest.fixture
def walks() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return long_frame(np.cumsum(rng.normal(size=(20, 60)), axis=1))


def test_frames_and_median(walks):
    f = ConformalIntervals(fk.baselines.Naive(horizon=4), n_windows=3).fit(walks)
    out = f.predict(quantiles=[0.9, 0.1, 0.5])
    assert list(out.columns) == ["unique_id", "ds", "y_pred", "q0.1", "q0.5", "q0.9"]
    np.testing.assert_array_equal(out["q0.5"], out["y_pred"])
    assert (out["q0.1"] < out["y_pred"]).all() and (out["q0.9"] > out["y_pred"]).all()
    assert len(f.predict(2, quantiles=[0.1])) == 20 * 2
    series = walks[walks.unique_id == "s0"].set_index("ds")["y"]
    one = ConformalIntervals(fk.baselines.Naive(horizon=4), n_windows=40, step=1).fit(series)
    frame = one.predict_interval(coverage=0.8)
    assert list(frame.columns) == ["y_pred", "lo-80", "hi-80"] and len(frame) == 4


def test_new_histories_keep_the_calibration(walks):
    f = ConformalIntervals(fk.baselines.Naive(horizon=3), n_windows=3).fit(walks)
    rng = np.random.default_rng(4)
    new = long_frame(np.cumsum(rng.normal(size=(2, 30)), axis=1) * 7)
    q = f.predict_quantiles_array([0.2, 0.8], y=new)
    x = np.cumsum(np.random.default_rng(4).normal(size=(2, 30)), axis=1) * 7
    scale = np.mean(np.abs(np.diff(x, axis=1)), axis=1)
    expected = x[:, -1:, None] + scale[:, None, None] * f.scaled_quantiles([0.2, 0.8])[None]
    np.testing.assert_allclose(q, expected)


def test_capabilities_follow_the_wrapped_model():
    local = ConformalIntervals(fk.baselines.Naive(horizon=2))
    assert local.supports_quantiles and not local.supports_paths
    assert not local.is_global and not local.fits_series_independently
    wrapped = ConformalIntervals(GlobalLast(horizon=2, max_steps=5))
    assert wrapped.is_global and wrapped.max_horizon == 5
    assert not wrapped.fits_series_independently  # errors pool across series
    assert local.max_horizon is None


def test_refit_false_trains_a_global_model_twice(walks):
    GlobalLast.fits = 0
    f = ConformalIntervals(GlobalLast(horizon=3), n_windows=4, refit=False).fit(walks)
    assert GlobalLast.fits == 2  # at the earliest origin, and on all the data
    GlobalLast.fits = 0
    g = ConformalIntervals(GlobalLast(horizon=3), n_windows=4).fit(walks)
    assert GlobalLast.fits == 5
    # the same forecasts either way for a model that repeats the last value
    np.testing.assert_allclose(f.calibration_errors_, g.calibration_errors_)


def test_sklearn_parameters_reach_the_wrapped_model():
    f = ConformalIntervals(fk.baselines.SeasonalNaive(season_length=4, horizon=2))
    assert f.get_params()["forecaster__season_length"] == 4
    g = clone(f).set_params(forecaster__horizon=5, n_windows=2)
    assert g.forecaster.horizon == 5 and g.n_windows == 2 and f.forecaster.horizon == 2
    assert f._season() == 4
    assert ConformalIntervals(fk.baselines.Naive(), season_length=7)._season() == 7


@pytest.mark.parametrize("check", [
    "check_estimator_cloneable", "check_no_attributes_set_in_init",
    "check_get_params_invariance", "check_set_params", "check_estimator_repr",
    "check_do_not_raise_errors_in_init_or_set_params",
])
def test_scikit_learn_checks(check):
    getattr(sk_checks, check)("ConformalIntervals",
                               ConformalIntervals(fk.baselines.Naive(horizon=3)))


def test_pickled_wrapper_predicts_the_same(walks):
    f = ConformalIntervals(fk.baselines.Naive(horizon=3), n_windows=3).fit(walks)
    g = pickle.loads(pickle.dumps(f))
    pd.testing.assert_frame_equal(g.predict_interval(), f.predict_interval())


@pytest.mark.parametrize("inner", [
    fk.baselines.Naive(horizon=3),
    fk.forecasters.Combination([("naive", fk.baselines.Naive(horizon=3)),
                                ("mean", fk.baselines.Mean(horizon=3))]),
])
def test_save_and_load_round_trip(walks, tmp_path, inner):
    f = ConformalIntervals(inner, n_windows=3, method="signed")
    f.fit(walks).save(tmp_path / "model")
    g = fk.load(tmp_path / "model")
    assert isinstance(g, ConformalIntervals) and g.method == "signed"
    assert type(g.forecaster) is type(inner) and repr(g.forecaster) == repr(inner)
    np.testing.assert_array_equal(g.calibration_errors_, f.calibration_errors_)
    pd.testing.assert_frame_equal(g.predict_interval(), f.predict_interval())


# --------------------------------------------------------------------------- bad input


def test_bad_levels_and_horizons(walks):
    f = ConformalIntervals(fk.baselines.Naive(horizon=3), n_windows=3).fit(walks)
    for bad in ([0.0, 0.5], [0.5, 1.0], [1.5], []):
        with pytest.raises(InvalidInputError, match="(0, 1)|empty"):
            f.predict(quantiles=bad)
    with pytest.raises(InvalidInputError, match="calibrated for 3 steps.*horizon=5"):
        f.predict_interval(horizon=5)
    assert f.predict_array(5).shape == (20, 5)  # point forecasts go as far as the model goes


@pytest.mark.parametrize("n_windows", [0, -2, 1.5])
def test_n_windows_must_be_a_positive_integer(walks, n_windows):
    with pytest.raises(InvalidParameterError, match="n_windows.*range \\[1, inf\\)"):
        ConformalIntervals(fk.baselines.Naive(horizon=2), n_windows=n_windows).fit(walks)
    assert issubclass(InvalidParameterError, ForecastkitError)


def test_series_too_short_for_the_windows_is_named():
    rng = np.random.default_rng(5)
    frame = long_frame([rng.normal(size=50), rng.normal(size=12)])
    f = ConformalIntervals(fk.baselines.Naive(horizon=4), n_windows=3)
    with pytest.raises(SeriesTooShortError, match="'s1' has 12 observations.*fewer windows"):
        f.fit(frame)


def test_what_is_wrapped_and_for_how_far(walks):
    with pytest.raises(InvalidInputError, match="forecaster instance"):
        ConformalIntervals(fk.baselines.Naive, horizon=2).fit(walks)
    with pytest.raises(InvalidInputError, match="horizon"):
        ConformalIntervals(fk.baselines.Naive()).fit(walks)
    with pytest.raises(InvalidInputError, match=r"horizon=6\) is longer than GlobalLast"):
        ConformalIntervals(GlobalLast(max_steps=4), horizon=6).fit(walks)
    with pytest.raises(InvalidParameterError, match="method"):
        ConformalIntervals(fk.baselines.Naive(horizon=2), method="bootstrap").fit(walks)


def test_too_few_errors_for_a_level_warn(walks):
    one = walks[walks.unique_id == "s0"]
    f = ConformalIntervals(fk.baselines.Naive(horizon=2), n_windows=5).fit(one)
    with pytest.warns(ForecastkitWarning, match="5 calibration errors.*95% central interval"
                                                ".*at least 19"):
        f.predict_interval(coverage=0.95)
    signed = ConformalIntervals(fk.baselines.Naive(horizon=2), n_windows=5, method="signed")
    with pytest.warns(ForecastkitWarning, match="too few for level 0.025.*at least 39"):
        signed.fit(one).predict_interval(coverage=0.95)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForecastkitWarning)
        f.predict_interval(coverage=0.6)  # 5 errors calibrate a 60% interval


def test_constant_series(walks):
    flat = long_frame([np.ones(30), np.ones(30)])
    with pytest.raises(ForecastkitError, match="every series is constant"):
        ConformalIntervals(fk.baselines.Naive(horizon=2), n_windows=3).fit(flat)
    mixed = pd.concat([walks, flat.assign(unique_id=["c0"] * 30 + ["c1"] * 30)])
    with pytest.warns(ForecastkitWarning, match="'c0', 'c1' are constant"):
        f = ConformalIntervals(fk.baselines.Naive(horizon=2), n_windows=3).fit(mixed)
    assert np.isnan(f.calibration_errors_[:, -2:]).all()
    with pytest.warns(ForecastkitWarning, match="zero width"):
        q = f.predict_quantiles_array([0.1, 0.9])
    np.testing.assert_array_equal(q[-2:, :, 0], q[-2:, :, 1])
