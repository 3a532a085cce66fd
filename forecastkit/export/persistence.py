"""Save a fitted forecaster to a folder and load it back, without pickle.

Each forecaster writes its own state through hooks (``_save_state`` / ``_load_state`` of
:class:`~forecastkit.forecasters.base.BaseForecaster`); the folder format, the checksums and the
refusal to build anything but forecastkit's own forecaster classes live in
:mod:`forecastkit.forecasters._saving`. This module is the public face of both directions.

A saved folder holds ``forecastkit.json`` (class, parameters, fitted state, a SHA-256 of every
other file and of its own content), the training panel (``panel.npz``, ``panel.json``) and the
forecaster's own files (``state.npz``, ``member_<i>.keras``, or one sub-folder per member of a
combination). Arrays are read with ``np.load(allow_pickle=False)``, networks with
``keras.saving.load_model(safe_mode=True)`` (which refuses Lambda layers and arbitrary code); a
missing, truncated, edited or swapped file is a
:class:`~forecastkit.exceptions.PersistenceError`, never a wrong model.
"""

from __future__ import annotations

from pathlib import Path

from forecastkit.forecasters._saving import MANIFEST, jsonable_params, load_forecaster

__all__ = ["save", "load", "jsonable_params", "MANIFEST"]


def save(forecaster, path) -> Path:
    """Save a fitted forecaster to the folder ``path``; the same as ``forecaster.save(path)``.

    Parameters
    ----------
    forecaster : BaseForecaster
        Any fitted forecastkit forecaster.
    path : str or os.PathLike
        Folder to write; an earlier save there is replaced only once the new one is complete.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    PersistenceError
        The forecaster is not fitted, is of a kind that cannot be saved, or the folder cannot
        be written.
    """
    return forecaster.save(path)


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
    return load_forecaster(path)
