"""The folder a fitted forecaster saves itself to, and how it is read back (no pickle).

A saved folder holds::

    forecastkit.json    format marker, class, parameters, fitted state, file checksums, and a
                        checksum of its own content
    panel.npz           the training panel's offsets, values and time stamps
    panel.json          its series ids and how its time stamps were given
    ...                 whatever the forecaster's ``_save_state`` hook writes (arrays, Keras
                        members, or one sub-folder per member of a combination)

Each forecaster class decides what its state is through two hooks of
:class:`~forecastkit.forecasters.base.BaseForecaster`: ``_save_state(folder) -> dict`` and
``_load_state(folder, state, panel)``; this module writes the common parts, checks every file on
the way back (:class:`forecastkit._io.CheckedFolder`) and only ever instantiates forecastkit's own
forecaster classes. Parameters with no JSON form are saved by a class' ``_saved_params`` hook (a
combination saves its members as nested folders).
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any

import numpy as np

from forecastkit._io import CheckedFolder, atomic_folder, plain, seal, sha256_of, unseal
from forecastkit.data.panel import Panel
from forecastkit.exceptions import ForecastkitError, PersistenceError

__all__ = ["MANIFEST", "SavingMixin", "save_forecaster", "load_forecaster", "save_nested",
           "load_nested", "jsonable_params"]

MANIFEST = "forecastkit.json"
_FORMAT = "forecastkit estimator"
_FORMAT_VERSION = 2
_PANEL_ARRAYS = ("indptr", "values", "times")


def save_forecaster(forecaster, path) -> Path:
    """Write ``forecaster`` to the folder ``path``, replacing it only once complete."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    name = type(forecaster).__name__
    try:
        check_is_fitted(forecaster)
    except NotFittedError:
        raise PersistenceError(f"cannot save an unfitted {name}; call fit first") from None
    forecaster._check_saveable()
    target = Path(path)
    try:
        with atomic_folder(target) as tmp:
            folder = CheckedFolder(tmp)
            manifest = _write(forecaster, folder)
            (tmp / MANIFEST).write_text(seal(manifest))
    except OSError as err:  # disk full, permissions...: the earlier save is still in place
        raise PersistenceError(f"cannot save {name} to {target}: {err}") from err
    return target


def _write(forecaster, folder: CheckedFolder) -> dict:
    panel_meta = _write_panel(forecaster.panel_, folder)
    state = forecaster._save_state(folder)
    return {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "forecastkit_version": _version(),
        "class": f"{type(forecaster).__module__}.{type(forecaster).__qualname__}",
        "params": forecaster._saved_params(folder),
        "panel": panel_meta,
        "state": plain(state),
        "files": dict(folder.checksums),
    }


def save_nested(forecaster, folder: CheckedFolder, name: str) -> dict:
    """Save a member forecaster in the sub-folder ``name``; returns the entry that lists it
    (its name and the checksum of its manifest, which checksums its own files)."""
    sub = folder.subfolder(name)
    (sub.path / MANIFEST).write_text(seal(_write(forecaster, sub)))
    return {"folder": name, "sha256": sha256_of(sub.path / MANIFEST)}


def load_forecaster(path):
    """Read a folder written by :func:`save_forecaster`; see :func:`forecastkit.load`."""
    folder = Path(path)
    if not folder.is_dir():
        raise PersistenceError(f"{folder} is not a folder; nothing to load")
    if not (folder / MANIFEST).is_file():
        raise PersistenceError(
            f"{folder} is not a saved forecastkit estimator (no {MANIFEST}; the save may have "
            f"been interrupted)"
        )
    return _read(folder, unseal(folder / MANIFEST, _FORMAT))


def load_nested(folder: CheckedFolder, entry: dict):
    """Read a member saved by :func:`save_nested`, checking its manifest's checksum."""
    sub = folder.nested(str(entry.get("folder")))
    file = sub / MANIFEST
    if not file.is_file() or sha256_of(file) != entry.get("sha256"):
        raise PersistenceError(f"{file} is missing or does not match the save")
    return _read(sub, unseal(file, _FORMAT))


def _read(path: Path, manifest: dict):
    file = path / MANIFEST
    if manifest.get("format_version") != _FORMAT_VERSION:
        raise PersistenceError(
            f"{file} has format version {manifest.get('format_version')!r}; this forecastkit "
            f"({_version()}) reads version {_FORMAT_VERSION}: fit and save the model again"
        )
    missing = [k for k in ("class", "params", "panel", "state", "files") if k not in manifest]
    if missing:
        raise PersistenceError(f"{file} is corrupted: missing {missing}")
    cls = forecaster_class(manifest["class"])
    folder = CheckedFolder(path, manifest["files"])
    try:
        forecaster = cls._from_saved_params(manifest["params"], folder)
    except PersistenceError:
        raise
    except Exception as err:
        raise PersistenceError(f"{path}: cannot rebuild the forecaster ({err})") from err
    panel = _read_panel(folder, manifest["panel"])
    forecaster._load_state(folder, manifest["state"], panel)
    if forecaster.supports_covariates:
        forecaster.covariate_spec_ = None if panel.covariates is None else \
            panel.covariates.spec
    forecaster.panel_ = panel
    forecaster.n_series_ = panel.n_series
    return forecaster


def forecaster_class(qualname: str):
    """The forecaster class named in a manifest; only forecastkit's own forecasters."""
    from sklearn.base import BaseEstimator

    module_name, _, attr = str(qualname).rpartition(".")
    if not module_name.startswith("forecastkit.forecasters"):
        raise PersistenceError(f"refusing to load class {qualname!r}: not a forecastkit class")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        raise PersistenceError(f"class {qualname!r} does not exist in this forecastkit") from None
    # BaseForecaster's hooks, looked up rather than imported (base.py imports this module).
    hooks = ("_from_saved_params", "_load_state", "_save_state")
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)
            and all(hasattr(cls, h) for h in hooks)):
        raise PersistenceError(f"{qualname!r} is not a forecastkit forecaster")
    return cls


class SavingMixin:
    """``save`` and the hooks a forecaster saves and restores itself through (mixed into
    :class:`~forecastkit.forecasters.base.BaseForecaster`)."""

    # Provided by scikit-learn's BaseEstimator and by the classes that keep a fitted state.
    get_params: Any
    get_fitted_state: Any
    set_fitted_state: Any

    def save(self, path):
        """Save the fitted forecaster to the folder ``path``; ``fk.load(path)`` restores it.

        Nothing is pickled and every file is checksummed (see
        :mod:`forecastkit.forecasters._saving`). The folder is written beside ``path`` and put
        in place only when complete, so a failing save leaves an earlier save there intact.

        Returns
        -------
        pathlib.Path
            The folder.

        Raises
        ------
        PersistenceError
            The forecaster is not fitted, cannot be saved, or the folder cannot be written.
        """
        return save_forecaster(self, path)

    def _check_saveable(self) -> None:
        """Raise PersistenceError, before anything is written, if this cannot be saved."""
        if not (hasattr(self, "get_fitted_state") and hasattr(self, "set_fitted_state")):
            raise PersistenceError(
                f"{type(self).__name__} cannot be saved: it has no _save_state/_load_state "
                f"(or get_fitted_state/set_fitted_state)"
            )

    def _saved_params(self, folder) -> dict:
        """The constructor's parameters as JSON (a class with non-JSON parameters overrides
        this and :meth:`_from_saved_params`)."""
        return jsonable_params(self.get_params(deep=False))

    @classmethod
    def _from_saved_params(cls, params: dict, folder):
        """An unfitted instance with the saved parameters."""
        return cls(**restore_params(params))

    def _save_state(self, folder) -> dict:
        """Write the fitted state into ``folder`` (a :class:`forecastkit._io.CheckedFolder`);
        return what the manifest must hold to read it back (JSON values). The default stores
        ``get_fitted_state()``: arrays in ``state.npz``, everything else in the manifest."""
        state = self.get_fitted_state()
        arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
        folder.write_arrays("state.npz", arrays)
        values = {k: v for k, v in state.items() if k not in arrays}
        return {"arrays": sorted(arrays), "values": values}

    def _load_state(self, folder, state: dict, panel: Panel) -> None:
        """Restore what :meth:`_save_state` wrote (``panel``: the training panel)."""
        arrays = folder.read_arrays("state.npz", state["arrays"])
        try:
            self.set_fitted_state({**arrays, **state["values"]}, panel)
        except ForecastkitError as err:
            raise PersistenceError(
                f"{folder.path}: the stored state does not fit ({err})"
            ) from None



# --------------------------------------------------------------------------- the panel


def _write_panel(panel: Panel, folder: CheckedFolder) -> dict:
    folder.write_arrays("panel.npz", {
        "indptr": np.asarray(panel.indptr, dtype=np.int64),
        "values": np.asarray(panel.values, dtype=np.float64),
        "times": np.asarray(panel.times),
    })
    meta = {}
    cov = panel.covariates
    if cov is not None:
        # The history covariates the model forecasts the training series from.
        folder.write_arrays("covariates.npz", {"past": cov.past, "static": cov.static})
    for field in dataclasses.fields(panel):
        if field.name in _PANEL_ARRAYS or field.name == "ids":
            continue
        if field.name == "covariates":
            meta["covariates"] = None if cov is None else cov.spec.to_dict()
            continue
        value = getattr(panel, field.name)
        meta[field.name] = value.freqstr if field.name == "freq" and value is not None else value
    try:
        folder.write_json("panel.json", {"ids": [plain(v) for v in panel.ids],
                                         "meta": plain(meta)})
    except TypeError:
        raise PersistenceError(
            "series ids and the series name must be strings or integers to be saved"
        ) from None
    return {"n_series": panel.n_series}


def _read_panel(folder: CheckedFolder, summary: dict) -> Panel:
    import pandas as pd

    arrays = folder.read_arrays("panel.npz", _PANEL_ARRAYS)
    stored = folder.read_json("panel.json")
    ids = np.empty(len(stored["ids"]), dtype=object)
    ids[:] = [tuple(v) if isinstance(v, list) else v for v in stored["ids"]]
    indptr = arrays["indptr"]
    if (len(ids) + 1 != len(indptr) or indptr[-1] != len(arrays["values"])
            or len(ids) != summary.get("n_series")):
        raise PersistenceError(f"{folder.path}: the stored panel is inconsistent")
    meta = dict(stored["meta"])
    known = {f.name for f in dataclasses.fields(Panel)} - set(_PANEL_ARRAYS) - {"ids"}
    if not set(meta) <= known:
        raise PersistenceError(f"{folder.path}: unknown panel fields {sorted(set(meta) - known)}")
    if meta.get("freq"):
        meta["freq"] = pd.tseries.frequencies.to_offset(meta["freq"])
    if meta.get("covariates") is not None:
        meta["covariates"] = _read_covariates(folder, meta["covariates"], len(arrays["values"]),
                                              len(ids))
    fields: dict[str, Any] = {**{k: arrays[k] for k in _PANEL_ARRAYS}, **meta}
    return Panel(ids=ids, **fields)


def _read_covariates(folder: CheckedFolder, spec: dict, n_obs: int, n_series: int):
    from forecastkit.data.covariates import Covariates, CovariateSpec

    try:
        spec_ = CovariateSpec.from_dict(spec)
    except (KeyError, TypeError, ValueError) as err:
        raise PersistenceError(f"{folder.path}: the stored covariates are corrupted ({err})"
                               ) from None
    arrays = folder.read_arrays("covariates.npz", ("past", "static"))
    past, static = arrays["past"], arrays["static"]
    if past.shape != (n_obs, len(spec_.past_names)) or \
            static.shape != (n_series, len(spec_.static_names)):
        raise PersistenceError(f"{folder.path}: the stored covariates do not fit the panel")
    return Covariates(spec_, past, None, static)


# --------------------------------------------------------------------------- parameters


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
            out[key] = plain(value)
        except TypeError:
            raise PersistenceError(
                f"parameter {key}={value!r} has no JSON form; use plain numbers, strings, "
                f"booleans or tuples of them (an int random_state rather than a RandomState)"
            ) from None
    return out


def restore_params(params: dict) -> dict:
    """JSON parameters back to what the constructors take (lists become tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def _version() -> str:
    import forecastkit

    return forecastkit.__version__
