"""Combination and ValidatedCombination save and load: members as nested checked folders, the
choice and its scores restored, predict bit-identical, damaged member folders refused.

Damage cases (each must be a PersistenceError, never a wrong model):

=====================================  ===============================================
case                                   caught by
=====================================  ===============================================
member folder deleted                  parent lists it: "folder member_1 is missing"
member's array file edited             member manifest's checksum of that file
member's manifest edited               parent manifest's checksum of it
two member folders swapped             parent's checksums of the member manifests
member folder named ``../x`` (forged)  plain names only
unknown class in the estimators        only forecastkit forecaster classes
the choice not among the candidates    checked against the candidates on load
=====================================  ===============================================
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.exceptions import PersistenceError
from forecastkit.forecasters.combination import Combination
from forecastkit.forecasters.validated import ValidatedCombination

H = 6
B = fk.baselines


@pytest.fixture(scope="module")
def panel():
    return fk.datasets.make_trend_seasonal(n_series=4, length=(40, 60), season_length=12,
                                           seed=1, freq="MS")


def _members():
    inner = Combination([("drift", B.Drift(horizon=H)), ("mean", B.Mean(horizon=H))],
                        weights=[2.0, 1.0], horizon=H)
    return [("naive", B.Naive(horizon=H)),
            ("theta", B.Theta(season_length=12, horizon=H, n_jobs=1)),
            ("inner", inner)]


def _fit(f, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f.fit(df)


def _params(f):
    """Parameters with member forecasters written as (class, parameters), recursively."""
    out = {}
    for key, value in f.get_params(deep=False).items():
        if key == "estimators":
            value = [(n, type(e).__name__, _params(e)) for n, e in value]
        out[key] = value
    return out


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("make", [
    lambda: Combination(_members()),
    lambda: Combination(_members(), combine="median"),
    lambda: ValidatedCombination(_members(), n_windows=2),
    lambda: ValidatedCombination(_members(), candidates=[["theta", "inner"], "naive"],
                                 refit=False),
], ids=["mean", "median", "validated", "validated-norefit"])
def test_round_trip_predicts_identically(make, panel, tmp_path):
    f = _fit(make(), panel)
    folder = f.save(tmp_path / "est")
    # No pickle anywhere: every array file opens with allow_pickle=False.
    for file in folder.rglob("*.npz"):
        with np.load(file, allow_pickle=False) as data:
            [data[k] for k in data.files]
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]
    g = fk.load(folder)
    assert type(g) is type(f) and _params(g) == _params(f)
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
    np.testing.assert_array_equal(g.predict_array(3), f.predict_array(3))
    new = fk.datasets.make_trend_seasonal(n_series=2, length=50, season_length=12, seed=9,
                                          freq="MS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(g.predict_array(y=new), f.predict_array(y=new))
    if isinstance(f, ValidatedCombination):
        pd.testing.assert_frame_equal(g.scores_, f.scores_, check_exact=True)
        pd.testing.assert_series_equal(g.mean_scores_, f.mean_scores_, check_exact=True)
        assert g.selected_ == f.selected_ and g.left_out_ == f.left_out_
        assert hasattr(g, "members_") == hasattr(f, "members_")
    # The round trip is stable: saving the loaded one writes the same files.
    assert _files(g.save(tmp_path / "again")) == _files(folder)


def test_members_are_nested_checked_folders(panel, tmp_path):
    f = _fit(Combination(_members()), panel)
    folder = f.save(tmp_path / "est")
    manifest = json.loads((folder / "forecastkit.json").read_text())
    entries = manifest["state"]["members"]
    assert [e["name"] for e in entries] == ["naive", "theta", "inner"]
    assert [e["folder"] for e in entries] == ["member_0", "member_1", "member_2"]
    # The nested combination keeps its own members one level down.
    inner = json.loads((folder / "member_2" / "forecastkit.json").read_text())
    assert inner["class"].endswith("combination.Combination")
    assert (folder / "member_2" / "member_1" / "state.npz").is_file()
    # Its fitted members are its own (restored from the nested folders).
    g = fk.load(folder)
    np.testing.assert_array_equal(g.estimators_[2][1].estimators_[0][1].forecasts_,
                                  f.estimators_[2][1].estimators_[0][1].forecasts_)


# ----------------------------------------------------------------------------- damaged folders


@pytest.fixture
def saved(panel, tmp_path):
    return _fit(Combination(_members()), panel).save(tmp_path / "est")


def _reseal(folder, edit):
    """Forge a consistent parent manifest after ``edit(manifest)`` (what an attacker who
    rewrites the manifest could do; the checks beyond the checksums must still hold)."""
    from forecastkit._io import seal

    file = folder / "forecastkit.json"
    manifest = json.loads(file.read_text())
    edit(manifest)
    file.write_text(seal({k: v for k, v in manifest.items() if k != "manifest_sha256"}))


def test_deleted_member_folder(saved):
    shutil.rmtree(saved / "member_1")
    with pytest.raises(PersistenceError, match="member_1 is missing"):
        fk.load(saved)


def test_edited_member_file(saved):
    file = saved / "member_1" / "state.npz"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(PersistenceError, match="corrupted"):
        fk.load(saved)


def test_edited_member_manifest(saved):
    file = saved / "member_0" / "forecastkit.json"
    file.write_text(file.read_text().replace('"horizon": 6', '"horizon": 7'))
    with pytest.raises(PersistenceError, match="does not match the save"):
        fk.load(saved)


def test_swapped_member_folders(saved):
    (saved / "member_0").rename(saved / "tmp")
    (saved / "member_1").rename(saved / "member_0")
    (saved / "tmp").rename(saved / "member_1")
    with pytest.raises(PersistenceError, match="does not match the save"):
        fk.load(saved)


def test_forged_member_folder_outside(saved, tmp_path):
    shutil.copytree(saved / "member_0", tmp_path / "outside")

    def edit(manifest):
        manifest["state"]["members"][0]["folder"] = "../outside"

    _reseal(saved, edit)
    with pytest.raises(PersistenceError, match="not a plain file name"):
        fk.load(saved)


def test_forged_estimator_class(saved):
    def edit(manifest):
        manifest["params"]["estimators"][0]["class"] = "os.system"

    _reseal(saved, edit)
    with pytest.raises(PersistenceError, match="refusing"):
        fk.load(saved)


def test_forged_choice(panel, tmp_path):
    folder = _fit(ValidatedCombination(_members()), panel).save(tmp_path / "vc")

    def edit(manifest):
        manifest["state"]["selected"] = ["theta", "naive", "inner"]

    _reseal(folder, edit)
    with pytest.raises(PersistenceError, match="not one of the candidates"):
        fk.load(folder)


def test_unsaveable_member_is_named_before_anything_is_written(panel, tmp_path):
    class Foreign:
        horizon = H

        def fit(self, y):
            return self

        def predict_array(self, horizon, y=None):
            return np.zeros((4, horizon))

    f = Combination([("naive", B.Naive(horizon=H)), ("foreign", Foreign())])
    f.estimators_ = [("naive", B.Naive(horizon=H).fit(panel)), ("foreign", Foreign())]
    f.panel_ = f.estimators_[0][1].panel_
    with pytest.raises(PersistenceError, match="member 'foreign'"):
        f.save(tmp_path / "est")
    assert not (tmp_path / "est").exists()



@pytest.mark.slow
def test_lstm_validated_round_trip(lstm_validated, tmp_path):
    """The recommended configuration (a network and two classical partners) round trips."""
    f = lstm_validated.forecaster
    g = fk.load(f.save(tmp_path / "est"))
    pd.testing.assert_frame_equal(g.predict(), f.predict(), check_exact=True)
    pd.testing.assert_frame_equal(g.scores_, f.scores_, check_exact=True)
    assert g.selected_ == f.selected_
    np.testing.assert_array_equal(g.predict_array(y=lstm_validated.query),
                                  f.predict_array(y=lstm_validated.query))
    assert any(p.endswith(".keras") for p in _files(tmp_path / "est"))  # Keras' own format
