"""How the combining forecasters save and load themselves (no pickle).

A combination's parameters hold forecasters (``estimators``: unfitted (name, forecaster)
pairs) and its fitted state holds fitted ones. Both are written without pickle:

* an unfitted member is described by its class and its own ``_saved_params`` (recursively, so
  a combination inside a combination works) and rebuilt through
  :func:`forecastkit.forecasters._saving.forecaster_class`, which builds only forecastkit's own
  forecaster classes;
* a fitted member is saved in a sub-folder of its own with
  :func:`~forecastkit.forecasters._saving.save_nested`, whose manifest checksums the member's
  files and whose checksum the parent's manifest keeps, so a missing, edited or swapped member
  folder is a :class:`~forecastkit.exceptions.PersistenceError` at load time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit.exceptions import PersistenceError
from forecastkit.forecasters._saving import forecaster_class, load_nested, save_nested

__all__ = [
    "check_members_saveable",
    "describe_estimators",
    "rebuild_estimators",
    "save_members",
    "load_members",
    "choice_state",
    "read_choice",
]


def _qualname(est) -> str:
    return f"{type(est).__module__}.{type(est).__qualname__}"


def check_members_saveable(owner: str, pairs, fitted: bool) -> None:
    """Raise PersistenceError naming the first member that cannot be saved.

    Parameters
    ----------
    owner : str
        The combination's class name, for the message.
    pairs : list of (str, forecaster)
    fitted : bool
        Whether the members are fitted ones (checked with their own ``_check_saveable``) or
        unfitted prototypes (which only need to describe their parameters).
    """
    for name, est in pairs:
        hooks = ("_saved_params", "_from_saved_params", "_save_state", "_load_state")
        if not all(hasattr(est, h) for h in hooks):
            raise PersistenceError(
                f"{owner} cannot be saved: member {name!r} ({type(est).__name__}) is not a "
                f"forecastkit forecaster"
            )
        try:
            if fitted:
                est._check_saveable()
            else:
                est._saved_params(None)
        except PersistenceError as err:
            raise PersistenceError(f"{owner} cannot be saved: member {name!r}: {err}") from None


def describe_estimators(pairs, folder) -> list[dict]:
    """Unfitted (name, forecaster) pairs as JSON: name, class and parameters of each."""
    return [{"name": str(name), "class": _qualname(est), "params": est._saved_params(folder)}
            for name, est in pairs]


def rebuild_estimators(described, folder) -> list[tuple[str, object]]:
    """The pairs :func:`describe_estimators` wrote, as new unfitted forecasters."""
    if not isinstance(described, list):
        raise PersistenceError(f"{folder.path}: the saved estimators are not a list")
    pairs = []
    for entry in described:
        if not isinstance(entry, dict) or not {"name", "class", "params"} <= set(entry):
            raise PersistenceError(f"{folder.path}: a saved estimator entry is malformed")
        cls = forecaster_class(entry["class"])
        pairs.append((entry["name"], cls._from_saved_params(entry["params"], folder)))
    return pairs


def save_members(pairs, folder, prefix: str = "member") -> list[dict]:
    """Fitted (name, forecaster) pairs, each in the sub-folder ``<prefix>_<i>``; returns the
    entries that list them (name, folder, checksum of the member's manifest)."""
    return [{"name": str(name), **save_nested(est, folder, f"{prefix}_{i}")}
            for i, (name, est) in enumerate(pairs)]


def load_members(folder, entries, names=None) -> list[tuple[str, object]]:
    """The fitted pairs :func:`save_members` wrote, each member folder checked.

    Parameters
    ----------
    names : sequence of str, optional
        The member names the entries must carry, in order.
    """
    if not isinstance(entries, list) or not entries:
        raise PersistenceError(f"{folder.path}: the saved members are missing")
    stored = [e.get("name") if isinstance(e, dict) else None for e in entries]
    if names is not None and stored != [str(n) for n in names]:
        raise PersistenceError(
            f"{folder.path}: the saved members {stored} are not the expected {list(names)}"
        )
    return [(entry["name"], load_nested(folder, entry)) for entry in entries]



_SCORE_TYPES = {"window": np.int64, "score": np.float64, "n_series": np.int64}


def choice_state(scores: pd.DataFrame, selected, left_out: dict) -> dict:
    """A validated choice as JSON: its score table, the chosen names and the series left out
    of each window."""
    return {"selected": list(selected), "scores": scores.to_dict("records"),
            "left_out": left_out}


def read_choice(state: dict, candidates: list[str], folder):
    """``(scores, selected, left_out)`` from :func:`choice_state`'s output, checked against
    the candidate names (joined with ``+``)."""
    try:
        # Built as fit builds it (from row dicts), so the candidate column's dtype is the same.
        scores = pd.DataFrame(list(state["scores"])).astype(_SCORE_TYPES)
        if list(scores.columns) != ["candidate", *_SCORE_TYPES]:
            raise ValueError(f"columns {list(scores.columns)}")
        selected = tuple(str(n) for n in state["selected"])
        left_out = {int(k): list(v) for k, v in state["left_out"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise PersistenceError(f"{folder.path}: the saved choice is malformed ({err})") from None
    if "+".join(selected) not in candidates or not set(scores["candidate"]) <= set(candidates):
        raise PersistenceError(f"{folder.path}: the saved choice {selected} is not one of the "
                               f"candidates {candidates}")
    return scores, selected, left_out
