"""An on-disk store of finished backtest units, so that an interrupted run loses nothing.

Layout of a run folder::

    out_dir/
      manifest.json                   the run's configuration and models (sealed)
      units/<key>.csv.gz              forecasts of one (model, window[, block of series]) unit
      records/<key>.json              that unit's record (sealed): what it is, its checksum

``<key>`` is ``<model>__w000`` or ``<model>__w000_s0001`` (window 0, block 1 of a local model).
A model name made only of lowercase letters, digits and ``_ . -`` (at most 64 characters) is
used as it is; any other name becomes a lowercase slug, ``+`` and 16 hex digits of the name's
SHA-256 (``"a+b"`` -> ``a_b+...``). Plain names never hold ``+`` and hashed ones always do, so
two names never share a file, even on a case-insensitive file system.

What protects a stored unit from being reused wrongly:

* Every file is written to a temporary name in its folder and moved into place with
  ``os.replace`` (atomic on POSIX and Windows): a run killed at any instant leaves the old file
  or the new one, never half of one.
* A unit counts as finished once both its file and its record exist (deleting either redoes
  it). The record is written after the unit's forecasts and holds their SHA-256, the model's
  name, window and block, the model's parameters and a checksum of the run's configuration,
  all under a checksum of its own (:func:`forecastkit._io.seal`). Loading checks all of it,
  so a unit file that was truncated, edited, emptied or swapped with another, a record moved
  to another unit's name, or a unit copied from another run is a :class:`PersistenceError`
  naming the file, never a wrong forecast.
* The manifest is sealed too: an edited configuration or model list is refused.

One record per unit, rather than a list in the manifest, keeps each write small and lets two
processes finish units of one store without overwriting each other's list.

CSV (gzip) rather than parquet because it needs no extra dependency and a person can read it;
pandas writes floats with the shortest repr that round-trips, so values reload exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

from forecastkit._io import plain, seal, sha256_of, unseal
from forecastkit.exceptions import PersistenceError

__all__ = ["ResultStore"]

_FORMAT = "forecastkit-backtest/2"
_UNIT_FORMAT = "forecastkit-backtest-unit/1"
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
# Files of a store, for clear(): units, records and the temporary files of interrupted writes.
_STORE_FILE = re.compile(r"(.+__w\d+(_s\d+)?\.(csv\.gz|json))|(\..+\.tmp)")
_START_OVER = "rerun with fresh=True (--fresh on the command line) to start this run over"


def encode_model_name(model: str) -> str:
    """The file-name form of a model name; distinct names always give distinct forms."""
    if _PLAIN_NAME.fullmatch(model):
        return model
    slug = re.sub(r"[^a-z0-9_-]+", "_", model.lower())[:40]  # no dot: never a hidden file
    return f"{slug}+{hashlib.sha256(model.encode()).hexdigest()[:16]}"


class ResultStore:
    """Finished (model, window) units of one backtest run, kept in a folder.

    Parameters
    ----------
    path : str or Path
        The run folder; created by :meth:`open` if missing.

    Notes
    -----
    The backtest's parent process does all writing (workers only compute). Two processes may
    finish units of the same store (each unit has its own record), but only runs of the same
    configuration should share a folder, and :meth:`open` refuses any other.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._manifest: dict[str, Any] = {"format": _FORMAT, "config": {}, "models": {}}
        self._run = ""  # checksum of the configuration, copied into every record
        self._records: dict[tuple, dict] = {}  # verified records of loaded units

    # ------------------------------------------------------------------ run configuration

    def open(self, config: dict[str, Any], models: dict[str, str]) -> None:
        """Create the folder, or check that the one there belongs to the same run.

        Parameters
        ----------
        config : dict
            JSON-able description of the data and the split; must equal the stored one.
        models : dict of str to str
            Model name -> description of its parameters. A name already in the store must have
            the same description; new names are added (so models can be added to a run later).

        Raises
        ------
        PersistenceError
            The folder cannot be created or written, holds results of a different run, or its
            manifest is not a forecastkit backtest manifest or was changed.
        """
        try:
            for sub in ("units", "records"):
                (self.path / sub).mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise PersistenceError(
                f"cannot create the backtest folder {str(self.path)!r}: {err.strerror or err}"
            ) from None
        config, models = plain(config), dict(models)
        manifest_path = self.path / "manifest.json"
        if manifest_path.exists():
            try:
                stored = unseal(manifest_path, _FORMAT)
            except PersistenceError as err:
                raise PersistenceError(f"{err}; {_START_OVER}") from None
            self._check_same(stored, config, models)
            self._manifest = stored
        else:
            self._manifest["config"] = config
        self._run = _checksum(self._manifest["config"])
        if any(self._manifest["models"].get(k) != v for k, v in models.items()):
            self._manifest["models"].update(models)
            self._write(manifest_path, seal(self._manifest).encode())

    def _check_same(self, stored: dict, config: dict, models: dict[str, str]) -> None:
        where = f"the folder {str(self.path)!r}"
        diff = sorted(k for k in set(config) | set(stored["config"])
                      if config.get(k) != stored["config"].get(k))
        if diff:
            raise PersistenceError(
                f"{where} holds results of a different backtest (differs in {diff}); pass another "
                f"out_dir, or {_START_OVER}"
            )
        for name, desc in models.items():
            old = stored["models"].get(name)
            if old is not None and old != desc:
                raise PersistenceError(
                    f"{where} holds results of model {name!r} with other parameters "
                    f"({old} != {desc}); rename the model, use another out_dir, or {_START_OVER}"
                )

    def clear(self) -> None:
        """Forget every finished unit: remove the manifest and the store's files (other files
        in the folder, such as reports, are kept)."""
        (self.path / "manifest.json").unlink(missing_ok=True)
        for file in self.path.glob(".manifest.json.*.tmp"):
            file.unlink()
        for sub in ("units", "records"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            for file in folder.iterdir():
                if file.is_file() and _STORE_FILE.fullmatch(file.name):
                    file.unlink()
            if not any(folder.iterdir()):
                folder.rmdir()
        self._records.clear()

    def forget(self, model: str) -> int:
        """Discard one model's finished units and its entry in the manifest, so that a run
        with new parameters for that model (the same name) can resume the others.

        Returns
        -------
        int
            Number of units discarded.

        Raises
        ------
        PersistenceError
            The manifest is damaged or not a forecastkit backtest manifest.
        """
        manifest_path = self.path / "manifest.json"
        stem = encode_model_name(model) + "__w"
        removed = 0
        for sub in ("units", "records"):
            folder = self.path / sub
            for file in (folder.iterdir() if folder.is_dir() else ()):
                if file.name.startswith(stem) and _STORE_FILE.fullmatch(file.name):
                    file.unlink()
                    removed += sub == "units"
        if manifest_path.exists():
            stored = unseal(manifest_path, _FORMAT)
            if stored["models"].pop(model, None) is not None:
                self._write(manifest_path, seal(stored).encode())
        self._records = {k: v for k, v in self._records.items() if k[0] != model}
        return removed

    # ------------------------------------------------------------------ units

    @staticmethod
    def key(model: str, window: int, part: int | None = None) -> str:
        """The file name stem of a unit (see the module's docstring)."""
        suffix = "" if part is None else f"_s{int(part):04d}"
        return f"{encode_model_name(model)}__w{int(window):03d}{suffix}"

    def unit_file(self, model: str, window: int, part: int | None = None) -> Path:
        """Where the forecasts of one unit are kept (``part``: a block of series, if any)."""
        return self.path / "units" / f"{self.key(model, window, part)}.csv.gz"

    def record_file(self, model: str, window: int, part: int | None = None) -> Path:
        """Where the record of one unit is kept."""
        return self.path / "records" / f"{self.key(model, window, part)}.json"

    def is_done(self, model: str, window: int, part: int | None = None) -> bool:
        """Whether the unit was finished (its file and its record exist); :meth:`load` then
        checks them. A unit whose record is missing (a run killed between the two writes)
        or whose file was deleted is not finished: it is redone and both are rewritten."""
        return (self.record_file(model, window, part).is_file()
                and self.unit_file(model, window, part).is_file())

    def save(
        self, model: str, window: int, part: int | None, frame: pd.DataFrame, seconds: float
    ) -> None:
        """Write one finished unit (atomically), then its record.

        Parameters
        ----------
        model, window : str, int
        part : int or None
            Block of series the unit covers (local models are split by series), or None.
        frame : pd.DataFrame
            The unit's forecasts.
        seconds : float
            Wall time the unit took (fit and predict), kept for reports.
        """
        target = self.unit_file(model, window, part)
        self._write(target, lambda f: frame.to_csv(f, index=False, compression="gzip"))
        record = {
            "format": _UNIT_FORMAT,
            "model": model,
            "window": int(window),
            "part": None if part is None else int(part),
            "file": target.name,
            "sha256": sha256_of(target),
            "rows": len(frame),
            "seconds": float(seconds),
            "run": self._run,
            "params": self._manifest["models"][model],
        }
        self._write(self.record_file(model, window, part), seal(record).encode())
        self._records.pop((model, int(window), part), None)

    def load(self, model: str, window: int, part: int | None = None) -> pd.DataFrame:
        """The forecasts of a finished unit, after checking them against their record.

        Raises
        ------
        PersistenceError
            The record or the unit file is missing, truncated, edited, belongs to another
            unit or run, or cannot be read; the message names the file.
        """
        record = self._record(model, window, part)
        file = self.path / "units" / record["file"]
        if not file.is_file():
            raise _damaged(file, "is missing")
        if sha256_of(file) != record["sha256"]:
            raise _damaged(file, "was changed after it was written (its checksum differs "
                                 "from its record's)")
        try:
            frame = pd.read_csv(file, compression="gzip")
        # A checksum that matches leaves only a file that never was valid; name it all the same.
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as err:
            raise _damaged(file, f"cannot be read ({type(err).__name__}: {err})") from None
        if (len(frame) != record["rows"] or "model" not in frame or "window" not in frame
                or (frame["model"].astype(str) != model).any()
                or (frame["window"] != int(window)).any()):
            raise _damaged(file, f"does not hold the forecasts of model {model!r}, window "
                                 f"{window}")
        return frame

    def seconds(self, model: str, window: int, part: int | None = None) -> float:
        """Wall time of a finished unit, from its record."""
        return float(self._record(model, window, part)["seconds"])

    @property
    def n_done(self) -> int:
        """Number of finished units (records with their unit file) in the folder."""
        folder = self.path / "records"
        if not folder.is_dir():
            return 0
        stems = (f.name.removesuffix(".json") for f in folder.glob("*.json"))
        return sum((self.path / "units" / f"{stem}.csv.gz").is_file() for stem in stems)

    def _record(self, model: str, window: int, part: int | None) -> dict:
        """A unit's record, checked against its seal, its name and this run."""
        key = (model, int(window), part)
        if key in self._records:
            return self._records[key]
        file = self.record_file(model, window, part)
        try:
            record = unseal(file, _UNIT_FORMAT)
        except PersistenceError as err:
            raise PersistenceError(f"{err}; {_redo(file)}") from None
        claims = (record.get("model"), record.get("window"), record.get("part"))
        if claims != (model, int(window), part):
            raise _damaged(file, f"is the record of model {claims[0]!r}, window {claims[1]}, "
                                 f"block {claims[2]}, not of model {model!r}, window {window}, "
                                 f"block {part}")
        if record.get("run") != self._run:
            raise _damaged(file, "belongs to a backtest of another configuration")
        if record.get("params") != self._manifest["models"].get(model):
            raise PersistenceError(
                f"{file} holds results of model {model!r} with other parameters "
                f"({record.get('params')}); rename the model, use another out_dir, or "
                f"{_START_OVER}"
            )
        if record.get("file") != self.unit_file(model, window, part).name:
            raise _damaged(file, f"names the unit file {record.get('file')!r}, not its own")
        self._records[key] = record
        return record

    def _write(self, target: Path, content) -> None:
        """Write ``content`` (bytes, or a function of a binary file) atomically to ``target``."""
        def write(f):
            if isinstance(content, bytes):
                f.write(content)
            else:
                content(f)

        try:
            _atomic_write(target, write)
        except OSError as err:
            raise PersistenceError(
                f"cannot write {target}: {err.strerror or err}"
            ) from None


def _checksum(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _redo(file: Path) -> str:
    stem = file.name.removesuffix(".csv.gz").removesuffix(".json")
    return f"delete units/{stem}.csv.gz to redo that unit, or {_START_OVER}"


def _damaged(file: Path, what: str) -> PersistenceError:
    return PersistenceError(f"stored backtest unit {file} {what}; {_redo(file)}")


def _atomic_write(target: Path, write) -> None:
    """Write through ``write(binary_file)`` to a temporary file, then move it onto ``target``."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
