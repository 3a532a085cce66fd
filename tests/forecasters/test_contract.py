"""The forecaster contract, checked on RNNForecaster and every baseline with scikit-learn's checks.

``sklearn.utils.estimator_checks`` cannot be run wholesale (``check_estimator`` /
``parametrize_with_checks``): most of its checks fit on a random ``(X, y)`` numpy matrix, and a
forecaster is fitted on series (``fit(y)``; ``X`` holds exogenous regressors and must be None).
So the checks are taken one by one.

Run as they are (from ``sklearn.utils.estimator_checks``)
    check_estimator_cloneable, check_estimator_repr, check_no_attributes_set_in_init,
    check_parameters_default_constructible, check_get_params_invariance, check_set_params,
    check_do_not_raise_errors_in_init_or_set_params, check_estimator_tags_renamed,
    check_valid_tag_types, check_mixin_order.

Re-done here with a panel of series instead of ``(X, y)``, same logic
    check_estimators_fit_returns_self, check_dont_overwrite_parameters and
    check_estimators_overwrite_params (fit adds only ``_``-ended attributes and changes no
    parameter, compared by ``joblib.hash``), check_estimators_unfitted and
    check_fit_check_is_fitted (``NotFittedError`` before fit, ``check_is_fitted`` passes after),
    check_dict_unchanged (predict changes no attribute), check_estimators_pickle (a pickled
    fitted forecaster predicts the same), check_fit_idempotent (a clone refitted with the same
    ``random_state`` predicts the same), check_param_validation (a constraint for every
    parameter; invalid values made by sklearn's ``generate_invalid_param_val`` raise forecastkit's
    ``InvalidParameterError``, which is a ``ForecastkitError``, naming the parameter),
    check_estimators_nan_inf and check_estimators_empty_data_messages (a forecastkit error naming
    the series).

Not applicable, and why
    - check_fit_score_takes_y, check_estimators_dtypes, check_dtype_object, check_complex_data,
      check_fit1d, check_fit2d_1sample, check_fit2d_1feature, check_fit2d_predict1d,
      check_n_features_in, check_n_features_in_after_fitting, check_requires_y_none,
      check_readonly_memmap_input, check_f_contiguous_array_estimator,
      check_estimators_data_not_an_array, check_dataframe_column_names_consistency,
      check_inplace_ensure_writeable: they are about a feature matrix ``X`` (its dtype, layout,
      memory, column names, ``n_features_in_``). Forecasters have no feature matrix; their input
      goes through ``to_panel``, whose dtype/non-numeric/layout handling is tested in tests/data.
    - check_methods_sample_order_invariance, check_methods_subset_invariance: rows of ``X`` are
      exchangeable samples; observations of a series are ordered in time, and ``predict`` takes
      a horizon, not samples.
    - check_regressors_train, check_regressors_int, check_regressor_multioutput,
      check_regressors_no_decision_function, check_supervised_y_2d, check_supervised_y_no_nan,
      check_pipeline_consistency: forecasters are not regressors (no ``score(X, y)``, no
      ``RegressorMixin``) nor pipeline steps.
    - sample-weight checks (check_sample_weights_*, check_all_zero_sample_weights_error,
      check_sample_weight_equivalence_*): no ``sample_weight``.
    - sparse and array-API checks (check_estimator_sparse_*, check_array_api_*): series are
      dense numpy/pandas data and the networks run in Keras.
    - classifier, clusterer, transformer, outlier-detector, set_output and feature-names checks:
      other kinds of estimator; forecasters have no ``transform``/``predict_proba``.
    - check_positive_only_tag_during_fit, check_fit_non_negative: tag-driven checks on ``X``.
    - check_non_transformer_estimators_n_iter, check_estimators_partial_fit_n_features,
      check_sparsify_coefficients, check_class_weight_*, check_nonsquare_error: no ``max_iter``,
      ``partial_fit``, coefficients, class weights or pairwise input.
"""

from __future__ import annotations

import pickle
import warnings
from numbers import Integral, Real

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as sk_checks
from sklearn.utils._param_validation import (
    Interval,
    generate_invalid_param_val,
    make_constraint,
)
from sklearn.utils.validation import check_is_fitted

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal
from forecastkit.exceptions import (
    EmptyDataError,
    ForecastkitError,
    ForecastkitWarning,
    MissingValuesError,
)
from forecastkit.forecasters import BaseForecaster, InvalidParameterError
from forecastkit.forecasters import baselines as _baselines

HORIZON = 4
BASELINE_CLASSES = [
    getattr(_baselines, name)
    for name in _baselines.__all__
    if isinstance(getattr(_baselines, name), type)
    and issubclass(getattr(_baselines, name), BaseForecaster)
]


def _make(cls) -> BaseForecaster:
    if cls is fk.RNNForecaster:
        return fk.RNNForecaster(units=(8,), lookback=8, horizon=HORIZON, epochs=1, batch_size=64,
                                early_stopping=False, random_state=0)
    return cls(season_length=4, horizon=HORIZON)


CLASSES = [fk.RNNForecaster, *BASELINE_CLASSES]
IDS = [cls.__name__ for cls in CLASSES]


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_trend_seasonal(n_series=3, length=(30, 40), season_length=4, seed=0)


@pytest.fixture(scope="module")
def fitted(panel):
    """Fit each class once (lazily) and record its ``__dict__`` around the fit."""
    cache: dict[type, tuple] = {}

    def get(cls):
        if cls not in cache:
            est = _make(cls)
            before = dict(vars(est))
            params_hash = joblib.hash(est.get_params())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # baselines' fallback warnings are not checked here
                returned = est.fit(panel)
            cache[cls] = (est, returned, before, params_hash, est.predict_array())
        return cache[cls]

    return get


def test_all_baselines_collected():
    names = {cls.__name__ for cls in BASELINE_CLASSES}
    assert {"Naive", "SeasonalNaive", "Naive2", "Theta", "ETS", "ARIMA"} <= names


# --------------------------------------------------------------------------- sklearn's own checks

SKLEARN_CHECKS = [
    sk_checks.check_estimator_cloneable,
    sk_checks.check_estimator_repr,
    sk_checks.check_no_attributes_set_in_init,
    sk_checks.check_parameters_default_constructible,
    sk_checks.check_get_params_invariance,
    sk_checks.check_set_params,
    sk_checks.check_do_not_raise_errors_in_init_or_set_params,
    sk_checks.check_estimator_tags_renamed,
    sk_checks.check_valid_tag_types,
    sk_checks.check_mixin_order,
]


@pytest.mark.parametrize("check", SKLEARN_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_sklearn_check(cls, check):
    check(cls.__name__, _make(cls))


# --------------------------------------------------------------------------- re-done on series


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_fit_returns_self_and_sets_only_underscore_attributes(cls, fitted):
    est, returned, before, params_hash, _ = fitted(cls)
    assert returned is est
    added = set(vars(est)) - set(before)
    public = [a for a in added if not a.startswith("_") and not a.endswith("_")]
    assert not public, public
    assert joblib.hash(est.get_params()) == params_hash  # fit changed no parameter
    for key, value in before.items():
        assert vars(est)[key] is value, key


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_unfitted_raises_not_fitted(cls):
    est = _make(cls)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    for call in (est.predict, est.predict_array):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_check_is_fitted_after_fit_and_predict_changes_nothing(cls, fitted):
    est, _, _, _, pred = fitted(cls)
    check_is_fitted(est)
    keys = set(vars(est))
    params_hash = joblib.hash(est.get_params())
    np.testing.assert_array_equal(est.predict_array(), pred)
    assert set(vars(est)) == keys
    assert joblib.hash(est.get_params()) == params_hash


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_pickle_round_trip(cls, fitted):
    est, _, _, _, pred = fitted(cls)
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params()
    np.testing.assert_allclose(restored.predict_array(), pred, rtol=1e-6)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_clone_round_trip_and_refit_is_idempotent(cls, fitted, panel):
    est, _, _, _, pred = fitted(cls)
    twin = clone(est)
    assert type(twin) is cls and twin.get_params() == est.get_params()
    assert not [a for a in vars(twin) if a.endswith("_")]
    with pytest.raises(NotFittedError):
        twin.predict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin.fit(panel)
    np.testing.assert_array_equal(twin.predict_array(), pred)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_parameter_table_covers_every_parameter(cls):
    params = set(_make(cls).get_params(deep=False))
    assert set(cls._parameter_constraints) == params


def _invalid_values(cls):
    """(parameter, bad value) pairs, the way sklearn's check_param_validation makes them."""
    bad_type = type("BadType", (), {})()
    for name, constraints in cls._parameter_constraints.items():
        if constraints == "no_validation":
            continue
        assert not (
            any(isinstance(c, Interval) and c.type is Integral for c in constraints)
            and any(isinstance(c, Interval) and c.type is Real for c in constraints)
        ), f"{cls.__name__}.{name} mixes Integral and Real intervals"
        yield name, bad_type
        for constraint in map(make_constraint, constraints):
            try:
                yield name, generate_invalid_param_val(constraint)
            except NotImplementedError:
                continue


PARAM_CASES = [(cls, name, value) for cls in CLASSES for name, value in _invalid_values(cls)]


@pytest.mark.parametrize(
    "cls, name, value",
    PARAM_CASES,
    ids=[f"{c.__name__}-{n}-{type(v).__name__}" for c, n, v in PARAM_CASES],
)
def test_param_validation(cls, name, value, panel):
    est = _make(cls).set_params(**{name: value})
    match = rf"The '{name}' parameter of {cls.__name__} must be .* Got .* instead"
    for method in ("fit", "fit_predict"):
        with pytest.raises(InvalidParameterError, match=match) as info:
            getattr(est, method)(panel)
        assert isinstance(info.value, ForecastkitError)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_inf_in_target_names_the_series(cls, panel):
    df = panel.copy()
    df.loc[df.index[df["unique_id"] == "S0001"][3], "y"] = np.inf
    with pytest.raises(MissingValuesError, match="S0001"):
        _make(cls).fit(df)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_nan_in_target_is_masked_or_filled_and_can_be_refused(cls, panel):
    df = panel.copy()
    df.loc[df.index[df["unique_id"] == "S0001"][[3, 4]], "y"] = np.nan
    est = _make(cls)
    if "missing" in est.get_params():
        with pytest.raises(MissingValuesError, match="'S0001' has 2 missing value"):
            clone(est).set_params(missing="raise").fit(df)
    if getattr(est, "missing", "interpolate") == "interpolate":
        with pytest.warns(ForecastkitWarning, match="2 missing value"):
            est.fit(df)
        assert est.n_filled_ == {"S0001": 2}
    else:
        est.fit(df)
        assert est.n_filled_ == {}
    assert np.isfinite(est.predict_array()).all()


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_empty_data(cls, panel):
    with pytest.raises(EmptyDataError):
        _make(cls).fit(panel.iloc[:0])
    with pytest.raises(EmptyDataError, match="lonely"):
        _make(cls).fit(pd.Series([], dtype=float, name="lonely"))
