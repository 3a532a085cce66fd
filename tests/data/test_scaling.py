"""SeriesScaler: statistics against scikit-learn/NumPy, exact inverse, constant series, state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from forecastkit.data import SCALER_METHODS, SeriesScaler, to_panel
from forecastkit.exceptions import EmptyDataError, InvalidInputError, MissingValuesError

SKLEARN = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def _series(rng, n_series=4):
    return [rng.normal(loc=10 * i, scale=i + 1, size=rng.integers(5, 30)) for i in range(n_series)]


@pytest.mark.parametrize("method", ["standard", "minmax", "robust"])
def test_matches_sklearn_per_series(method):
    rng = np.random.default_rng(1)
    series = _series(rng)
    ours = SeriesScaler(method).fit(series)
    for i, x in enumerate(series):
        ref = SKLEARN[method]().fit(x.reshape(-1, 1))
        got = ours.transform(x[None, :], series=np.array([i]))[0]
        np.testing.assert_allclose(got, ref.transform(x.reshape(-1, 1))[:, 0], rtol=1e-12)


def test_meanabs_matches_numpy():
    rng = np.random.default_rng(2)
    series = _series(rng)
    sc = SeriesScaler("meanabs").fit(series)
    np.testing.assert_allclose(sc.scale_, [np.mean(np.abs(x)) for x in series], rtol=1e-12)
    np.testing.assert_array_equal(sc.loc_, 0.0)


def test_fit_on_panel_equals_fit_on_list(panel_df):
    panel = to_panel(panel_df)
    for method in SCALER_METHODS:
        a = SeriesScaler(method).fit(panel)
        b = SeriesScaler(method).fit([panel.series(i) for i in range(panel.n_series)])
        np.testing.assert_allclose(a.loc_, b.loc_)
        np.testing.assert_allclose(a.scale_, b.scale_)
        z = a.transform_panel(panel)
        for i in range(panel.n_series):
            seg = z[panel.indptr[i] : panel.indptr[i + 1]]
            np.testing.assert_allclose(seg, (panel.series(i) - a.loc_[i]) / a.scale_[i])


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=80, deadline=None)
@given(
    series=st.lists(st.lists(finite, min_size=1, max_size=30), min_size=1, max_size=5),
    method=st.sampled_from(SCALER_METHODS),
)
def test_inverse_is_exact(series, method):
    arrays = [np.array(s) for s in series]
    sc = SeriesScaler(method).fit(arrays)
    assert np.all(sc.scale_ > 0) and np.all(np.isfinite(sc.scale_))
    for i, x in enumerate(arrays):
        rows = np.full(1, i)
        z = sc.transform(x[None, :], series=rows)
        back = sc.inverse_transform(z, series=rows)[0]
        np.testing.assert_allclose(back, x, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(x).max()))
    # The (n_series, ...) form: one row per series, broadcast over the trailing axes.
    block = np.stack([np.resize(x, 7) for x in arrays])[:, :, None]
    back = sc.inverse_transform(sc.transform(block))
    np.testing.assert_allclose(back, block, rtol=1e-9, atol=1e-9 * max(1.0, np.abs(block).max()))


@pytest.mark.parametrize("method", SCALER_METHODS)
@pytest.mark.parametrize("level", [0.0, 5.0, -3.25, 1e9])
def test_constant_series_never_divides_by_zero(method, level):
    x = np.full(20, level)
    sc = SeriesScaler(method).fit([x, np.arange(20.0)])
    # Spread-based scales of a constant are 0 -> replaced by 1; the mean absolute value of a
    # constant is |level|, which is only 0 (-> 1) for the all-zero series.
    expected = abs(level) if method == "meanabs" and level != 0 else 1.0
    assert sc.scale_[0] == expected
    z = sc.transform(np.stack([x, x]))
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(sc.inverse_transform(z)[0], x)


def test_float32_stays_float32():
    sc = SeriesScaler().fit([np.arange(10.0), np.arange(5.0)])
    z = sc.transform(np.ones((2, 3), dtype=np.float32))
    assert z.dtype == np.float32


def test_state_round_trips_through_json():
    rng = np.random.default_rng(3)
    sc = SeriesScaler("robust").fit(_series(rng))
    state = json.loads(json.dumps(sc.get_state()))
    sc2 = SeriesScaler.from_state(state)
    assert sc2.method == "robust"
    np.testing.assert_array_equal(sc2.loc_, sc.loc_)
    np.testing.assert_array_equal(sc2.scale_, sc.scale_)
    with pytest.raises(InvalidInputError):
        SeriesScaler.from_state({"method": "robust"})


def test_bad_input():
    with pytest.raises(InvalidInputError, match="unknown scaling"):
        SeriesScaler("zscore").fit([np.arange(3.0)])
    with pytest.raises(MissingValuesError, match="'b'"):
        SeriesScaler().fit([np.arange(3.0), np.array([1.0, np.nan])], ids=["a", "b"])
    with pytest.raises(EmptyDataError, match="position 1"):
        SeriesScaler().fit([np.arange(3.0), np.array([])])
    sc = SeriesScaler().fit([np.arange(3.0), np.arange(4.0)])
    with pytest.raises(InvalidInputError, match="n_series=2"):
        sc.transform(np.ones((3, 2)))
    with pytest.raises(InvalidInputError, match="positions"):
        sc.transform(np.ones((1, 2)), series=np.array([2]))
    with pytest.raises(InvalidInputError, match="one series position per row"):
        sc.transform(np.ones((2, 2)), series=np.array([0]))
