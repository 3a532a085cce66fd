"""SavedModel export: signatures, served forecasts equal to predict, input checks, metadata."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_panel
from sklearn.base import clone

import forecastkit as fk
from forecastkit.exceptions import ExportError

pytestmark = pytest.mark.slow  # the shared fixture fits and exports four networks

ATOL = 1e-5


@pytest.fixture(scope="module")
def served(fitted_cases):
    """Each case's SavedModel loaded back with plain TensorFlow, in this process."""
    import tensorflow as tf

    return {name: tf.saved_model.load(str(case.export_dir)) for name, case in fitted_cases.items()}


def _call(loaded, signature, inputs):
    import tensorflow as tf

    fn = loaded.signatures[signature]
    names = fn.structured_input_signature[1]
    return fn(**{k: tf.constant(inputs[k]) for k in names})["forecast"].numpy()


def _rtol(expected):
    # Tolerance of 1e-5 relative to the size of the forecasts (float32 on values near 10-100).
    return ATOL * max(1.0, float(np.abs(expected).max()))


def test_layout_and_signatures(fitted_cases, served):
    for name, case in fitted_cases.items():
        f = case.forecaster
        assert case.export_dir.name == "1" and (case.export_dir / "saved_model.pb").is_file()
        assert (case.export_dir / "variables").is_dir()
        sigs = served[name].signatures
        assert {"serve", "serve_masked", "serving_default"} <= set(sigs), name
        lookback = case.inputs["history"].shape[1]  # the longest lookback (or longer)
        want = {"history": ([None, lookback], "float32")}
        if f.use_position_:
            want["position"] = ([None], "int32")
        for sig_name, extra in (("serve", {}), ("serve_masked", {"mask": ([None, lookback],
                                                                          "float32")})):
            spec = sigs[sig_name].structured_input_signature[1]
            got = {k: (v.shape.as_list(), v.dtype.name) for k, v in spec.items()}
            assert got == {**want, **extra}, (name, sig_name)
            out = sigs[sig_name].structured_outputs
            assert list(out) == ["forecast"]
            assert out["forecast"].shape.as_list() == [None, f.horizon]
            assert out["forecast"].dtype.name == "float32"


def test_served_forecast_equals_predict(fitted_cases, served):
    for name, case in fitted_cases.items():
        got = _call(served[name], "serve_masked", case.inputs)
        assert got.shape == case.expected.shape
        np.testing.assert_allclose(got, case.expected, rtol=0, atol=_rtol(case.expected),
                                   err_msg=name)
        # Full histories need no mask: "serve" gives the same forecasts for them.
        full = case.inputs["mask"].all(axis=1)
        assert full.any() and not full.all(), "the query must hold short and full histories"
        sub = {k: v[full] for k, v in case.inputs.items()}
        np.testing.assert_allclose(_call(served[name], "serve", sub), case.expected[full],
                                   rtol=0, atol=_rtol(case.expected), err_msg=name)
        np.testing.assert_allclose(_call(served[name], "serving_default", sub),
                                   case.expected[full], rtol=0, atol=_rtol(case.expected))


def test_calendar_position_matters(fitted_cases, served):
    # A wrong month must change the forecast, or the position input would be decorative.
    case = fitted_cases["lstm_recursive_calendar"]
    shifted = dict(case.inputs, position=(case.inputs["position"] + 6) % 12)
    got = _call(served[case.name], "serve_masked", shifted)
    assert np.abs(got - case.expected).max() > 1e-4


def test_nan_history_is_rejected(fitted_cases, served):
    import tensorflow as tf

    for name in ("rnn_stacked_direct_level", "lstm_recursive_calendar"):
        inputs = {k: v.copy() for k, v in fitted_cases[name].inputs.items()}
        inputs["history"][0, -1] = np.nan
        for sig in ("serve", "serve_masked"):
            with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or infinite"):
                _call(served[name], sig, inputs)


def test_wrong_shape_or_dtype_is_rejected(fitted_cases, served):
    import tensorflow as tf

    case = fitted_cases["gru_bidirectional_seq2seq"]
    fn = served[case.name].signatures["serve"]
    width = case.inputs["history"].shape[1]
    too_long = np.ones((2, width + 1), np.float32)
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        fn(history=tf.constant(too_long))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        fn(history=tf.constant(np.ones(width, np.float32)))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        fn(history=tf.constant(too_long[:, :-1].astype(np.float64)))


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["mask"].__setitem__((0, -1), 0.5), "only 0 and 1"),
        (lambda d: d["mask"].__setitem__((0, slice(None)), 0.0), "needs an observed step"),
        (lambda d: d["history"].__setitem__((0, -1), -3.0), "log space"),
    ],
)
def test_bad_mask_or_value_is_rejected(fitted_cases, served, edit, message):
    import tensorflow as tf

    case = fitted_cases["lstm_ensemble_direct"]  # positive data: a log-space model
    assert case.forecaster.log_
    inputs = {k: v.copy() for k, v in case.inputs.items()}
    edit(inputs)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _call(served[case.name], "serve_masked", inputs)


def test_missing_values_inside_a_history_are_served_as_predict_masks_them(fitted_cases,
                                                                        served):
    """A network with missing="mask" (the default) serves histories with gaps: 0 in the mask
    (and the history) at a missing value, anywhere, the last step included."""
    case = fitted_cases["lstm_ensemble_direct"]
    query = case.query.copy()
    first = query["unique_id"] == query["unique_id"].iloc[0]
    rows = query.index[first]
    query.loc[rows[[-1, -5, -6]], "y"] = np.nan
    inputs = case.forecaster.serving_inputs(fk.data.to_panel(query, allow_missing=True))
    assert inputs["mask"][0, -1] == 0 and inputs["mask"][0, -5] == 0
    expected = case.forecaster.predict_array(y=query)
    got = _call(served[case.name], "serve_masked", inputs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=_rtol(expected))


def test_a_model_that_fills_missing_values_refuses_gaps_in_the_mask(fitted_cases, tmp_path):
    import tensorflow as tf

    case = fitted_cases["rnn_stacked_direct_level"]
    f = clone(case.forecaster).set_params(missing="interpolate")
    f.fit(make_panel(4, (8, 80), seed=1, calendar=False))
    loaded = tf.saved_model.load(str(fk.export_saved_model(f, tmp_path / "m")))
    inputs = {k: v.copy() for k, v in case.inputs.items()}
    inputs["mask"][0, :] = 1.0
    inputs["mask"][0, 3] = 0.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="left padding"):
        _call(loaded, "serve_masked", inputs)
    inputs["mask"][0, :] = 0.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="last history step"):
        _call(loaded, "serve_masked", inputs)


def test_position_out_of_range_is_rejected(fitted_cases, served):
    import tensorflow as tf

    case = fitted_cases["lstm_recursive_calendar"]
    for bad in (12, -1):
        inputs = dict(case.inputs, position=np.full_like(case.inputs["position"], bad))
        with pytest.raises(tf.errors.InvalidArgumentError, match="position"):
            _call(served[case.name], "serve_masked", inputs)


def test_metadata_asset(fitted_cases):
    import keras
    import tensorflow as tf

    import forecastkit as fk

    for name, case in fitted_cases.items():
        f = case.forecaster
        meta = json.loads((case.export_dir / "assets" / "forecastkit.json").read_text())
        assert meta["lookback"] == case.inputs["history"].shape[1] >= max(f.lookbacks_)
        assert meta["member_lookbacks"] == list(f.lookbacks_)
        assert meta["horizon"] == f.horizon and meta["season_length"] == f.season_length
        assert meta["frequency"] == ("MS" if f.use_position_ else None)
        assert meta["season_position"] == f.use_position_
        assert meta["log_space"] == f.log_
        assert meta["versions"] == {"forecastkit": fk.__version__, "tensorflow": tf.__version__,
                                    "keras": keras.__version__, "numpy": np.__version__}
        params = f.get_params()
        for key, value in meta["model"].items():
            want = list(params[key]) if isinstance(params[key], tuple) else params[key]
            assert value == want, (name, key)
        served_inputs = meta["signatures"]["serve_masked"]["inputs"]
        assert set(served_inputs) == set(case.inputs)


def test_calendar_position_follows_the_month(fitted_cases):
    # Independent of our code: for monthly data the position is the month of the first
    # forecast step, January = 0 (as documented in the metadata).
    import pandas as pd

    case = fitted_cases["lstm_recursive_calendar"]
    last = case.query.groupby("unique_id", sort=False)["ds"].max()
    months = (pd.DatetimeIndex(last) + pd.offsets.MonthBegin(1)).month.to_numpy() - 1
    np.testing.assert_array_equal(case.inputs["position"], months)


def test_export_refuses_bad_requests(fitted_cases, tmp_path):
    import forecastkit as fk

    case = fitted_cases["rnn_stacked_direct_level"]
    with pytest.raises(ExportError, match="already exists"):
        fk.export_saved_model(case.forecaster, case.export_dir.parent)
    with pytest.raises(ExportError, match="version"):
        fk.export_saved_model(case.forecaster, tmp_path, version=0)
    with pytest.raises(ExportError, match="fitted"):
        fk.export_saved_model(fk.RNNForecaster(), tmp_path)
    with pytest.raises(ExportError, match="RNNForecaster"):
        fk.export_saved_model(object(), tmp_path)
    assert not any(tmp_path.iterdir()), "a refused export must leave nothing behind"
