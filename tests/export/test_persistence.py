"""Estimator save/load: round trips predict identically; bad folders get PersistenceError."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.exceptions import PersistenceError

# ----------------------------------------------------------------------------- RNN forecasters


@pytest.mark.slow  # uses the session's fitted networks
def test_rnn_round_trip_predicts_identically(fitted_cases, tmp_path):
    for name, case in fitted_cases.items():
        f = case.forecaster
        folder = f.save(tmp_path / name)
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["forecastkit.json", "panel.npz", "panel.json"]
            + [f"member_{i}.keras" for i in range(f.n_models)]
        )
        g = fk.load(folder)
        assert type(g) is type(f) and g.get_params() == f.get_params()
        # Keras' predict function generalises its trace to the batch shapes it has seen, and
        # a different graph may round differently in the last bit; start both from a fresh
        # trace so that the comparison is of the models, not of their call histories.
        f.model_.predict_function = None
        g.model_.predict_function = None
        pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
        np.testing.assert_array_equal(g.predict_array(y=case.query), f.predict_array(y=case.query))
        inputs = f.serving_inputs(f.panel_)
        np.testing.assert_array_equal(g.model_(inputs).numpy(), f.model_(inputs).numpy())
        for w_loaded, w_saved in zip(g.members_, f.members_, strict=True):
            for a, b in zip(w_loaded.get_weights(), w_saved.get_weights(), strict=True):
                np.testing.assert_array_equal(a, b)
        # The loaded forecaster exports too, to the same forecasts.
        assert g.use_position_ == f.use_position_ and g.lookbacks_ == list(f.lookbacks_)


@pytest.mark.slow
def test_rnn_member_is_loaded_in_keras_safe_mode(fitted_cases, tmp_path):
    import keras

    folder = fitted_cases["rnn_stacked_direct_level"].forecaster.save(tmp_path / "est")
    # Swap a member for a model holding a Lambda layer (arbitrary code): safe mode refuses it.
    inp = keras.Input((3,))
    evil = keras.Model(inp, keras.layers.Lambda(lambda x: x * 2)(inp))
    evil.save(folder / "member_0.keras")
    _rewrite_checksums(folder)
    with pytest.raises(PersistenceError, match="member_0.keras"):
        fk.load(folder)


# ----------------------------------------------------------------------------- baselines


@pytest.fixture(scope="module")
def monthly_df():
    from forecastkit.datasets import make_trend_seasonal

    return make_trend_seasonal(n_series=3, length=(30, 48), season_length=12, seed=4, freq="MS")


@pytest.mark.parametrize(
    "make",
    [
        lambda: fk.baselines.Naive(horizon=6),
        lambda: fk.baselines.SeasonalNaive(season_length=12, horizon=6),
        lambda: fk.baselines.Naive2(season_length=12, horizon=6),
        lambda: fk.baselines.Theta(season_length=12, horizon=6, n_jobs=1),
    ],
    ids=["Naive", "SeasonalNaive", "Naive2", "Theta"],
)
def test_baseline_round_trip(make, monthly_df, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = make().fit(monthly_df)
    f.save(tmp_path / "est")
    g = fk.load(tmp_path / "est")
    assert type(g) is type(f) and g.get_params() == f.get_params()
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
    np.testing.assert_array_equal(g.predict_array(3), f.predict_array(3))
    # Nothing in the folder needs pickle to read.
    with np.load(tmp_path / "est" / "state.npz", allow_pickle=False) as state:
        np.testing.assert_array_equal(state["forecasts"], f.forecasts_)


def test_series_input_round_trip_keeps_the_index(tmp_path):
    idx = pd.period_range("2001-01", periods=40, freq="M")
    y = pd.Series(np.arange(40.0) + 5, index=idx, name="sales")
    f = fk.baselines.Naive(horizon=3).fit(y)
    g = fk.load(f.save(tmp_path / "est"))
    pd.testing.assert_series_equal(g.predict(), f.predict(), check_exact=True)


# ----------------------------------------------------------------------------- bad folders


@pytest.fixture
def saved(monthly_df, tmp_path):
    return fk.baselines.Naive(horizon=4).fit(monthly_df).save(tmp_path / "est")


def _rewrite_checksums(folder, **changes):
    """Forge a consistent save: recompute every file checksum and re-seal the manifest (what
    an attacker who edits files could do; the checks after the checksums must still hold)."""
    from forecastkit._io import seal, sha256_of

    manifest = json.loads((folder / "forecastkit.json").read_text())
    manifest["files"] = {f: sha256_of(folder / f) for f in manifest["files"]}
    manifest.update(changes)
    (folder / "forecastkit.json").write_text(seal(manifest))


def test_missing_folder(tmp_path):
    with pytest.raises(PersistenceError, match="not a folder"):
        fk.load(tmp_path / "nothing")


def test_foreign_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(PersistenceError, match="not a saved forecastkit estimator"):
        fk.load(tmp_path)
    (tmp_path / "forecastkit.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(PersistenceError, match="not a forecastkit estimator manifest"):
        fk.load(tmp_path)


def test_manifest_not_json(saved):
    (saved / "forecastkit.json").write_text("{not json")
    with pytest.raises(PersistenceError, match="not valid JSON"):
        fk.load(saved)


def test_corrupted_array_file(saved):
    data = bytearray((saved / "panel.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (saved / "panel.npz").write_bytes(bytes(data))
    with pytest.raises(PersistenceError, match="corrupted"):
        fk.load(saved)


def test_missing_file(saved):
    (saved / "state.npz").unlink()
    with pytest.raises(PersistenceError, match="state.npz is missing"):
        fk.load(saved)


def test_pickled_array_is_refused(saved):
    # A state file with an object array (loading it would need pickle) is refused even when
    # its checksum is right.
    np.savez(saved / "state.npz", forecasts=np.array([{"a": 1}], dtype=object),
             fallback=np.zeros(3, bool), scales=np.ones((3, 4)))
    _rewrite_checksums(saved)
    with pytest.raises(PersistenceError, match="cannot be read"):
        fk.load(saved)


def test_foreign_class_is_refused(saved):
    for cls in ("os.system", "forecastkit.data.frames.Panel", "forecastkit.nope.Thing",
                "forecastkit.forecasters.nope.Thing", "forecastkit.forecasters.base.clone"):
        _rewrite_checksums(saved, **{"class": cls})
        with pytest.raises(PersistenceError, match="refusing|does not exist|not a forecastkit"):
            fk.load(saved)


def test_interrupted_save_does_not_load(saved, monthly_df):
    # A folder without its manifest (written last) does not load.
    (saved / "forecastkit.json").unlink()
    with pytest.raises(PersistenceError, match="interrupted"):
        fk.load(saved)
    shutil.rmtree(saved)


def test_unfitted_and_unsaveable(tmp_path):
    with pytest.raises(PersistenceError, match="unfitted"):
        fk.baselines.Naive().save(tmp_path / "a")
    with pytest.raises(PersistenceError, match="unfitted"):
        fk.RNNForecaster().save(tmp_path / "b")
