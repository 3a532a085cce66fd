"""Model names used by the command line and the experiment scripts, and how to build each.

A name stands for a configured forecaster, built for a dataset's horizon and season length with a
seed: ``make_model("lstm", horizon=18, season_length=12, seed=0)``. Forecaster modules are
imported only when a model is built, so listing names costs nothing and a missing optional part
(the RNN needs TensorFlow) only fails when it is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from forecastkit.exceptions import InvalidInputError

__all__ = [
    "MODELS",
    "ModelSpec",
    "is_available",
    "list_models",
    "make_model",
    "make_models",
    "parse_names",
]


@dataclass(frozen=True)
class ModelSpec:
    """How to build one named model.

    Attributes
    ----------
    name : str
        The name users type.
    description : str
        One line for ``forecastkit models``.
    module, attr : str
        Where the forecaster lives (``attr`` may be a key of the module's ``BASELINES`` dict,
        written ``"BASELINES[theta]"``).
    params : dict
        Parameters besides ``horizon``, ``season_length`` and the seed. ``members`` names the
        models a combination is made of; ``wraps`` the model a wrapper (conformal intervals)
        is built around.
    """

    name: str
    description: str
    module: str
    attr: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if "wraps" in self.params:
            return MODELS[self.params["wraps"]].kind
        if "members" in self.params:
            # A combination needs TensorFlow as soon as one of its members does.
            return "rnn" if any(MODELS[m].kind == "rnn" for m in self.params["members"]) else (
                "baseline")
        return "rnn" if self.module.endswith(".rnn") else "baseline"

    def forecaster_class(self):
        module = importlib.import_module(self.module)
        if self.attr.startswith("BASELINES["):
            return module.BASELINES[self.attr[len("BASELINES[") : -1]]
        return getattr(module, self.attr)


_BASE = "forecastkit.forecasters.baselines"
_RNN = "forecastkit.forecasters.rnn"
_CONFORMAL = "forecastkit.forecasters.conformal"


def _baseline(name: str, description: str) -> ModelSpec:
    return ModelSpec(name, description, _BASE, f"BASELINES[{name}]")


def _rnn(name: str, description: str, **params) -> ModelSpec:
    return ModelSpec(name, description, _RNN, "RNNForecaster", params)


def _conformal(wrapped: str, description: str, **params) -> ModelSpec:
    return ModelSpec(f"conformal-{wrapped}", description, _CONFORMAL, "ConformalIntervals",
                     {"wraps": wrapped, **params})


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        _baseline("naive", "last value repeated"),
        _baseline("snaive", "value of the same season last cycle"),
        _baseline("naive2", "naive on deseasonalised data (the M4 reference for OWA)"),
        _baseline("drift", "line from the first to the last value"),
        _baseline("mean", "historical mean"),
        _baseline("ses", "simple exponential smoothing, deseasonalised"),
        _baseline("holt", "Holt's linear trend, deseasonalised"),
        _baseline("damped", "damped-trend exponential smoothing, deseasonalised"),
        _baseline("comb", "mean of SES, Holt and Damped (M4's Comb benchmark)"),
        _baseline("theta", "Theta method (M3 winner), deseasonalised"),
        _baseline("ets", "exponential smoothing state-space model, picked by AICc"),
        _baseline("arima", "ARIMA picked by AICc"),
        _rnn("rnn", "global SimpleRNN forecaster", cell="rnn"),
        _rnn("lstm", "global LSTM forecaster", cell="lstm"),
        _rnn("gru", "global GRU forecaster", cell="gru"),
        _rnn("lstm-joint", "lstm with its members trained side by side in one graph",
             cell="lstm", ensemble_training="joint"),
        # How it was chosen and where it loses: experiments/results/selection/README.md.
        _rnn("lstm-fast", "lstm-joint on a short schedule (epochs='short') at learning rate "
             "3e-3, chosen on M3: a fraction of lstm's cost", cell="lstm",
             ensemble_training="joint", epochs="short", learning_rate=3e-3),
        _rnn("lstm-stacked", "two stacked LSTM layers (64, 64)", cell="lstm", units=(64, 64)),
        _rnn("gru-stacked", "two stacked GRU layers (64, 64)", cell="gru", units=(64, 64)),
        _rnn("bilstm", "bidirectional LSTM", cell="lstm", bidirectional=True),
        _rnn("bigru", "bidirectional GRU", cell="gru", bidirectional=True),
        _rnn("lstm-quantile", "lstm with a multi-quantile head (pinball loss)", cell="lstm",
             loss="quantile"),
        _rnn("lstm-normal", "lstm with a Gaussian head (negative log-likelihood)", cell="lstm",
             distribution="normal"),
        _rnn("lstm-student-t", "lstm with a Student-t head (negative log-likelihood)",
             cell="lstm", distribution="student_t"),
        ModelSpec("lstm+theta", "mean of the lstm and theta forecasts",
                  "forecastkit.forecasters.combination", "Combination",
                  {"members": ("lstm", "theta")}),
        ModelSpec("lstm-validated", "lstm alone or its mean with theta or comb, whichever "
                  "scores best on the last horizon of the training data",
                  "forecastkit.forecasters.validated", "ValidatedCombination",
                  {"members": ("lstm", "theta", "comb")}),
        ModelSpec("lstm-validated-norefit", "lstm-validated keeping the network fitted for "
                  "the choice (on all but the last horizon) instead of refitting it",
                  "forecastkit.forecasters.validated", "ValidatedCombination",
                  {"members": ("lstm", "theta", "comb"), "refit": False}),
        # One calibration window, the wrapped model fitted once for it (refit=False): the
        # cheapest calibration, pooled over series (experiments/probabilistic.py, cost notes).
        _conformal("lstm-validated", "lstm-validated with split-conformal intervals from "
                   "its errors on the last horizon of the training data", n_windows=1,
                   refit=False),
        _conformal("theta", "theta with split-conformal intervals from its errors on the "
                   "last horizon of the training data", n_windows=1),
    ]
}


def list_models() -> dict[str, str]:
    """Model name -> one-line description."""
    return {name: spec.description for name, spec in MODELS.items()}


def parse_names(names: str | Iterable[str]) -> list[str]:
    """Model names from ``"lstm,gru,theta"`` or a list, checked.

    Raises
    ------
    InvalidInputError
        Naming the unknown names and listing the valid ones.
    """
    if isinstance(names, str):
        names = [n for n in (part.strip() for part in names.split(",")) if n]
    names = list(names)
    if not names:
        raise InvalidInputError(f"no model names given; choose from {', '.join(MODELS)}")
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise InvalidInputError(
            f"unknown model name(s) {unknown}; valid names: {', '.join(MODELS)}"
        )
    return names


def make_model(
    name: str, *, horizon: int, season_length: int, seed: int | None = 0, **params: Any
):
    """Build the forecaster a name stands for.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS` (see :func:`list_models`).
    horizon, season_length : int
        The dataset's forecast horizon and seasonal period.
    seed : int or None
        ``random_state`` of models that have one.
    **params
        Further parameters, overriding the named configuration.

    Returns
    -------
    BaseForecaster
        Unfitted.
    """
    (name,) = parse_names([name])
    spec = MODELS[name]
    if "wraps" in spec.params:
        # A wrapper around another named model, built the same way.
        inner = make_model(spec.params["wraps"], horizon=horizon, season_length=season_length,
                           seed=seed)
        extra = {k: v for k, v in spec.params.items() if k != "wraps"}
        return spec.forecaster_class()(inner, horizon=horizon, season_length=season_length,
                                       **{**extra, **params})
    if "members" in spec.params:
        # Combination or ValidatedCombination over other named models, built the same way.
        members = [(m, make_model(m, horizon=horizon, season_length=season_length, seed=seed))
                   for m in spec.params["members"]]
        extra = {k: v for k, v in spec.params.items() if k != "members"}
        return spec.forecaster_class()(members, horizon=horizon, **{**extra, **params})
    try:
        cls = spec.forecaster_class()
    except (ImportError, AttributeError, KeyError) as err:
        raise InvalidInputError(
            f"model {name!r} is not available in this installation ({type(err).__name__}: "
            f"{err})"
        ) from None
    kwargs: dict[str, Any] = {"horizon": horizon, "season_length": season_length}
    kwargs.update(spec.params)
    accepted = cls().get_params(deep=False) if hasattr(cls, "get_params") else {}
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    kwargs.update(params)
    return cls(**kwargs)


def make_models(
    names: str | Iterable[str],
    *,
    horizon: int,
    season_length: int,
    seed: int | None = 0,
    params: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``{name: make_model(name, ...)}`` for several names, in the order given.

    Parameters
    ----------
    params : dict of str to dict, optional
        Per-name parameter overrides, e.g. ``{"lstm": {"epochs": 5}}``.
    """
    params = params or {}
    return {
        n: make_model(n, horizon=horizon, season_length=season_length, seed=seed,
                      **params.get(n, {}))
        for n in parse_names(names)
    }


def is_available(name: str) -> bool:
    """Whether the forecaster behind ``name`` can be imported here."""
    try:
        MODELS[name].forecaster_class()
    except (ImportError, AttributeError, KeyError):
        return False
    return True

