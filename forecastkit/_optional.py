"""Optional dependencies: imported when a feature needs them, with a clear error if absent.

MLflow (tracking), Optuna (tuning) and pyarrow (Parquet) are extras; a user who calls one of
these features without it installed gets an :class:`~forecastkit.exceptions.InvalidInputError`
naming the extra to install, not a bare ImportError from deep inside.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from forecastkit.exceptions import InvalidInputError

__all__ = ["optional_import"]


def optional_import(name: str, extra: str, feature: str) -> ModuleType:
    """The module ``name`` (e.g. ``"pyarrow.dataset"``).

    Raises
    ------
    InvalidInputError
        It is not installed: the message names ``feature`` and ``pip install
        'forecastkit[<extra>]'``.
    """
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - depends on the environment
        package = name.split(".")[0]
        raise InvalidInputError(
            f"{feature} needs {package}: pip install 'forecastkit[{extra}]'"
        ) from None
