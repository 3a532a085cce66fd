"""How :class:`~forecastkit.forecasters.rnn.RNNForecaster` saves and loads itself: its hooks
for :mod:`forecastkit.forecasters._saving` (members as ``.keras`` files, the other fitted
attributes as JSON; the serving model is rebuilt on load with the builder ``fit`` used, so a
loaded model predicts bit-identically).
"""

from __future__ import annotations

from forecastkit.data.frames import Panel
from forecastkit.exceptions import PersistenceError

__all__ = ["RNNSavingMixin", "save_state", "load_state"]


class RNNSavingMixin:
    """The saving hooks of RNNForecaster."""

    # Fitted attributes besides the networks, saved as JSON; a load sets no others.
    _state_attributes = ("lookbacks_", "log_", "use_position_", "deseasonalize_", "window_",
                         "level_window_", "normalizer_config_", "history_", "epochs_",
                         "batch_size_", "probe_history_", "covariate_layout_", "floor_")

    def _check_saveable(self) -> None:
        pass

    def _saved_params(self, folder) -> dict:
        # Callbacks watch training, which a loaded model does not do: they are not kept.
        from forecastkit.forecasters._saving import jsonable_params

        params = self.get_params(deep=False)  # type: ignore[attr-defined]
        return jsonable_params({**params, "callbacks": None})

    def _save_state(self, folder) -> dict:
        """Members as ``.keras`` files (Keras' own format), the rest as JSON; the serving model
        is rebuilt on load with the builder ``fit`` used, so it predicts bit-identically."""
        return save_state(self, folder)

    def _load_state(self, folder, state: dict, panel: Panel) -> None:
        load_state(self, folder, state)


def save_state(f, folder) -> dict:
    """RNNForecaster's ``_save_state``: members as ``.keras`` files, the rest as JSON."""
    members = []
    for i, member in enumerate(f.members_):
        name = f"member_{i}.keras"
        member.save(folder.file(name))
        folder.record(name)
        members.append(name)
    return {"members": members, "fitted": {k: getattr(f, k) for k in f._state_attributes}}


def load_state(f, folder, state: dict) -> None:
    """RNNForecaster's ``_load_state``: only its declared fitted attributes are set."""
    import keras

    import forecastkit.forecasters._heads  # noqa: F401  (registers the member layers)
    import forecastkit.forecasters._network  # noqa: F401

    fitted = dict(state.get("fitted", {}))
    fitted.setdefault("covariate_layout_", None)  # saved before covariates existed
    fitted.setdefault("floor_", None)  # saved before the floor existed
    if set(fitted) != set(f._state_attributes):
        raise PersistenceError(f"{folder.path}: the saved fitted attributes are not "
                               f"{list(f._state_attributes)}")
    members = []
    for name in state.get("members", []):
        file = folder.verified(name)
        try:
            members.append(keras.saving.load_model(file, compile=False, safe_mode=True))
        except Exception as err:
            raise PersistenceError(f"{file} cannot be loaded as a Keras model "
                                   f"({type(err).__name__}: {err})") from None
    if len(fitted["lookbacks_"]) != len(members) or not members:
        raise PersistenceError(f"{folder.path}: the saved members do not match the lookbacks")
    for key, value in fitted.items():
        setattr(f, key, value)
    f.members_ = members
    try:
        f.model_ = f._serving_model(int(f.horizon))
    except Exception as err:
        raise PersistenceError(f"{folder.path}: cannot rebuild the serving model from the "
                               f"saved members ({err})") from err
