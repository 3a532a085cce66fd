"""Save a fitted forecaster to a folder and load it back, without pickle.

A saved folder holds::

    forecastkit.json    format marker, class, parameters, fitted flags, file checksums
    panel.npz           the training panel (ids in the JSON; values, offsets, time stamps here)
    state.npz           fitted arrays of a baseline (its ``get_fitted_state()``)
    member_<i>.keras    each trained network of an RNNForecaster (Keras' own format)

Nothing is pickled: arrays are read with ``np.load(allow_pickle=False)``, networks with
``keras.saving.load_model(safe_mode=True)`` (which refuses Lambda layers and arbitrary code), and
the class to rebuild must be a forecastkit forecaster. The serving model of an RNNForecaster is
not stored; it is rebuilt from the loaded members with the same builder ``fit`` used, so the
loaded forecaster predicts bit-identically. ``forecastkit.json`` is written last and lists a
SHA-256 of every other file, so an interrupted save or a corrupted file gives a
:class:`~forecastkit.exceptions.PersistenceError` at load time, never a wrong model.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from dataclasses import replace
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from forecastkit.exceptions import PersistenceError

__all__ = ["save", "load", "jsonable_params", "MANIFEST"]

MANIFEST = "forecastkit.json"
_FORMAT = "forecastkit.estimator"
_FORMAT_VERSION = 1
# Fitted attributes that are not stored as JSON: files of their own, or rebuilt on load.
_REBUILT = frozenset({"members_", "model_", "panel_"})


# --------------------------------------------------------------------------- save


def save(forecaster, path) -> Path:
    """Save a fitted forecaster to the folder ``path`` (created if needed).

    Parameters
    ----------
    forecaster : BaseForecaster
        A fitted RNNForecaster, or a baseline with ``get_fitted_state``/``set_fitted_state``.
    path : str or os.PathLike
        Folder to write; files of an earlier save there are replaced.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    PersistenceError
        The forecaster is not fitted, or is of a kind that cannot be saved.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from forecastkit.forecasters.rnn import RNNForecaster

    name = type(forecaster).__name__
    try:
        check_is_fitted(forecaster)
    except NotFittedError:
        raise PersistenceError(f"cannot save an unfitted {name}; call fit first") from None
    saveable = isinstance(forecaster, RNNForecaster) or (
        hasattr(forecaster, "get_fitted_state") and hasattr(forecaster, "set_fitted_state")
    )
    if not saveable:
        # Checked before anything is written, so a failed save leaves no partial folder.
        raise PersistenceError(
            f"{name} cannot be saved with save() yet (it has no get_fitted_state/"
            f"set_fitted_state); pickle or joblib.dump the fitted object instead"
        )
    folder = Path(os.fspath(path))
    folder.mkdir(parents=True, exist_ok=True)
    # Remove the old manifest first: until the new one is written the folder does not load.
    (folder / MANIFEST).unlink(missing_ok=True)
    ids, panel_meta = _save_panel(forecaster.panel_, folder / "panel.npz")
    files = ["panel.npz"]
    manifest: dict[str, Any] = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "forecastkit_version": _version(),
        "class": f"{type(forecaster).__module__}.{type(forecaster).__qualname__}",
        "params": jsonable_params(forecaster.get_params(deep=False)),
        "panel": {**panel_meta, "ids": ids},
        "files": files,
    }
    if isinstance(forecaster, RNNForecaster):
        manifest["rnn"] = _save_rnn(forecaster, folder, files)
    elif hasattr(forecaster, "get_fitted_state") and hasattr(forecaster, "set_fitted_state"):
        manifest["state"] = _save_state(forecaster.get_fitted_state(), folder / "state.npz")
        files.append("state.npz")
    else:
        raise PersistenceError(
            f"{name} has no get_fitted_state/set_fitted_state; it cannot be saved yet"
        )
    manifest["sha256"] = {f: _sha256(folder / f) for f in files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return folder


def _save_rnn(f, folder: Path, files: list[str]) -> dict:
    """Members as ``.keras`` files; every other fitted attribute (flags, lookbacks, normaliser
    settings, training history) as JSON. The serving model is rebuilt at load time."""
    members = []
    for i, member in enumerate(f.members_):
        fname = f"member_{i}.keras"
        member.save(folder / fname)
        files.append(fname)
        members.append(fname)
    fitted = {}
    for key, value in vars(f).items():
        if not key.endswith("_") or key.startswith("_") or key in _REBUILT:
            continue
        try:
            fitted[key] = _plain(value)
        except TypeError:
            raise PersistenceError(
                f"fitted attribute {key} of {type(f).__name__} ({type(value).__name__}) has no "
                f"JSON form; it cannot be saved"
            ) from None
    return {"members": members, "fitted": fitted}


def _save_state(state: dict, file: Path) -> dict:
    """Arrays go to ``file``; strings and scalars stay in the manifest."""
    arrays, scalars = {}, {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise PersistenceError(f"fitted state {key!r} is an object array; cannot save it")
            arrays[key] = value
        else:
            scalars[key] = _plain(value)
    np.savez(file, **arrays)  # type: ignore[arg-type]
    return {"arrays": sorted(arrays), "values": scalars}


def _save_panel(panel, file: Path) -> tuple[list, dict]:
    np.savez(
        file,
        indptr=np.asarray(panel.indptr, dtype=np.int64),
        values=np.asarray(panel.values, dtype=np.float64),
        times=np.asarray(panel.times),
    )
    ids = [_plain_id(v) for v in panel.ids]
    meta = {
        "index_kind": panel.index_kind,
        "freq": panel.freq.freqstr if panel.freq is not None else None,
        "step": int(panel.step),
        "input_kind": panel.input_kind,
        "id_col": panel.id_col,
        "time_col": panel.time_col,
        "target_col": panel.target_col,
        "name": _plain_id(panel.name) if panel.name is not None else None,
        "period_freq": panel.period_freq,
    }
    return ids, meta


# --------------------------------------------------------------------------- load


def load(path):
    """Load a forecaster saved with :func:`save` (or ``forecaster.save``).

    Parameters
    ----------
    path : str or os.PathLike
        The folder written by ``save``.

    Returns
    -------
    BaseForecaster
        The fitted forecaster; ``predict()`` gives what the saved one gave.

    Raises
    ------
    PersistenceError
        The folder is missing, not a forecastkit folder, incomplete or corrupted.
    """
    folder = Path(os.fspath(path))
    if not folder.is_dir():
        raise PersistenceError(f"{folder} is not a folder; nothing to load")
    manifest = _read_manifest(folder)
    cls = _forecaster_class(manifest["class"])
    for fname in manifest["files"]:
        file = folder / fname
        if not file.is_file():
            raise PersistenceError(f"{folder} is incomplete: {fname} is missing")
        if _sha256(file) != manifest.get("sha256", {}).get(fname):
            raise PersistenceError(f"{file} is corrupted (its checksum does not match the save)")
    try:
        forecaster = cls(**_restore_params(cls, manifest["params"]))
        panel = _load_panel(folder / "panel.npz", manifest["panel"])
    except PersistenceError:
        raise
    except Exception as err:
        raise PersistenceError(f"{folder}: cannot rebuild the forecaster ({err})") from err
    if "rnn" in manifest:
        _load_rnn(forecaster, folder, manifest["rnn"])
    else:
        state = _load_state(folder / "state.npz", manifest.get("state"))
        forecaster.set_fitted_state(state, panel)
    forecaster.panel_ = panel
    forecaster.n_series_ = panel.n_series
    return forecaster


def _read_manifest(folder: Path) -> dict:
    file = folder / MANIFEST
    if not file.is_file():
        raise PersistenceError(
            f"{folder} is not a saved forecastkit estimator (no {MANIFEST}; the save may have "
            f"been interrupted)"
        )
    try:
        manifest = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PersistenceError(f"{file} is corrupted: not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise PersistenceError(f"{file} is not a forecastkit estimator manifest")
    if manifest.get("format_version") != _FORMAT_VERSION:
        raise PersistenceError(
            f"{file} has format version {manifest.get('format_version')!r}; this forecastkit "
            f"({_version()}) reads version {_FORMAT_VERSION}"
        )
    missing = [k for k in ("class", "params", "panel", "files") if k not in manifest]
    if missing:
        raise PersistenceError(f"{file} is corrupted: missing {missing}")
    return manifest


def _forecaster_class(qualname: str):
    """The forecaster class named in a manifest; only forecastkit's own forecasters."""
    from forecastkit.forecasters.base import BaseForecaster

    module_name, _, attr = str(qualname).rpartition(".")
    if module_name != "forecastkit" and not module_name.startswith("forecastkit."):
        raise PersistenceError(f"refusing to load class {qualname!r}: not a forecastkit class")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise PersistenceError(f"class {qualname!r} does not exist in this forecastkit") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseForecaster)):
        raise PersistenceError(f"{qualname!r} is not a forecastkit forecaster")
    return cls


def _restore_params(cls, params: dict) -> dict:
    # JSON has no tuples; the forecasters take tuples for units and lookback ensembles.
    out = {}
    for key, value in params.items():
        out[key] = tuple(value) if isinstance(value, list) else value
    return out


def _load_panel(file: Path, meta: dict):
    import pandas as pd

    from forecastkit.data.frames import Panel

    arrays = _load_npz(file, ("indptr", "values", "times"))
    ids = np.empty(len(meta["ids"]), dtype=object)
    ids[:] = [tuple(v) if isinstance(v, list) else v for v in meta["ids"]]
    if len(ids) + 1 != len(arrays["indptr"]) or arrays["indptr"][-1] != len(arrays["values"]):
        raise PersistenceError(f"{file} does not match the series ids of the manifest")
    freq = pd.tseries.frequencies.to_offset(meta["freq"]) if meta.get("freq") else None
    panel = Panel(
        ids=ids,
        indptr=arrays["indptr"],
        values=arrays["values"],
        times=arrays["times"],
        freq=freq,
    )
    keep = ("index_kind", "step", "input_kind", "id_col", "time_col", "target_col", "name",
            "period_freq")
    return replace(panel, **{k: meta[k] for k in keep if k in meta})


def _load_state(file: Path, meta: dict | None) -> dict:
    if meta is None:
        raise PersistenceError(f"{file.parent}: the manifest holds no fitted state")
    state = _load_npz(file, tuple(meta["arrays"]))
    state.update(meta.get("values", {}))
    return state


def _load_npz(file: Path, keys: tuple[str, ...]) -> dict:
    try:
        with np.load(file, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise PersistenceError(f"{file} is corrupted: arrays {missing} are missing")
            return {k: data[k] for k in keys}
    except PersistenceError:
        raise
    except Exception as err:  # zip, header or pickle-refused errors
        raise PersistenceError(f"{file} cannot be read ({type(err).__name__}: {err})") from None


def _load_rnn(f, folder: Path, state: dict) -> None:
    import keras

    # Importing the network module registers forecastkit's layers for safe-mode loading.
    import forecastkit.forecasters._network  # noqa: F401

    members = []
    for fname in state["members"]:
        try:
            members.append(keras.saving.load_model(folder / fname, compile=False, safe_mode=True))
        except Exception as err:
            raise PersistenceError(
                f"{folder / fname} cannot be loaded as a Keras model ({type(err).__name__}: "
                f"{err})"
            ) from None
    for key, value in state["fitted"].items():
        setattr(f, key, value)
    f.members_ = members
    if len(getattr(f, "lookbacks_", ())) != len(members):
        raise PersistenceError(f"{folder}: the saved members do not match the saved lookbacks")
    try:
        f.model_ = f._serving_model(f.horizon)
    except Exception as err:
        raise PersistenceError(
            f"{folder}: cannot rebuild the serving model from the saved members ({err})"
        ) from err


# --------------------------------------------------------------------------- JSON helpers


def jsonable_params(params: dict) -> dict:
    """``get_params()`` as JSON values (tuples become lists; numpy scalars become Python).

    Raises
    ------
    PersistenceError
        A parameter has no JSON form (e.g. a ``np.random.RandomState``; pass an int seed).
    """
    out = {}
    for key, value in params.items():
        try:
            out[key] = _plain(value)
        except TypeError:
            raise PersistenceError(
                f"parameter {key}={value!r} has no JSON form; use plain numbers, strings, "
                f"booleans or tuples of them (an int random_state rather than a RandomState)"
            ) from None
    return out


def _plain(value):
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _plain_id(value):
    try:
        return _plain(value)
    except TypeError:
        raise PersistenceError(
            f"series id {value!r} ({type(value).__name__}) cannot be saved; use strings or "
            f"integers as series ids"
        ) from None


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _version() -> str:
    import forecastkit

    return forecastkit.__version__
