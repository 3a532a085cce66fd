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
        dict(cell="lstm", units=(8,), lookback=(12, 18), n_models=3, strategy="direct"), False),
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
