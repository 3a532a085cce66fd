"""Hyperparameter search on rolling-origin windows of the training data, with Optuna.

Each trial sets a forecaster's parameters, fits it on every window's training part and scores it
on the ``horizon`` points after (the windows of :class:`~forecastkit.data.RollingOriginCV`,
earliest first, scored by :meth:`~forecastkit.forecasters.base.BaseForecaster.score`); the mean
error over the windows is what the search minimises. A trial reports its running mean after each
window, so Optuna's pruner stops a bad one after its first windows. The study lives in Optuna's
storage (an SQLite file by default), so a search that is interrupted resumes where it stopped.
Only the data given is ever used: tune on the training split, never on the test set.

Written on Optuna rather than scikit-learn's ``GridSearchCV`` (which also works with
forecastkit, through ``RollingOriginCV`` and ``score``) for its samplers, pruning and storage.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecastkit._optional import optional_import
from forecastkit.data.frames import to_panel
from forecastkit.data.splitters import RollingOriginCV
from forecastkit.evaluation.identity import describe, fingerprint
from forecastkit.exceptions import ForecastkitError, InvalidInputError
from forecastkit.forecasters._scoring import SCORE_METRICS, season_length_of

__all__ = ["tune", "TuningResult", "rnn_search_space"]

# Trials that count towards n_trials: a failed one (say, an environment fault fixed since) is
# tried again on resume, not counted.
_DISTRIBUTIONS = ("IntDistribution", "FloatDistribution", "CategoricalDistribution")
_FINISHED = ("COMPLETE", "PRUNED")


@dataclass
class TuningResult:
    """What :func:`tune` found.

    Attributes
    ----------
    best_params : dict
        The parameters of the best finished trial (values as given in the space).
    best_error : float
        Its mean error over the windows (MASE, sMAPE or OWA; lower is better).
    best_forecaster : BaseForecaster or None
        A clone of the forecaster with ``best_params``, fitted on all the data
        (``refit=True``), else None.
    study : optuna.Study
        Every trial, its parameters, per-window running means and state.
    """

    best_params: dict[str, Any]
    best_error: float
    best_forecaster: Any
    study: Any

    def trials(self) -> pd.DataFrame:
        """One row per trial (Optuna's ``trials_dataframe``)."""
        return self.study.trials_dataframe()


def tune(
    forecaster,
    y,
    space: dict[str, Any],
    n_trials: int = 30,
    *,
    horizon: int | None = None,
    n_windows: int = 2,
    step: int | None = None,
    metric: str = "mase",
    season_length: int | None = None,
    storage: str | Path | None = "tuning.db",
    study_name: str | None = None,
    sampler=None,
    pruner=None,
    seed: int = 0,
    refit: bool = True,
    progress: bool = True,
) -> TuningResult:
    """Search ``space`` for the parameters of ``forecaster`` with the lowest validation error.

    Parameters
    ----------
    forecaster : BaseForecaster
        Unfitted; each trial fits clones of it.
    y : pd.Series, pd.DataFrame or Panel
        The training data (see :func:`forecastkit.data.to_panel`); windows are cut from its end.
    space : dict of str to list or optuna distribution
        Parameter name (nested ones as ``member__param``) -> a list of choices (any values;
        Optuna records those that are not ``None``/bool/int/float/str by their ``repr``), or an
        ``optuna.distributions`` ``IntDistribution``/``FloatDistribution``/
        ``CategoricalDistribution``. :func:`rnn_search_space` gives one for RNNForecaster.
    n_trials : int, default=30
        Complete or pruned trials the study should hold; a resumed study runs only those
        still missing (a failed trial does not count: it is tried again).
    horizon : int, optional
        Steps scored per window; default: the forecaster's ``horizon``.
    n_windows, step
        The rolling origin (see :class:`~forecastkit.data.RollingOriginSplitter`); a series
        too short for the early windows is scored in the later ones.
    metric : {"mase", "smape", "owa"}, default="mase"
        The error averaged over series in each window, then over windows.
    season_length : int, optional
        MASE's scale and Naive2's period; default: the forecaster's. Fixed for all trials, so
        searching ``season_length`` itself compares like with like.
    storage : str, Path or None, default="tuning.db"
        An SQLite file (created if needed) or any Optuna storage URL; None keeps the study in
        memory (not resumable).
    study_name : str, optional
        Default: the forecaster's class and a digest of the data, space, windows and metric,
        so a changed search starts a new study in the same file instead of mixing with it.
    sampler, pruner : optuna sampler and pruner, optional
        Default: ``TPESampler(seed=seed)`` and ``MedianPruner(n_startup_trials=5)``; pass
        ``optuna.pruners.NopPruner()`` to score every window of every trial.
    seed : int, default=0
    refit : bool, default=True
        Fit the best parameters on all of ``y`` (``best_forecaster``).
    progress : bool, default=True
        Optuna's progress bar and per-trial log lines.

    Returns
    -------
    TuningResult

    Raises
    ------
    InvalidInputError
        An unknown parameter name or metric, an empty space, or no horizon.
    ForecastkitError
        Every trial failed (the first failure's message is given). A trial whose fit or score
        raises a forecastkit error is recorded as failed and the search goes on.
    SeriesTooShortError
        A series too short for the last window.
    """
    optuna = _import_optuna()
    if metric not in SCORE_METRICS:
        raise InvalidInputError(f"metric must be one of {SCORE_METRICS}, got {metric!r}")
    _check_space(forecaster, space)
    horizon = horizon if horizon is not None else getattr(forecaster, "horizon", None)
    if horizon is None:
        raise InvalidInputError("tune needs a horizon (the forecaster has none)")
    panel = to_panel(y)
    frame = panel.to_long()
    folds = list(RollingOriginCV(int(horizon), n_windows, step).split(frame))
    m = season_length_of(forecaster) if season_length is None else int(season_length)
    name = study_name or _study_name(forecaster, panel, space, horizon, n_windows, step, metric,
                                     m)
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.INFO if progress else logging.WARNING)
    try:
        study = optuna.create_study(
            storage=_storage_url(storage), study_name=name, direction="minimize",
            load_if_exists=True, sampler=sampler,
            pruner=pruner if pruner is not None else optuna.pruners.MedianPruner(
                n_startup_trials=5),
        )
        if sampler is None:
            # Seeded by the trials already held, so a resumed search draws new candidates
            # instead of replaying the first run's random start-up draws.
            study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
        _optimize(study, _objective(optuna, forecaster, space, frame, folds, metric, m),
                  n_trials, progress)
    finally:
        optuna.logging.set_verbosity(level)

    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if not complete:
        failed = [t for t in study.trials if "error" in t.user_attrs]
        reason = failed[0].user_attrs["error"] if failed else "no trial finished"
        raise ForecastkitError(f"every trial of study {name!r} failed; the first: {reason}")
    best = min(complete, key=lambda t: t.value)
    params = {key: _chosen(spec, best.params[key]) for key, spec in space.items()}
    fitted = clone(clone(forecaster).set_params(**params)).fit(panel) if refit else None
    return TuningResult(best_params=params, best_error=float(best.value),
                        best_forecaster=fitted, study=study)


def _objective(optuna, forecaster, space, frame, folds, metric: str, m: int):
    """A trial: the running mean error over the folds, reported after each (pruned early when
    Optuna's pruner says so; never after the last window, which completes the trial)."""
    def objective(trial) -> float:
        params = {key: _suggest(trial, key, spec) for key, spec in space.items()}
        errors = []
        try:
            for w, (train, test) in enumerate(folds):
                # Cloned after set_params too: a chosen estimator is copied, never fitted in place.
                model = clone(clone(forecaster).set_params(**params)).fit(frame.iloc[train])
                errors.append(-model.score(frame.iloc[test], metric=metric, season_length=m))
                trial.report(float(np.mean(errors)), step=w)
                if w < len(folds) - 1 and trial.should_prune():
                    raise optuna.TrialPruned()
        except ForecastkitError as err:
            trial.set_user_attr("error", f"{type(err).__name__}: {err}")
            raise
        return float(np.mean(errors))

    return objective


def _optimize(study, objective, n_trials: int, progress: bool) -> None:
    """Run the trials still missing from ``n_trials`` (a forecastkit error fails one trial,
    not the search)."""
    done = sum(t.state.name in _FINISHED for t in study.trials)
    study.optimize(objective, n_trials=max(0, n_trials - done), catch=(ForecastkitError,),
                   show_progress_bar=progress)


def rnn_search_space(horizon: int, season_length: int = 1) -> dict[str, Any]:
    """A search space over RNNForecaster's main parameters.

    - ``cell``: ``"lstm"`` or ``"gru"``;
    - ``units``: one layer of 32, 64 or 128, or two stacked layers of 64 and 32;
    - ``lookback``: ``None`` (the default ensemble of ``b, 0.75 b, 1.5 b`` with
      ``b = max(2 * horizon, 3 * season_length)``), or one length for every member: ``b`` or
      ``2 b``;
    - ``learning_rate``: log-uniform in [3e-4, 3e-3];
    - ``dropout``: 0, 0.1 or 0.2.

    Parameters
    ----------
    horizon, season_length : int
        As for RNNForecaster; they set the lookbacks.

    Returns
    -------
    dict of str to list or optuna distribution
        For :func:`tune`'s ``space``.
    """
    optuna = _import_optuna()
    base = max(2 * int(horizon), 3 * int(season_length))
    return {
        "cell": ["lstm", "gru"],
        "units": [(32,), (64,), (128,), (64, 32)],
        "lookback": [None, base, 2 * base],
        "learning_rate": optuna.distributions.FloatDistribution(3e-4, 3e-3, log=True),
        "dropout": [0.0, 0.1, 0.2],
    }


# --------------------------------------------------------------------------- helpers


def _import_optuna():
    return optional_import("optuna", "tune", "tune")


def _check_space(forecaster, space) -> None:
    if not isinstance(space, dict) or not space:
        raise InvalidInputError("space must be a non-empty dict of parameter name -> choices")
    known = forecaster.get_params(deep=True)
    unknown = [key for key in space if key not in known]
    if unknown:
        raise InvalidInputError(
            f"{type(forecaster).__name__} has no parameter {unknown[0]!r}; its parameters: "
            f"{', '.join(sorted(k for k in known if '__' not in k))}"
        )
    for key, spec in space.items():
        if isinstance(spec, list) and not spec:
            raise InvalidInputError(f"space[{key!r}] has no choices")
        if not isinstance(spec, list) and type(spec).__name__ not in _DISTRIBUTIONS:
            raise InvalidInputError(
                f"space[{key!r}] must be a list of choices or an optuna IntDistribution, "
                f"FloatDistribution or CategoricalDistribution, got {type(spec).__name__}"
            )


def _primitive(value) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _labels(choices: list) -> list:
    """Optuna's categorical choices: the values themselves, or their ``repr`` when any is not
    a value Optuna stores."""
    return list(choices) if all(map(_primitive, choices)) else [repr(c) for c in choices]


def _suggest(trial, key: str, spec):
    if isinstance(spec, list):
        return _chosen(spec, trial.suggest_categorical(key, _labels(spec)))
    kind = type(spec).__name__
    if kind == "IntDistribution":
        return trial.suggest_int(key, spec.low, spec.high, step=spec.step, log=spec.log)
    if kind == "FloatDistribution":
        return trial.suggest_float(key, spec.low, spec.high, step=spec.step, log=spec.log)
    return trial.suggest_categorical(key, spec.choices)  # checked by _check_space


def _chosen(spec, recorded):
    """The space's value behind a recorded parameter (a list choice by its label)."""
    if isinstance(spec, list):
        return spec[_labels(spec).index(recorded)]
    return recorded


def _storage_url(storage) -> str | None:
    if storage is None or "://" in str(storage):
        return None if storage is None else str(storage)
    path = Path(storage).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _study_name(forecaster, panel, space, horizon, n_windows, step, metric, m) -> str:
    described = {key: repr(spec) for key, spec in sorted(space.items())}
    text = json.dumps([describe(forecaster), fingerprint(panel), described, int(horizon),
                       int(n_windows), step, metric, m])
    return f"{type(forecaster).__name__}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"
