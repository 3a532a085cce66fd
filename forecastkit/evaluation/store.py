"""An on-disk store of finished backtest units, so that an interrupted run loses nothing.

Layout of a run folder::

    out_dir/
      manifest.json          the run's configuration and the finished units (with run times)
      units/<model>__w000.csv.gz         forecasts of one (model, window) unit
      units/<model>__w000_s0001.csv.gz   ... or of one block of series of a local model

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, which is atomic on POSIX and Windows: a run killed at any instant leaves either
the old file or the new one, never half of one. A unit counts as finished once the manifest lists
it, and the manifest is written after the unit's file, so a unit is never listed without its
forecasts.

CSV (gzip) rather than parquet because it needs no extra dependency and a person can read it;
pandas writes floats with the shortest repr that round-trips, so values reload exactly.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from forecastkit.exceptions import PersistenceError

__all__ = ["ResultStore"]

_FORMAT = "forecastkit-backtest/1"


class ResultStore:
    """Finished (model, window) units of one backtest run, kept in a folder.

    Parameters
    ----------
    path : str or Path
        The run folder; created if missing.

    Notes
    -----
    Only one process should write to a store at a time (the backtest's parent process does all
    writing; workers only compute).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._manifest: dict[str, Any] = {
            "format": _FORMAT, "config": {}, "models": {}, "units": {}
        }

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
            The folder holds results of a different run.
        """
        (self.path / "units").mkdir(parents=True, exist_ok=True)
        manifest_path = self.path / "manifest.json"
        if manifest_path.exists():
            try:
                stored = json.loads(manifest_path.read_text())
            except (OSError, json.JSONDecodeError) as err:
                raise PersistenceError(f"{manifest_path} is unreadable: {err}") from None
            if stored.get("format") != _FORMAT:
                raise PersistenceError(f"{manifest_path} is not a forecastkit backtest manifest")
            self._check_same(stored, config, models)
            self._manifest = stored
        else:
            self._manifest["config"] = config
        self._manifest["models"].update(models)
        self._write_manifest()

    def _check_same(self, stored: dict, config: dict, models: dict[str, str]) -> None:
        where = f"the folder {str(self.path)!r}"
        # A JSON round trip makes tuples lists, so compare what JSON would store.
        config = json.loads(json.dumps(config))
        diff = sorted(k for k in set(config) | set(stored["config"])
                      if config.get(k) != stored["config"].get(k))
        if diff:
            raise PersistenceError(
                f"{where} holds results of a different backtest (differs in {diff}); pass another "
                f"out_dir or delete that folder to start over"
            )
        for name, desc in models.items():
            old = stored["models"].get(name)
            if old is not None and old != desc:
                raise PersistenceError(
                    f"{where} holds results of model {name!r} with other parameters "
                    f"({old} != {desc}); rename the model or use another out_dir"
                )

    # ------------------------------------------------------------------ units

    @staticmethod
    def _key(model: str, window: int, part: int | None) -> str:
        return f"{model}|{window}|{part}"

    def unit_file(self, model: str, window: int, part: int | None = None) -> Path:
        """Where the forecasts of one unit are kept (``part``: a block of series, if any)."""
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)
        suffix = "" if part is None else f"_s{part:04d}"
        return self.path / "units" / f"{slug}__w{window:03d}{suffix}.csv.gz"

    def is_done(self, model: str, window: int, part: int | None = None) -> bool:
        entry = self._manifest["units"].get(self._key(model, window, part))
        return entry is not None and (self.path / entry["file"]).exists()

    def save(
        self, model: str, window: int, part: int | None, frame: pd.DataFrame, seconds: float
    ) -> None:
        """Write one finished unit (atomically), then list it in the manifest.

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
        _atomic_write(target, lambda f: frame.to_csv(f, index=False, compression="gzip"))
        self._manifest["units"][self._key(model, window, part)] = {
            "model": model,
            "window": int(window),
            "part": part,
            "file": str(target.relative_to(self.path)),
            "seconds": float(seconds),
        }
        self._write_manifest()

    def load(self, model: str, window: int, part: int | None = None) -> pd.DataFrame:
        """The forecasts of a finished unit, as saved."""
        entry = self._manifest["units"][self._key(model, window, part)]
        return pd.read_csv(self.path / entry["file"], compression="gzip")

    def seconds(self, model: str, window: int, part: int | None = None) -> float:
        return float(self._manifest["units"][self._key(model, window, part)]["seconds"])

    @property
    def n_done(self) -> int:
        return len(self._manifest["units"])

    def _write_manifest(self) -> None:
        text = json.dumps(self._manifest, indent=1, sort_keys=True)
        _atomic_write(self.path / "manifest.json", lambda f: f.write(text.encode()))


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
