"""The deterministic smoothing search (forecastkit.forecasters._smoothing) against statsmodels.

statsmodels is the independent reference twice over: run with the parameters and initial
states the search found (``initialization_method="known"``, ``optimized=False``) it must give
the same forecasts and error sum, so the recursions are statsmodels'; and its own fit must never
reach a lower error sum than the search, so the search optimises at least as well.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from forecastkit.forecasters import _classical as cl
from forecastkit.forecasters import _smoothing as sm

H = 12


def _m3_deseasonalised(count=12):
    import forecastkit as fk
    from forecastkit.data.frames import to_panel

    train, _, _ = fk.datasets.load_m3("monthly")
    ids = train["unique_id"].unique()[:: 1428 // count][:count]
    panel = to_panel(train[train["unique_id"].isin(ids)])
    return [cl.deseasonalise(panel.series(i).astype(float), 12).values
            for i in range(panel.n_series)]


def _synthetic():
    rng = np.random.default_rng(3)
    t = np.arange(60.0)
    return [
        100 + 0.8 * t + rng.normal(0, 3, 60),  # trend
        np.cumsum(rng.normal(0, 1, 40)) - 5,  # random walk crossing zero
        1e-6 * (5 + np.sin(t[:30]) + rng.normal(0, 0.1, 30)),  # tiny magnitudes
        1e9 + 1e7 * rng.normal(size=25),  # huge magnitudes
    ]


SERIES = _synthetic() + _m3_deseasonalised()


def _statsmodels_at(x, kind, params, initial):
    from statsmodels.tsa.holtwinters import Holt, SimpleExpSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "ses":
            model = SimpleExpSmoothing(x, initialization_method="known",
                                       initial_level=initial[0])
            return model.fit(smoothing_level=params["alpha"], optimized=False)
        model = Holt(x, damped_trend=kind == "damped", initialization_method="known",
                     initial_level=initial[0], initial_trend=initial[1])
        extra = {"damping_trend": params["phi"]} if kind == "damped" else {}
        return model.fit(smoothing_level=params["alpha"], smoothing_trend=params["beta"],
                         optimized=False, **extra)


def _search(x, kind):
    y = np.asarray(x, dtype=np.float64)[None]
    mask = np.ones_like(y)
    forecast, fit = sm.smoothing_forecast(y, mask, kind, H)
    _, mean, scale = sm.standardise(y, mask)
    initial = (mean[0, 0] + scale[0, 0] * fit.initial[0, 0], scale[0, 0] * fit.initial[0, 1])
    params = {"alpha": fit.alpha[0], "beta": fit.beta[0], "phi": fit.phi[0]}
    return forecast[0], params, initial, fit.sse[0] * scale[0, 0] ** 2


@pytest.mark.parametrize("kind", sm.KINDS)
def test_statsmodels_with_the_found_parameters_gives_the_same_forecast(kind):
    for x in SERIES:
        forecast, params, initial, sse = _search(x, kind)
        ref = _statsmodels_at(x, kind, params, initial)
        scale = max(1e-300, float(np.abs(ref.forecast(H)).max()))
        np.testing.assert_allclose(forecast, ref.forecast(H), rtol=0, atol=1e-9 * scale)
        np.testing.assert_allclose(sse, ref.sse, rtol=1e-7, atol=1e-12 * float(x @ x))


@pytest.mark.parametrize("kind", sm.KINDS)
def test_the_search_is_never_worse_than_statsmodels_own_fit(kind):
    lower = 0
    for x in SERIES:
        _, params, _, sse = _search(x, kind)
        from statsmodels.tsa.holtwinters import Holt, SimpleExpSmoothing

        with cl.quiet():  # statsmodels' own optimiser, the reference the search must match
            if kind == "ses":
                own = SimpleExpSmoothing(x, initialization_method="estimated").fit()
            else:
                own = Holt(x, damped_trend=kind == "damped",
                           initialization_method="estimated").fit()
        ref_sse = float(own.sse)
        assert sse <= ref_sse * (1 + 1e-7), (kind, sse, ref_sse)
        lower += sse < ref_sse * (1 - 1e-3)
        # The parameters stay in statsmodels' bounds.
        assert sm.LOWER_BOUND <= params["alpha"] <= 1 - sm.LOWER_BOUND
        assert 0.0 <= params["beta"] <= params["alpha"]
        assert sm.PHI_BOUNDS[0] <= params["phi"] <= sm.PHI_BOUNDS[1] or kind != "damped"
    if kind != "ses":
        assert lower > 0  # statsmodels' L-BFGS-B stops short of the optimum on some series


@pytest.mark.parametrize("kind", sm.KINDS)
def test_a_batch_with_padding_gives_each_series_its_own_fit_bit_for_bit(kind):
    xs = SERIES[:3] + SERIES[-3:]
    width = max(len(x) for x in xs)
    y = np.zeros((len(xs), width))
    mask = np.zeros_like(y)
    for i, x in enumerate(xs):
        y[i, width - len(x):] = x
        mask[i, width - len(x):] = 1.0
    batch, _ = sm.smoothing_forecast(y, mask, kind, H)
    for i, x in enumerate(xs):
        alone, _ = sm.smoothing_forecast(np.asarray(x)[None], np.ones((1, len(x))), kind, H)
        np.testing.assert_array_equal(batch[i], alone[0])


def test_exact_cases():
    flat = np.full(20, 7.5)
    for kind in sm.KINDS:
        forecast, _, _, sse = _search(flat, kind)
        np.testing.assert_allclose(forecast, 7.5, rtol=1e-12)
        assert sse == pytest.approx(0.0, abs=1e-18)
    line = 3.0 + 0.5 * np.arange(30.0)
    forecast, _, _, sse = _search(line, "holt")  # Holt reproduces a line exactly
    np.testing.assert_allclose(forecast, 3.0 + 0.5 * np.arange(30, 30 + H), rtol=1e-9)


def test_drop_in_kernels_return_what_the_baselines_read():
    x = SERIES[0]
    forecast, params = sm.ses_forecast(x, H)
    assert forecast.shape == (H,) and set(params) == {"alpha", "sigma"}
    forecast, params = sm.holt_forecast(x, H, damped=True)
    assert forecast.shape == (H,) and set(params) == {"alpha", "beta", "phi", "sigma"}
    _, _, _, sse = _search(x, "damped")
    assert params["sigma"] == pytest.approx(np.sqrt(sse / len(x)), rel=1e-12)


@pytest.mark.parametrize("kind", sm.KINDS)
def test_forecast_many_in_small_blocks_equals_each_series_alone(kind, monkeypatch):
    rng = np.random.default_rng(3)
    # Lengths out of order, so the fit sorts them by start and splits them over blocks
    xs = [np.cumsum(rng.normal(size=n)) + 40.0 for n in rng.permutation(np.arange(8, 68, 4))]
    alone = [sm.forecast_many([x], kind, H)[0] for x in xs]
    monkeypatch.setattr(sm, "BLOCK_ENTRIES", 3 * len(sm.coarse_grid(kind)[0]))
    many = sm.forecast_many(xs, kind, H)
    for (fc, params), (fc_alone, params_alone) in zip(many, alone, strict=True):
        np.testing.assert_array_equal(fc, fc_alone)
        assert params == params_alone and set(params) == set(sm.PARAMS[kind])


def test_batched_theta_and_comb_baselines_equal_the_per_series_methods():
    from forecastkit.forecasters import _kernels as k

    xs = SERIES[:4]
    for kernel in (k.theta, k.comb):
        batched = kernel.batch(xs, 1, H)
        for x, (fc, sd, params) in zip(xs, batched, strict=True):
            fc_alone, sd_alone, params_alone = kernel(x, 1, H)
            np.testing.assert_array_equal(fc, fc_alone)
            np.testing.assert_array_equal(sd, sd_alone)
            assert params == params_alone
    for x, (fc, _, params) in zip(xs, k.theta.batch(xs, 1, H), strict=True):
        reference, ref_params = cl.theta_forecast(x, H)  # the one-series Theta method
        np.testing.assert_allclose(fc, reference, rtol=1e-12)
        assert params["alpha"] == ref_params["alpha"]
