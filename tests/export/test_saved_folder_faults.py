"""Fault injection on saved forecaster folders: every damaged, forged or swapped file is a
PersistenceError at load time, never a model that forecasts something else (issue 16, items 5-7).

=====================  ==================================================  ===================
fault                  files                                               outcome
=====================  ==================================================  ===================
truncate to half       every file (manifest, panel, state, members)        PersistenceError
empty                  every file                                          PersistenceError
flip one byte          every file                                          PersistenceError
edit a number          forecastkit.json (a parameter, a series id, the      PersistenceError
                       frequency), panel.json (a series id)
swap two files         panel.npz <-> state.npz; member_0 <-> member_1      PersistenceError
                       of an RNN ensemble
forge a path           a member file named ``../x`` or absolute, with       PersistenceError
                       re-sealed checksums
forge an attribute     an undeclared fitted attribute, re-sealed            PersistenceError
failing save           into a folder holding a good save                   good save kept
=====================  ==================================================  ===================
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import forecastkit as fk
from forecastkit.exceptions import PersistenceError


@pytest.fixture(scope="module")
def panel():
    return fk.datasets.make_trend_seasonal(n_series=4, length=40, season_length=12, seed=0)


@pytest.fixture(scope="module")
def saved_theta(panel, tmp_path_factory):
    return fk.baselines.Theta(season_length=12, horizon=4).fit(panel).save(
        tmp_path_factory.mktemp("theta") / "est")


@pytest.fixture(scope="module")
def saved_rnn(panel, tmp_path_factory):
    f = fk.RNNForecaster(horizon=4, units=(4,), lookback=8, epochs=1, n_models=2,
                         random_state=0).fit(panel)
    return f.save(tmp_path_factory.mktemp("rnn") / "est")


def _copy(folder, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def _files(folder):
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def _reseal(folder, edit):
    """Apply ``edit`` to the manifest and forge consistent checksums (an attacker's move)."""
    from forecastkit._io import seal, sha256_of

    manifest = json.loads((folder / "forecastkit.json").read_text())
    edit(manifest)
    manifest["files"] = {f: sha256_of(folder / f) for f in manifest["files"]
                         if (folder / f).is_file()}
    (folder / "forecastkit.json").write_text(seal(manifest))


@pytest.mark.parametrize("fault", ["truncate", "empty", "flip"])
@pytest.mark.parametrize("which", ["saved_theta", "saved_rnn"])
def test_damaged_files_are_detected(request, which, fault, tmp_path):
    source = request.getfixturevalue(which)
    for name in _files(source):
        folder = _copy(source, tmp_path / f"{name}-{fault}")
        data = (folder / name).read_bytes()
        if fault == "truncate":
            data = data[: len(data) // 2]
        elif fault == "empty":
            data = b""
        else:
            data = bytearray(data)
            data[len(data) // 3] ^= 0x01
            data = bytes(data)
        (folder / name).write_bytes(data)
        with pytest.raises(PersistenceError):
            fk.load(folder)


@pytest.mark.parametrize("path,old,new", [
    (("params", "horizon"), 4, 5),
    (("params", "season_length"), 12, 4),
])
def test_edited_manifest_numbers_are_detected(saved_theta, tmp_path, path, old, new):
    folder = _copy(saved_theta, tmp_path)
    text = (folder / "forecastkit.json").read_text()
    manifest = json.loads(text)
    assert manifest[path[0]][path[1]] == old
    manifest[path[0]][path[1]] = new
    (folder / "forecastkit.json").write_text(json.dumps(manifest, indent=2))
    with pytest.raises(PersistenceError, match="changed after it was written"):
        fk.load(folder)


def test_swapped_series_ids_are_detected(saved_theta, tmp_path):
    folder = _copy(saved_theta, tmp_path)
    stored = json.loads((folder / "panel.json").read_text())
    stored["ids"] = stored["ids"][::-1]
    (folder / "panel.json").write_text(json.dumps(stored))
    with pytest.raises(PersistenceError, match="corrupted"):
        fk.load(folder)


def test_swapped_files_are_detected(saved_theta, saved_rnn, tmp_path):
    for source, (a, b) in ((saved_theta, ("panel.npz", "state.npz")),
                           (saved_rnn, ("member_0.keras", "member_1.keras"))):
        folder = _copy(source, tmp_path / a)
        tmp = folder / "tmp"
        (folder / a).rename(tmp)
        (folder / b).rename(folder / a)
        tmp.rename(folder / b)
        with pytest.raises(PersistenceError):
            fk.load(folder)


@pytest.mark.parametrize("forged", ["../member_0.keras", "/etc/passwd", "sub/member_0.keras"])
def test_member_paths_outside_the_folder_are_refused(saved_rnn, tmp_path, forged):
    folder = _copy(saved_rnn, tmp_path)

    def edit(manifest):
        manifest["state"]["members"][0] = forged
        manifest["files"][forged] = "0" * 64

    _reseal(folder, edit)
    with pytest.raises(PersistenceError, match="plain file name"):
        fk.load(folder)


def test_undeclared_fitted_attributes_are_refused(saved_rnn, tmp_path):
    folder = _copy(saved_rnn, tmp_path)
    _reseal(folder, lambda m: m["state"]["fitted"].update({"predict": "boom"}))
    with pytest.raises(PersistenceError, match="fitted attributes"):
        fk.load(folder)


def test_a_failing_save_keeps_the_good_one(panel, saved_theta, tmp_path, monkeypatch):
    folder = _copy(saved_theta, tmp_path)
    before = fk.load(folder).predict_array()
    g = fk.baselines.Theta(season_length=12, horizon=4).fit(panel.assign(y=panel["y"] * 2))

    def broken(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(type(g), "_save_state", broken)
    with pytest.raises(PersistenceError, match="disk full"):
        g.save(folder)
    np.testing.assert_array_equal(fk.load(folder).predict_array(), before)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
