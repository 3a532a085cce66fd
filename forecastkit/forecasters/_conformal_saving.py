"""How :class:`~forecastkit.forecasters.conformal.ConformalIntervals` saves and loads itself
(no pickle): its parameters as JSON, the wrapped forecaster, fitted, in a checked sub-folder
of its own (:func:`~forecastkit.forecasters._saving.save_nested`), and the calibration errors
as arrays.

Each function is one of the wrapper's saving hooks, taking the wrapper (or its class) first.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone

from forecastkit.data.frames import Panel
from forecastkit.exceptions import PersistenceError
from forecastkit.forecasters._saving import (
    jsonable_params,
    load_nested,
    restore_params,
    save_nested,
)

__all__ = ["check_saveable", "saved_params", "from_saved_params", "save_state", "load_state"]


def check_saveable(wrapper) -> None:
    check = getattr(wrapper.forecaster_, "_check_saveable", None)
    if check is None:
        raise PersistenceError(
            f"ConformalIntervals cannot be saved: its {type(wrapper.forecaster_).__name__} "
            f"has no saving hooks"
        )
    check()


def saved_params(wrapper, folder) -> dict:
    # The wrapped forecaster has no JSON form: it is saved, fitted, in its own folder.
    params = wrapper.get_params(deep=False)
    del params["forecaster"]
    out = jsonable_params(params)
    out["forecaster"] = {"nested": save_nested(wrapper.forecaster_, folder, "forecaster")}
    return out


def from_saved_params(cls, params: dict, folder):
    params = dict(params)
    entry = params.pop("forecaster", None)
    if not isinstance(entry, dict) or not isinstance(entry.get("nested"), dict):
        raise PersistenceError(f"{folder.path}: the wrapped forecaster's folder is not listed")
    fitted = load_nested(folder, entry["nested"])
    wrapper = cls(forecaster=clone(fitted), **restore_params(params))
    wrapper.forecaster_ = fitted
    return wrapper


def save_state(wrapper, folder) -> dict:
    folder.write_arrays("calibration.npz", {"errors": wrapper.calibration_errors_})
    return {"horizon": int(wrapper.horizon_), "season_length": int(wrapper.season_length_)}


def load_state(wrapper, folder, state: dict, panel: Panel) -> None:
    errors = folder.read_arrays("calibration.npz", ["errors"])["errors"]
    horizon, m = state.get("horizon"), state.get("season_length")
    if (errors.ndim != 3 or errors.dtype != np.float64 or not isinstance(horizon, int)
            or not isinstance(m, int) or errors.shape[1:] != (panel.n_series, horizon)):
        raise PersistenceError(f"{folder.path}: the stored calibration does not fit the "
                               f"saved panel")
    wrapper.calibration_errors_ = errors
    wrapper.horizon_ = horizon
    wrapper.season_length_ = m
