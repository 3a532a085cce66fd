"""Tests of :class:`forecastkit.RNNForecaster`.

Models are tiny (8 units, 2 epochs) and shared through module-scoped fixtures: what is checked here
is the contract (shapes, indexes, errors, masking, the global model, the ensemble median, the use
of forecastkit's own layers), not accuracy. The one learning test compares against a naive
forecast computed with a plain numpy loop.
"""

from __future__ import annotations

import copy
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.datasets import make_trend_seasonal
from forecastkit.exceptions import (
    ForecastkitError,
    ForecastkitWarning,
    InvalidInputError,
    MissingValuesError,
    SeriesTooShortError,
    TrainingDivergedError,
)
from forecastkit.forecasters import InvalidParameterError

HORIZON = 6
LOOKBACK = 12
SMALL = dict(units=(8,), lookback=LOOKBACK, horizon=HORIZON, epochs=2, batch_size=64,
             random_state=0)
# One member where the ensemble is not what is tested: each member is a network to trace.
ONE = {**SMALL, "n_models": 1}


# --------------------------------------------------------------------------- data and models


@pytest.fixture(scope="module")
def int_panel() -> pd.DataFrame:
    """Four integer-time series of 40..60 steps plus 'short', 9 steps (< lookback)."""
    df = make_trend_seasonal(n_series=4, length=(40, 60), season_length=12, seed=1)
    short = df[df["unique_id"] == "S0000"].tail(9).assign(unique_id="short")
    return pd.concat([df, short], ignore_index=True)


@pytest.fixture(scope="module")
def monthly_panel() -> pd.DataFrame:
    """Three monthly (month-start) series of different lengths ending in the same month."""
    return make_trend_seasonal(n_series=3, length=(40, 60), season_length=12, freq="MS", seed=2)


@pytest.fixture(scope="module")
def direct_model(int_panel):
    return fk.RNNForecaster(cell="lstm", strategy="direct", early_stopping=True, **ONE).fit(
        int_panel
    )


@pytest.fixture(scope="module")
def recursive_model(int_panel):
    params = {**ONE, "units": (8, 8)}
    return fk.RNNForecaster(
        cell="rnn", strategy="recursive", early_stopping=False, **params
    ).fit(int_panel)


@pytest.fixture(scope="module")
def seq2seq_model(int_panel):
    return fk.RNNForecaster(
        cell="gru", strategy="seq2seq", bidirectional=True, early_stopping=True, **ONE
    ).fit(int_panel)


@pytest.fixture(scope="module")
def ensemble_model(int_panel):
    return fk.RNNForecaster(n_models=3, early_stopping=False, **SMALL).fit(int_panel)


@pytest.fixture(scope="module")
def calendar_model(monthly_panel):
    return fk.RNNForecaster(
        season_length=12, season_position=True, early_stopping=False, **ONE
    ).fit(monthly_panel)


@pytest.fixture(scope="module")
def series_model():
    idx = pd.date_range("2015-01-01", periods=50, freq="MS")
    t = np.arange(50)
    y = pd.Series(20 + 0.2 * t + 2 * np.sin(2 * np.pi * t / 12), index=idx, name="sales")
    return y, fk.RNNForecaster(cell="gru", early_stopping=False, **ONE).fit(y)


ALL_MODELS = ["direct_model", "recursive_model", "seq2seq_model", "ensemble_model",
              "calendar_model"]


# --------------------------------------------------------------------------- output frames


def test_fit_returns_self(int_panel):
    f = fk.RNNForecaster(**{**ONE, "epochs": 1}, early_stopping=False)
    assert f.fit(int_panel) is f


def test_long_frame_out(direct_model, int_panel):
    pred = direct_model.predict()
    assert list(pred.columns) == ["unique_id", "ds", "y_pred"]
    ids = list(pd.unique(int_panel["unique_id"]))
    assert list(pd.unique(pred["unique_id"])) == ids  # input order, not sorted
    assert len(pred) == HORIZON * len(ids)
    for sid, rows in pred.groupby("unique_id", sort=False):
        last = int_panel.loc[int_panel["unique_id"] == sid, "ds"].max()
        assert rows["ds"].tolist() == list(range(last + 1, last + 1 + HORIZON))
    assert np.isfinite(pred["y_pred"]).all()


def test_series_datetime_in_series_out(series_model):
    y, f = series_model
    pred = f.predict()
    assert isinstance(pred, pd.Series)
    assert pred.name == "sales"
    expected = pd.date_range(y.index[-1], periods=HORIZON + 1, freq="MS")[1:]
    assert isinstance(pred.index, pd.DatetimeIndex)
    assert list(pred.index) == list(expected)  # same stamps (the time unit may differ: ns/us)
    assert pred.index.freq == y.index.freq
    assert np.isfinite(pred.to_numpy()).all()


@pytest.mark.parametrize("start, step", [(100, 1), (0, 2)])
def test_integer_index_continues(direct_model, start, step):
    values = 10 + np.sin(np.arange(30))
    y = pd.Series(values, index=pd.RangeIndex(start, start + step * 30, step))
    pred = direct_model.predict(y=y)
    assert isinstance(pred, pd.Series)
    end = start + step * 30
    assert pred.index.tolist() == list(range(end, end + step * HORIZON, step))


def test_period_index(direct_model):
    idx = pd.period_range("2001-01", periods=30, freq="M")
    pred = direct_model.predict(y=pd.Series(10 + np.cos(np.arange(30)), index=idx))
    assert isinstance(pred.index, pd.PeriodIndex)
    pd.testing.assert_index_equal(
        pred.index, pd.period_range("2003-07", periods=HORIZON, freq="M")
    )


def test_wide_frame(direct_model):
    idx = pd.date_range("2020-01-06", periods=30, freq="W-MON")
    wide = pd.DataFrame({"b": 5 + np.arange(30.0), "a": 50 - np.arange(30.0)}, index=idx)
    wide.iloc[:10, 0] = np.nan  # 'b' starts late: a shorter series, same end
    pred = direct_model.predict(y=wide)
    assert list(pred.columns) == ["unique_id", "ds", "y_pred"]
    assert list(pd.unique(pred["unique_id"])) == ["b", "a"]
    future = pd.date_range(idx[-1], periods=HORIZON + 1, freq="W-MON")[1:]
    for _, rows in pred.groupby("unique_id"):
        assert list(rows["ds"]) == list(future)


def test_shorter_horizon_is_a_prefix(direct_model):
    full = direct_model.predict_array()
    assert full.shape == (direct_model.n_series_, HORIZON)
    np.testing.assert_allclose(direct_model.predict_array(horizon=3), full[:, :3], rtol=1e-6)


# --------------------------------------------------------------------------- sklearn contract


def test_predict_before_fit_raises():
    f = fk.RNNForecaster(**SMALL)
    with pytest.raises(NotFittedError):
        f.predict()
    with pytest.raises(NotFittedError):
        f.predict_array()


def test_get_set_params_and_clone(direct_model):
    params = direct_model.get_params()
    assert params["units"] == (8,) and params["cell"] == "lstm"
    twin = clone(direct_model)
    assert twin.get_params() == params
    assert not hasattr(twin, "model_") and not hasattr(twin, "members_")
    assert twin.set_params(cell="gru", units=(4, 4)) is twin
    assert twin.cell == "gru" and twin.units == (4, 4)
    assert direct_model.cell == "lstm"  # the clone shares nothing
    with pytest.raises(ValueError, match="nonexistent"):
        twin.set_params(nonexistent=1)


def test_fitted_attributes_end_with_underscore(direct_model):
    params = set(direct_model.get_params())
    extra = set(vars(direct_model)) - params
    assert {"model_", "members_", "lookbacks_", "history_"} <= extra
    assert all(a.endswith("_") or a.startswith("_") for a in extra), sorted(extra)


@pytest.mark.parametrize(
    "name, value",
    [
        ("cell", "transformer"),
        ("units", 0),
        ("units", "64"),
        ("bidirectional", "yes"),
        ("lookback", 0),
        ("horizon", 0),
        ("season_length", 0),
        ("strategy", "mimo"),
        ("dropout", 1.0),
        ("dropout", -0.1),
        ("epochs", 0),
        ("epochs", "many"),
        ("batch_size", "probe"),
        ("batch_size", 0),
        ("learning_rate", 0.0),
        ("clipnorm", -1.0),
        ("loss", "mape"),
        ("scaler", "minmax"),
        ("season_position", "sometimes"),
        ("early_stopping", "no"),
        ("patience", 0),
        ("n_models", 0),
        ("batch_splits", 0),
        ("batch_splits", "many"),
        ("random_state", "seed"),
    ],
)
def test_invalid_parameter(int_panel, name, value):
    f = fk.RNNForecaster(**SMALL).set_params(**{name: value})
    with pytest.raises(InvalidParameterError, match=f"'{name}'") as info:
        f.fit(int_panel)
    assert isinstance(info.value, ForecastkitError)


@pytest.mark.parametrize("name, value", [("units", (8, 0)), ("lookback", (12, 0))])
def test_invalid_parameter_entries(int_panel, name, value):
    # Tuples pass the type table; their entries are checked when fitting, still by name.
    f = fk.RNNForecaster(**SMALL).set_params(**{name: value})
    with pytest.raises(ForecastkitError, match=name):
        f.fit(int_panel)


# --------------------------------------------------------------------------- architectures


@pytest.mark.parametrize("fixture", ALL_MODELS)
def test_shapes_every_configuration(request, fixture):
    f = request.getfixturevalue(fixture)
    out = f.predict_array()
    assert out.shape == (f.n_series_, HORIZON)
    assert out.dtype == np.float64 and np.isfinite(out).all()


def test_configurations_are_what_was_asked(direct_model, recursive_model, seq2seq_model,
                                           ensemble_model):
    def rnn_layers(model):
        return [
            layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, keras.layers.RNN)
        ]

    (lstm,) = rnn_layers(direct_model.members_[0])
    assert isinstance(lstm, fk.layers.LSTM) and lstm.cell.units == 8
    stacked = rnn_layers(recursive_model.members_[0])
    assert [type(layer) for layer in stacked] == [fk.layers.SimpleRNN] * 2
    assert recursive_model.members_[0].output_shape == (None, 1)  # one step, fed back
    bidi = [
        layer for layer in seq2seq_model.members_[0]._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.Bidirectional)
    ]
    assert bidi and isinstance(bidi[0].forward_layer, fk.layers.GRU)
    assert isinstance(bidi[0].backward_layer, fk.layers.GRU)
    assert len(ensemble_model.members_) == 3 and len(ensemble_model.history_) == 3
    # early stopping on a validation split: only the models fitted with it saw val_loss
    assert "val_loss" in direct_model.history_[0] and "val_loss" in seq2seq_model.history_[0]
    assert "val_loss" not in recursive_model.history_[0]
    assert all("val_loss" not in h for h in ensemble_model.history_)


# --------------------------------------------------------------- one data path


def test_each_network_traces_its_train_step_once(int_panel, monkeypatch):
    """The optimizer's slot variables (and, in one graph, the per-member loss trackers) exist
    before fit: created inside the first trace of the train step (Keras' default without a
    strategy) they make TensorFlow trace it twice."""
    traces = []
    real = keras.Model.train_step

    def counted(self, data):
        traces.append(self.name)
        return real(self, data)

    monkeypatch.setattr(keras.Model, "train_step", counted)
    fk.RNNForecaster(**{**SMALL, "n_models": 2}).fit(int_panel)
    fk.RNNForecaster(**{**SMALL, "n_models": 2}, ensemble_training="joint").fit(int_panel)
    assert len(traces) == 3 and len(set(traces)) == 3, traces


def test_fit_trains_through_the_data_pipeline(monthly_panel, monkeypatch):
    """fit streams every member's windows from forecastkit.data.window_dataset through the
    forecaster's WindowNormalizer (the layer in its serving model); nothing cuts windows into
    arrays (gather_windows, the NumPy path, is never called)."""
    import forecastkit.data.windowing as windowing
    import forecastkit.forecasters._rnn_training as training
    from forecastkit.data.normalization import WindowNormalizer

    calls = {"streams": [], "normalize": []}
    real_stream, real_normalize = training.window_dataset, WindowNormalizer.normalize_batch

    def stream(panel, plan, **kwargs):
        calls["streams"].append((plan.n_windows, kwargs["shuffle"]))
        return real_stream(panel, plan, **kwargs)

    def normalize(self, inputs, targets):
        calls["normalize"].append(self.get_config())
        return real_normalize(self, inputs, targets)

    def forbidden(*args, **kwargs):
        raise AssertionError("fit cut windows into arrays")

    monkeypatch.setattr(training, "window_dataset", stream)
    monkeypatch.setattr(WindowNormalizer, "normalize_batch", normalize)
    monkeypatch.setattr(windowing, "gather_windows", forbidden)
    f = fk.RNNForecaster(**{**SMALL, "n_models": 2}, season_length=12,
                         early_stopping=True).fit(monthly_panel)
    # A training and a validation stream per member, each normalised by the same layer config
    # the serving model holds.
    assert [shuffled for _, shuffled in calls["streams"]] == [False, True] * 2
    assert len(calls["normalize"]) == 4
    serving = f.model_.get_layer("normalizer").get_config()
    for config in calls["normalize"]:
        assert {k: config[k] for k in f.normalizer_config_} == f.normalizer_config_
        assert {k: serving[k] for k in f.normalizer_config_} == f.normalizer_config_
    n_series = to_panel(monthly_panel).n_series
    assert sorted(n for n, _ in calls["streams"])[:2] == [n_series, n_series]  # one val window


def test_windows_per_epoch_draws_a_fresh_subset_each_epoch(int_panel):
    from forecastkit.data.pipeline import window_dataset
    from forecastkit.data.window_plan import WindowPlan

    panel = to_panel(int_panel)
    plan = WindowPlan.for_lengths(panel.lengths, 6, 2, min_history=2, on_short="skip")
    ds = window_dataset(panel, plan, batch_size=16, seed=1, windows_per_epoch=40)
    epochs = [np.concatenate([y.numpy() for _, y in ds]) for _ in range(3)]
    assert all(len(e) == 40 for e in epochs)
    assert not np.array_equal(epochs[0], epochs[1])  # another draw each epoch
    # The same seed gives the same sequence of draws in a new stream.
    fresh = window_dataset(panel, plan, batch_size=16, seed=1, windows_per_epoch=40)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in fresh]), epochs[0])


# --------------------------------------------------------------- epochs / batch_size "auto"


@pytest.fixture
def fit_batch_sizes(monkeypatch):
    """The ``batch_size`` of every training stream ``fit`` builds (a spy around the real
    :func:`forecastkit.data.window_dataset`; validation streams are not counted)."""
    import forecastkit.forecasters._rnn_training as training

    seen = []
    real = training.window_dataset

    def spy(*args, **kwargs):
        if kwargs.get("shuffle", True):
            seen.append(kwargs["batch_size"])
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "window_dataset", spy)
    return seen


def test_auto_schedule_on_small_data_is_20_epochs_of_64(int_panel, fit_batch_sizes,
                                                         tmp_path):
    params = {k: v for k, v in SMALL.items() if k not in ("epochs", "batch_size")}
    f = fk.RNNForecaster(**params, n_models=1).fit(int_panel)
    assert f.get_params()["epochs"] == "auto" and f.get_params()["batch_size"] == "auto"
    assert (f.epochs_, f.batch_size_) == (20, 64)
    assert [len(h["loss"]) for h in f.history_] == [20]
    assert fit_batch_sizes == [64]
    g = fk.load(f.save(tmp_path / "est"))
    assert (g.epochs, g.batch_size, g.epochs_, g.batch_size_) == ("auto", "auto", 20, 64)


def test_auto_schedule_on_large_data_is_10_epochs_of_256(int_panel, fit_batch_sizes,
                                                          monkeypatch):
    import forecastkit.forecasters._rnn_training as training

    # The same panel counts as large once the threshold is below its number of windows.
    monkeypatch.setattr(training, "SMALL_DATA_MAX_WINDOWS", 1)
    params = {k: v for k, v in SMALL.items() if k not in ("epochs", "batch_size")}
    f = fk.RNNForecaster(**{**params, "n_models": 1}).fit(int_panel)
    assert (f.epochs_, f.batch_size_) == (10, 256)
    assert [len(h["loss"]) for h in f.history_] == [10]
    assert fit_batch_sizes == [256]


def test_given_batch_size_is_used_whatever_the_data_size(int_panel, fit_batch_sizes):
    f = fk.RNNForecaster(**{**SMALL, "batch_size": 16, "n_models": 1}).fit(int_panel)
    assert f.batch_size_ == 16 and fit_batch_sizes == [16]


def test_auto_epochs_with_early_stopping_is_a_cap_too(int_panel):
    params = {k: v for k, v in SMALL.items() if k != "epochs"}
    # A large learning rate reaches the plateau in few epochs (less CI time; same checks).
    f = fk.RNNForecaster(**params, early_stopping=True, patience=1, n_models=1,
                         learning_rate=1e-2).fit(int_panel)
    assert f.epochs_ == 100 and len(f.history_[0]["loss"]) < 100


# --------------------------------------------------------------------------- epochs="probe"


def test_probe_epochs_takes_the_probes_best_epoch_and_saves(int_panel, fit_batch_sizes,
                                                            tmp_path):
    params = {k: v for k, v in SMALL.items() if k != "batch_size"}  # batch_size "auto"
    f = fk.RNNForecaster(**{**params, "epochs": "probe", "n_models": 2}, patience=2,
                         learning_rate=1e-2).fit(int_panel)
    # The probe and both members train with the small-data batch size.
    assert f.batch_size_ == 64 and fit_batch_sizes == [64, 64, 64]
    val = f.probe_history_["val_loss"]
    assert f.epochs_ == int(np.argmin(val)) + 1
    # Keras' EarlyStopping ends `patience` epochs after the best one (or at the 100 cap).
    assert len(val) == min(f.epochs_ + 2, 100)
    # Every member then trains on all windows (no held-out steps) for exactly that many epochs.
    assert [len(h["loss"]) for h in f.history_] == [f.epochs_] * 2
    assert all("val_loss" not in h for h in f.history_)
    # The probe's outcome travels with the saved forecaster.
    g = fk.load(f.save(tmp_path / "est"))
    assert g.epochs == "probe" and g.epochs_ == f.epochs_ and g.batch_size_ == f.batch_size_
    assert g.probe_history_["val_loss"] == pytest.approx(f.probe_history_["val_loss"])
    np.testing.assert_allclose(g.predict_array(), f.predict_array(), rtol=1e-6)


def test_probe_epochs_probe_holds_out_the_last_steps(direct_model, int_panel):
    # The probe trains on windows whose targets end before the last `validation_size` steps of
    # each series and is scored on the one window per series whose targets end it; the counts
    # are checked against a plain loop over the series' lengths.
    from forecastkit.forecasters._rnn_training import TrainingData

    f = direct_model  # only its window is read: lookback 12, no seasonal window
    panel = to_panel(int_panel)
    min_hist = 2  # min(lookback, max(2, season_length)) with season_length 1

    def plan(holdout):
        return TrainingData.plan(
            panel, None, window=f.window_, horizon=HORIZON, min_history=min_hist,
            holdout=holdout, max_windows=None, windows_per_epoch=None, season_length=None,
            strategy="direct", seed=0,
        )

    all_windows, held = plan(None), plan(HORIZON)
    lengths = [int(n) for n in panel.lengths]
    assert all_windows.val is None
    assert all_windows.train.n_windows == sum(max(0, n - HORIZON - min_hist + 1) for n in lengths)
    assert held.train.n_windows == sum(max(0, n - 2 * HORIZON - min_hist + 1) for n in lengths)
    assert held.val.n_windows == sum(n - HORIZON >= min_hist for n in lengths)
    # No validation target is a training target: every training window ends before it.
    train_idx, val_idx = held.train.index(), held.val.index()
    ends = dict(zip(val_idx[:, 0], val_idx[:, 1], strict=True))
    assert all(o + HORIZON <= ends[s] for s, o in train_idx)


def test_probe_epochs_fixed_count_with_many_windows(int_panel, monkeypatch):
    import forecastkit.forecasters._rnn_training as training

    monkeypatch.setattr(training, "SMALL_DATA_MAX_WINDOWS", 1)
    f = fk.RNNForecaster(**{**ONE, "epochs": "probe"}).fit(int_panel)
    assert f.epochs_ == 10 and f.probe_history_ is None
    assert len(f.history_[0]["loss"]) == 10


def test_probe_epochs_with_early_stopping_is_a_cap(int_panel):
    f = fk.RNNForecaster(**{**SMALL, "epochs": "probe", "n_models": 1}, early_stopping=True,
                         patience=1, learning_rate=1e-2).fit(int_panel)
    assert f.epochs_ == 100 and f.probe_history_ is None
    assert "val_loss" in f.history_[0] and len(f.history_[0]["loss"]) < 100


def test_integer_epochs_are_kept(direct_model, recursive_model):
    assert recursive_model.epochs_ == 2 and len(recursive_model.history_[0]["loss"]) == 2
    assert direct_model.epochs_ == 2 and direct_model.probe_history_ is None


@pytest.mark.parametrize("fixture", ALL_MODELS)
def test_uses_forecastkit_layers_not_keras_builtins(request, fixture):
    f = request.getfixturevalue(fixture)
    keras_builtins = (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN,
                      keras.layers.LSTMCell, keras.layers.GRUCell, keras.layers.SimpleRNNCell)
    ours = (fk.layers.LSTM, fk.layers.GRU, fk.layers.SimpleRNN)
    our_cells = (fk.layers.LSTMCell, fk.layers.GRUCell, fk.layers.SimpleRNNCell)
    for member in f.members_:
        layers = member._flatten_layers(include_self=False, recursive=True)
        recurrent = [layer for layer in layers if isinstance(layer, keras.layers.RNN)]
        assert recurrent, "no recurrent layer found"
        for layer in recurrent:
            assert isinstance(layer, ours), type(layer)
            assert isinstance(layer.cell, our_cells), type(layer.cell)
        assert not [layer for layer in layers if isinstance(layer, keras_builtins)]


def test_recursive_forecasts_beyond_training_horizon(recursive_model):
    longer = recursive_model.predict_array(horizon=HORIZON + 3)
    assert longer.shape == (recursive_model.n_series_, HORIZON + 3)
    assert np.isfinite(longer).all()
    # Feeding forecasts back is causal: the first steps do not depend on how many follow.
    np.testing.assert_allclose(longer[:, :HORIZON], recursive_model.predict_array(), rtol=1e-5)


@pytest.mark.parametrize("fixture", ["direct_model", "seq2seq_model"])
def test_direct_and_seq2seq_refuse_longer_horizon(request, fixture):
    f = request.getfixturevalue(fixture)
    with pytest.raises(InvalidInputError, match="horizon"):
        f.predict(horizon=HORIZON + 1)


def test_ensemble_is_median_of_members(ensemble_model):
    f = ensemble_model
    combined = f.predict_array()
    singles = []
    for member, lookback in zip(f.members_, f.lookbacks_, strict=True):
        # The same forecaster reduced to one member: its serving model gives that member's
        # forecast in original units.
        one = copy.copy(f)
        one.members_, one.lookbacks_ = [member], [lookback]
        one.model_ = one._serving_model(f.horizon)
        singles.append(one.predict_array())
    singles = np.stack(singles)
    assert not np.allclose(singles[0], singles[1])  # members differ (different seeds)
    np.testing.assert_allclose(combined, np.median(singles, axis=0), rtol=1e-5, atol=1e-6)


def test_season_position(calendar_model, monthly_panel):
    f = calendar_model
    assert f.use_position_
    member = f.members_[0]
    assert {t.name for t in member.inputs} == {"z", "mask", "position"}
    onehot = [layer for layer in member.layers if type(layer).__name__ == "SeasonalPosition"]
    assert len(onehot) == 1 and onehot[0].season_length == 12  # value + month one-hot
    panel = to_panel(monthly_panel)
    inputs = f.serving_inputs(panel)
    first_step = pd.DatetimeIndex(panel.future_times(1)[:, 0])
    np.testing.assert_array_equal(inputs["position"], first_step.month - 1)
    pred = f.predict()
    assert len(pred) == 3 * HORIZON
    assert (pred["ds"].dt.day == 1).all()


# --------------------------------------------------------------------------- masking, global


def test_short_series_is_padded_and_masked(direct_model, int_panel):
    f = direct_model
    pred = f.predict()
    assert np.isfinite(pred.loc[pred["unique_id"] == "short", "y_pred"]).all()
    short = int_panel[int_panel["unique_id"] == "short"]
    panel = to_panel(short)
    inputs = f.serving_inputs(panel)
    masked = inputs["mask"] == 0
    assert masked.sum() >= LOOKBACK - len(short)
    junk = {k: v.copy() for k, v in inputs.items()}
    rng = np.random.default_rng(0)
    junk["history"][masked] = rng.uniform(-1e3, 1e3, size=int(masked.sum()))
    from_junk = f.model_.predict(junk, verbose=0)
    np.testing.assert_allclose(from_junk, f.predict_array(y=short), rtol=1e-6, atol=1e-6)


def test_global_model_forecasts_new_series_without_refitting(direct_model, int_panel):
    f = direct_model
    before = [w.copy() for m in f.members_ for w in m.get_weights()]
    reference = f.predict_array()
    new = make_trend_seasonal(n_series=3, length=50, season_length=12, seed=9)
    new["unique_id"] = "new_" + new["unique_id"].astype(str)
    pred = f.predict(y=new)
    assert list(pd.unique(pred["unique_id"])) == list(pd.unique(new["unique_id"]))
    assert np.isfinite(pred["y_pred"]).all()
    after = [w for m in f.members_ for w in m.get_weights()]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert list(f.panel_.ids) == list(pd.unique(int_panel["unique_id"]))
    np.testing.assert_array_equal(f.predict_array(), reference)
    # A training series passed as new history gets the forecast it got as training data.
    s1 = int_panel[int_panel["unique_id"] == "S0001"]
    np.testing.assert_allclose(f.predict_array(y=s1)[0], reference[1], rtol=1e-6)


def test_scaler_none_feeds_raw_values(int_panel):
    f = fk.RNNForecaster(**{**ONE, "epochs": 1}, scaler="none", early_stopping=False)
    f.fit(int_panel)
    inputs = f.serving_inputs(to_panel(int_panel))
    z, level, scale = f.model_.get_layer("normalizer")([inputs["history"], inputs["mask"]])[:3]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(z),
                                  inputs["history"] * inputs["mask"])
    assert not np.any(keras.ops.convert_to_numpy(level))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(scale), 1.0)
    assert np.isfinite(f.predict_array()).all()


# --------------------------------------------------------------------------- learning


@pytest.mark.slow
def test_lstm_beats_naive_on_clean_panel():
    n, length, h = 30, 96, HORIZON
    df = make_trend_seasonal(n_series=n, length=length, season_length=12, noise=0.02, seed=3)
    train = df.groupby("unique_id", sort=False).head(length - h)
    test = df.groupby("unique_id", sort=False).tail(h)
    # The reference: a plain numpy naive forecast (last training value), series by series.
    naive_err = []
    for sid in pd.unique(df["unique_id"]):
        last = train.loc[train["unique_id"] == sid, "y"].to_numpy()[-1]
        actual = test.loc[test["unique_id"] == sid, "y"].to_numpy()
        naive_err.append(np.abs(actual - last))
    naive_mae = float(np.mean(naive_err))
    f = fk.RNNForecaster(cell="lstm", units=(8,), lookback=24, horizon=h, season_length=12,
                         epochs=10, n_models=1, random_state=0).fit(train)
    pred = f.predict()
    merged = test.merge(pred, on=["unique_id", "ds"], how="inner")
    assert len(merged) == n * h
    rnn_mae = float(np.mean(np.abs(merged["y"] - merged["y_pred"])))
    assert rnn_mae < naive_mae, (rnn_mae, naive_mae)


# --------------------------------------------------------------------------- failures


def test_divergence_raises_training_diverged(int_panel):
    f = fk.RNNForecaster(**{**SMALL, "epochs": 2}, learning_rate=1e38, clipnorm=None,
                         early_stopping=False)
    with pytest.raises(TrainingDivergedError, match="diverged"):
        f.fit(int_panel)


def test_nan_in_target_names_the_series_when_missing_values_are_refused(int_panel):
    bad = int_panel.copy()
    bad.loc[bad.index[bad["unique_id"] == "S0002"][5], "y"] = np.nan
    with pytest.raises(MissingValuesError, match="'S0002' has 1 missing value"):
        fk.RNNForecaster(**SMALL, missing="raise").fit(bad)


def test_too_short_for_any_window_names_a_series():
    tiny = pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 4, "ds": [0, 1, 2, 0, 1, 2, 3],
                         "y": [1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(SeriesTooShortError, match="'[ab]'"):
        fk.RNNForecaster(**SMALL).fit(tiny)


def test_log_scaler_rejects_non_positive_values(int_panel):
    bad = int_panel.copy()
    bad.loc[bad.index[bad["unique_id"] == "S0003"][7], "y"] = -1.0
    with pytest.raises(ForecastkitError, match="S0003"):
        fk.RNNForecaster(**SMALL, scaler="log").fit(bad)


def test_auto_scaler_names_the_few_zeros_that_keep_it_off_log_levels(int_panel):
    shut = int_panel.copy()
    shut.loc[shut.index[shut["unique_id"] == "S0003"][[7, 8]], "y"] = 0.0
    with pytest.warns(ForecastkitWarning, match=r"2 of \d+ training values are zero, in 1 "
                      r"series \(S0003\)") as caught:
        f = fk.RNNForecaster(**{**ONE, "epochs": 1}, early_stopping=False).fit(shut)
    assert not f.log_
    ours = [w for w in caught if "zero" in str(w.message)]
    assert len(ours) == 1 and ours[0].filename == __file__  # at the user's call to fit
    # The advice works: the same zeros as NaN leave every value positive, and auto takes logs.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForecastkitWarning)
        masked = fk.RNNForecaster(**{**ONE, "epochs": 1}, early_stopping=False).fit(
            shut.replace({"y": {0.0: np.nan}}))
    assert masked.log_


@pytest.mark.parametrize(("values", "log"), [
    ([1.0] * 200, True),             # positive: log-levels, nothing to say
    ([1.0] * 190 + [0.0] * 10, False),  # 5 % zeros: intermittent demand, level is right
    ([1.0] * 199 + [-1.0], False),   # below zero: level is the only choice
])
def test_auto_scaler_is_quiet_unless_a_few_zeros_decide_it(values, log):
    from types import SimpleNamespace

    from forecastkit.forecasters._rnn_setup import _use_log

    panel = to_panel(pd.Series(values, name="s"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ForecastkitWarning)
        assert _use_log(SimpleNamespace(scaler="auto"), panel) is log


def test_log_model_rejects_non_positive_new_history(direct_model):
    assert direct_model.log_  # the panel is positive: 'auto' chose log space
    y = pd.Series(np.linspace(-5.0, 5.0, 20), name="crossing_zero")
    with pytest.raises(ForecastkitError, match="crossing_zero"):
        direct_model.predict(y=y)
