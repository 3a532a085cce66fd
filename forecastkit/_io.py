"""Safe, checked folders of files: what saved forecasters and stored backtests are made of.

Three rules every stored folder follows:

* **Nothing is pickled.** Arrays go through ``np.savez`` and are read with
  ``allow_pickle=False``; everything else is JSON.
* **Every file is checksummed.** A :class:`CheckedFolder` records the SHA-256 of every file it
  writes; the manifest lists them and carries a checksum of its own content, so a truncated,
  edited or swapped file - the manifest included - is a :class:`PersistenceError` at load time,
  never a wrong answer.
* **Only plain names inside the folder.** A stored name that is absolute, holds a path
  separator or ``..`` is refused, so a forged manifest cannot make a load read elsewhere.

:func:`atomic_folder` writes a whole folder next to its target and swaps it in only when
complete, so a failing save never destroys a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from forecastkit.exceptions import PersistenceError

__all__ = [
    "CheckedFolder",
    "atomic_folder",
    "sha256_of",
    "plain",
    "check_plain_name",
    "seal",
    "unseal",
]

_CHECKSUM_KEY = "manifest_sha256"


def sha256_of(file: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_plain_name(name, where) -> str:
    """``name`` if it is a plain file name (no folder part, not ``.``/``..``), else
    PersistenceError naming ``where``."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
    ):
        raise PersistenceError(f"{where}: {name!r} is not a plain file name inside the folder")
    return name


def plain(value):
    """``value`` as JSON values: tuples become lists, numpy scalars Python ones.

    Raises
    ------
    TypeError
        ``value`` (or something inside it) has no JSON form.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _canonical(manifest: dict) -> bytes:
    body = {k: v for k, v in manifest.items() if k != _CHECKSUM_KEY}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal(manifest: dict) -> str:
    """The manifest as JSON text, with a checksum of its own content added."""
    sealed = {**manifest, _CHECKSUM_KEY: hashlib.sha256(_canonical(manifest)).hexdigest()}
    return json.dumps(sealed, indent=2)


def unseal(file: Path, expected_format: str | None = None) -> dict:
    """Read a manifest written by :func:`seal` and check its own checksum.

    Parameters
    ----------
    file : pathlib.Path
    expected_format : str, optional
        The manifest's ``format`` marker must be this (checked first, so a foreign file is
        called foreign rather than edited).

    Raises
    ------
    PersistenceError
        The file is missing, not JSON, of another format, or its content was edited after it
        was written.
    """
    if not file.is_file():
        raise PersistenceError(f"{file} is missing (the save may have been interrupted)")
    try:
        manifest = json.loads(file.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PersistenceError(f"{file} is corrupted: not valid JSON ({err})") from None
    if not isinstance(manifest, dict):
        raise PersistenceError(f"{file} is corrupted: not a JSON object")
    if expected_format is not None and manifest.get("format") != expected_format:
        raise PersistenceError(f"{file} is not a {expected_format} manifest")
    expected = hashlib.sha256(_canonical(manifest)).hexdigest()
    if manifest.get(_CHECKSUM_KEY) != expected:
        raise PersistenceError(
            f"{file} was changed after it was written (its content does not match its checksum)"
        )
    return manifest


class CheckedFolder:
    """A folder whose files are written and read with checksums.

    Writing records ``name -> sha256`` in :attr:`checksums`; reading needs the checksums of
    the save (``expected``) and refuses a file that is missing, unlisted or altered.

    Parameters
    ----------
    path : pathlib.Path
        The folder.
    expected : dict, optional
        ``name -> sha256`` from a manifest, for reading.
    """

    def __init__(self, path: Path, expected: dict | None = None):
        self.path = Path(path)
        self.expected = dict(expected or {})
        self.checksums: dict[str, str] = {}

    # ------------------------------------------------------------------ writing

    def file(self, name: str) -> Path:
        """Path of a new file ``name`` (recorded once written: call :meth:`record`)."""
        return self.path / check_plain_name(name, self.path)

    def record(self, name: str) -> None:
        self.checksums[name] = sha256_of(self.file(name))

    def write_arrays(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Arrays to ``name`` (an .npz file); object arrays are refused."""
        for key, value in arrays.items():
            if np.asarray(value).dtype == object:
                raise PersistenceError(f"{key!r} is an object array; it cannot be stored")
        np.savez(self.file(name), **arrays)  # type: ignore[arg-type]
        self.record(name)

    def write_json(self, name: str, value) -> None:
        self.file(name).write_text(json.dumps(value, indent=2))
        self.record(name)

    def subfolder(self, name: str) -> CheckedFolder:
        """A nested folder (e.g. one per member of a combination), created empty."""
        sub = self.file(name)
        sub.mkdir()
        return CheckedFolder(sub)

    # ------------------------------------------------------------------ reading

    def verified(self, name: str) -> Path:
        """Path of a stored file after checking it against the save's checksum."""
        check_plain_name(name, self.path)
        if name not in self.expected:
            raise PersistenceError(f"{self.path}: {name!r} is not listed in the manifest")
        file = self.path / name
        if not file.is_file():
            raise PersistenceError(f"{self.path} is incomplete: {name} is missing")
        if sha256_of(file) != self.expected[name]:
            raise PersistenceError(f"{file} is corrupted (its checksum does not match the save)")
        return file

    def read_arrays(self, name: str, keys) -> dict[str, np.ndarray]:
        file = self.verified(name)
        try:
            with np.load(file, allow_pickle=False) as data:
                missing = [k for k in keys if k not in data.files]
                if missing:
                    raise PersistenceError(f"{file} is corrupted: arrays {missing} are missing")
                return {k: data[k] for k in keys}
        except PersistenceError:
            raise
        except Exception as err:  # zip, header or pickle-refused errors
            raise PersistenceError(
                f"{file} cannot be read ({type(err).__name__}: {err})"
            ) from None

    def read_json(self, name: str) -> Any:
        file = self.verified(name)
        try:
            return json.loads(file.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise PersistenceError(f"{file} is corrupted: not valid JSON ({err})") from None

    def nested(self, name: str) -> Path:
        """Path of a nested folder listed in the manifest (its own manifest checks its files)."""
        check_plain_name(name, self.path)
        sub = self.path / name
        if not sub.is_dir():
            raise PersistenceError(f"{self.path} is incomplete: folder {name} is missing")
        return sub


@contextmanager
def atomic_folder(target) -> Iterator[Path]:
    """Write a folder beside ``target`` and put it in place only when the block succeeds.

    Yields the temporary folder. On success the old ``target`` (if any) is replaced; on any
    error the temporary folder is removed and ``target`` is left exactly as it was.
    """
    target = Path(os.fspath(target))
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PersistenceError(f"cannot create {parent}: {err}") from None
    if target.exists() and not target.is_dir():
        raise PersistenceError(f"{target} exists and is not a folder")
    tmp = parent / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"
    try:
        tmp.mkdir()
    except OSError as err:
        raise PersistenceError(f"cannot write in {parent}: {err}") from None
    try:
        yield tmp
        old = None
        if target.exists():
            old = parent / f".{target.name}.{uuid.uuid4().hex[:8]}.old"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
