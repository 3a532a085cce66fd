"""Tiny fitted RNN forecasters shared by the export and persistence tests.

Four fits cover every configuration the export must handle: each cell (rnn, lstm, gru),
stacking, bidirectional layers, each strategy (direct, recursive, seq2seq), an ensemble with
two lookbacks, both window scalers (log and level) and calendar features on a monthly
datetime panel. Some query series are shorter than the lookback, so padding and masks are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

HORIZON = 4
SEASON = 12
TINY = dict(horizon=HORIZON, season_length=SEASON, epochs=2, early_stopping=False,
            batch_size=64, random_state=0, n_models=1)

CONFIGS = {
    # name: (RNNForecaster parameters, calendar panel?)
    "rnn_stacked_direct_level": (
        dict(cell="rnn", units=(8, 8), lookback=12, strategy="direct", scaler="level"), False),
    "lstm_recursive_calendar": (
        dict(cell="lstm", units=(8,), lookback=12, strategy="recursive"), True),
    "gru_bidirectional_seq2seq": (
        dict(cell="gru", units=(8,), lookback=12, bidirectional=True, strategy="seq2seq"), False),
    "lstm_ensemble_direct": (
        dict(cell="lstm", units=(8,), lookback=(12, 18), n_models=2, strategy="direct"), False),
}


@dataclass
class Case:
    """A fitted forecaster, its export and what its serving model must reproduce."""

    name: str
    forecaster: object
    export_dir: object  # path/<version>/
    query: pd.DataFrame  # histories to forecast from (not the training data)
    inputs: dict  # serving inputs of the query: history, mask (and position)
    expected: np.ndarray  # forecaster.predict on the query, (n_series, horizon)


def make_panel(n_series: int, length, seed: int, calendar: bool) -> pd.DataFrame:
    from forecastkit.datasets import make_trend_seasonal

    return make_trend_seasonal(
        n_series=n_series, length=length, season_length=SEASON, seed=seed,
        freq="MS" if calendar else None,
    )


def make_query(calendar: bool) -> pd.DataFrame:
    """Histories to forecast from: three longer than any serving window, three short ones."""
    long = make_panel(3, 90, seed=2, calendar=calendar)
    short = make_panel(3, (6, 40), seed=3, calendar=calendar)
    short["unique_id"] = "short_" + short["unique_id"].astype(str)
    return pd.concat([long, short], ignore_index=True)


@pytest.fixture(scope="session")
def fitted_cases(tmp_path_factory) -> dict[str, Case]:
    """Every configuration fitted once and exported once for the whole session."""
    import forecastkit as fk
    from forecastkit.data.frames import to_panel

    root = tmp_path_factory.mktemp("exports")
    cases = {}
    for name, (params, calendar) in CONFIGS.items():
        train = make_panel(4, (8, 80), seed=1, calendar=calendar)
        query = make_query(calendar)
        f = fk.RNNForecaster(**{**TINY, **params}).fit(train)
        assert f.use_position_ == calendar
        export_dir = fk.export_saved_model(f, root / name)
        inputs = f.serving_inputs(to_panel(query))
        expected = f.predict_array(y=query)
        cases[name] = Case(name, f, export_dir, query, inputs, expected)
    return cases


# ----------------------------------------------------------------------------- combinations


TINY_LSTM = dict(units=(8,), epochs=2, n_models=1, batch_size=64, windows_per_epoch=2048)


@dataclass
class CombinationCase:
    """A fitted combination, what predict gives, and the SavedModel's inputs for the same
    histories (the training panel and a query of new histories)."""

    name: str
    forecaster: object
    train: pd.DataFrame
    query: pd.DataFrame
    expected: np.ndarray  # predict_array(), (n_series, horizon)
    expected_query: np.ndarray  # predict_array(y=query)


def networks(forecaster) -> list:
    """The RNNForecaster members of a fitted forecaster, at any depth."""
    import forecastkit as fk

    if isinstance(forecaster, fk.RNNForecaster):
        return [forecaster]
    inner = (getattr(forecaster, "estimators_", None) or getattr(forecaster, "members_", None)
             or [("best", getattr(forecaster, "best_estimator_", None))])
    return [n for _, est in inner if est is not None for n in networks(est)]


def served_inputs(forecaster, y, width: int) -> dict:
    """The inputs of a combination's SavedModel for the histories ``y``: the last ``width``
    values left padded with 0, their mask, and a network member's seasonal position."""
    from forecastkit.data.frames import to_panel
    from forecastkit.data.windowing import last_windows

    panel = to_panel(y)
    history, mask = last_windows(panel, width)
    inputs = {"history": history.astype(np.float32), "mask": mask.astype(np.float32)}
    for net in networks(forecaster):
        if net.use_position_:
            inputs["position"] = net.serving_inputs(panel)["position"]
    return inputs


def fit_lstm_validated(name, train, query, horizon, season, **params):
    """``make_model("lstm-validated")`` with a tiny network, fitted, with predict's forecasts
    of the training panel and of ``query``."""
    import warnings

    from forecastkit.evaluation import make_model

    f = make_model("lstm-validated", horizon=horizon, season_length=season, seed=0)
    f.set_params(**{f"lstm__{k}": v for k, v in TINY_LSTM.items()}, theta__n_jobs=1,
                 comb__n_jobs=1, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f.fit(train)
        expected, expected_query = f.predict_array(), f.predict_array(y=query)
    return CombinationCase(name, f, train, query, expected, expected_query)


@pytest.fixture(scope="session")
def combination_helpers():
    """The helpers above, for the test modules (which cannot import a conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(networks=networks, served_inputs=served_inputs,
                           fit_lstm_validated=fit_lstm_validated)


@pytest.fixture(scope="session")
def lstm_validated() -> CombinationCase:
    """The README's recommended configuration fitted on a sample of M3 Monthly (every 119th
    series); the query is the same series without their last 6 values."""
    import forecastkit as fk

    train, _, info = fk.datasets.load_m3("monthly")
    ids = train["unique_id"].unique()[::119]
    train = train[train["unique_id"].isin(ids)].reset_index(drop=True)
    query = train[train.groupby("unique_id").cumcount(ascending=False) >= 6]
    return fit_lstm_validated("m3-monthly", train, query, info.horizon, info.season_length)
