"""A fitted forecaster, combinations included, as one function inside a TensorFlow graph.

:func:`graph_plan` walks the forecaster as ``predict`` would forecast new histories and returns
a function of the served inputs that computes the same forecasts:

* an :class:`~forecastkit.forecasters.rnn.RNNForecaster` runs its serving model (the Keras
  model ``predict`` runs) on the last steps of the histories it reads;
* a classical baseline of :data:`._classical_graph.GRAPH_METHODS` is fitted anew on each
  history inside the graph, as ``predict(y=...)`` refits a local model;
* a :class:`~forecastkit.forecasters.combination.Combination` combines its fitted members'
  functions (mean, weighted mean or median), and a
  :class:`~forecastkit.forecasters.validated.ValidatedCombination` is the forecaster it chose
  (or the mean of the members it kept).

Anything else (ETS, ARIMA, a user's own class) cannot go into the graph: :func:`graph_plan`
raises :class:`~forecastkit.exceptions.ExportError` naming the member and its place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from forecastkit.exceptions import ExportError
from forecastkit.export._classical_graph import GRAPH_METHODS, classical_forecast
from forecastkit.export._serving import network_width
from forecastkit.forecasters._floor import ForecastFloor
from forecastkit.forecasters.combination import Combination
from forecastkit.forecasters.rnn import RNNForecaster
from forecastkit.forecasters.validated import ValidatedCombination

__all__ = ["GraphPlan", "graph_plan"]


@dataclass
class GraphPlan:
    """A forecaster's forecast as a graph function.

    Attributes
    ----------
    forecast : callable
        ``forecast(inputs) -> tf.Tensor (batch, horizon) float64``; ``inputs`` holds
        ``history`` and ``mask`` (float32, (batch, width)), their float64 casts ``history64``
        and ``mask64``, and ``position`` (int32 (batch,), or None).
    description : dict
        What is in the graph, for the export's metadata (JSON).
    networks : list of (str, RNNForecaster)
        The recurrent members, by their place in the forecaster.
    """

    forecast: Callable
    description: dict
    networks: list = field(default_factory=list)


def graph_plan(forecaster, horizon: int, where: str = "the forecaster") -> GraphPlan:
    """The graph function of a fitted ``forecaster`` for ``horizon`` steps.

    Parameters
    ----------
    forecaster : BaseForecaster
        Fitted.
    horizon : int
    where : str
        The forecaster's place, for error messages (``"the forecaster"``, ``"the forecaster ->
        chosen 'lstm+ets' -> member 'ets'"``).

    Raises
    ------
    ExportError
        A member that cannot be computed inside a graph, or a network member that cannot
        forecast ``horizon`` steps.
    """
    name = type(forecaster).__name__
    if isinstance(forecaster, RNNForecaster):
        return _network(forecaster, horizon, where)
    if type(forecaster) in GRAPH_METHODS:
        return GraphPlan(
            lambda inputs: classical_forecast(forecaster, inputs["history64"], inputs["mask64"],
                                              horizon),
            {"class": name, "season_length": int(forecaster.season_length),
             "computed": "fitted in the graph on each history"},
        )
    if isinstance(forecaster, ValidatedCombination):
        chosen = "+".join(forecaster.selected_)
        if hasattr(forecaster, "members_"):
            inner = _combine(forecaster.members_, "mean", None, horizon, where)
        else:
            inner = graph_plan(forecaster.best_estimator_, horizon,
                               f"{where} -> chosen {chosen!r}")
        return GraphPlan(inner.forecast,
                         {"class": name, "selected": list(forecaster.selected_),
                          "chosen": inner.description},
                         inner.networks)
    if isinstance(forecaster, Combination):
        weights = None if forecaster.weights is None else np.asarray(forecaster.weights, float)
        plan = _combine(forecaster.estimators_, forecaster.combine, weights, horizon, where)
        return _bounded(plan, forecaster._floor_arguments())
    supported = sorted([c.__name__ for c in GRAPH_METHODS]
                       + ["RNNForecaster", "Combination", "ValidatedCombination"])
    raise ExportError(
        f"{where} is a {name}, which cannot be computed inside a SavedModel graph, so the "
        f"forecaster cannot be exported; forecasters that can: {', '.join(supported)}"
    )


def _combine(pairs, method: str, weights, horizon: int, where: str) -> GraphPlan:
    """Members' plans combined as :func:`forecastkit.forecasters.combination.
    combine_forecasts` does."""
    plans = [graph_plan(est, horizon, f"{where} -> member {name!r}") for name, est in pairs]

    def forecast(inputs):
        stacked = tf.stack([p.forecast(inputs) for p in plans])  # (members, batch, horizon)
        if method == "median":
            ordered = tf.sort(stacked, axis=0)
            k = len(plans)
            if k % 2:
                return ordered[k // 2]
            return (ordered[k // 2 - 1] + ordered[k // 2]) / 2.0
        if weights is None:
            return tf.reduce_mean(stacked, axis=0)
        w = tf.constant(weights / weights.sum(), tf.float64)
        return tf.tensordot(w, stacked, axes=1)

    description = {"class": "Combination", "combine": method,
                   "weights": None if weights is None else weights.tolist(),
                   "members": {str(name): p.description
                               for (name, _), p in zip(pairs, plans, strict=True)}}
    networks = [n for p in plans for n in p.networks]
    return GraphPlan(forecast, description, networks)


def _bounded(plan: GraphPlan, arguments: dict | None) -> GraphPlan:
    """``plan`` with its forecasts raised to a combination's ``floor`` (None: unchanged), by
    the layer a network's serving model bounds with, over the served history (the whole
    history ``predict`` reads, up to the export's width)."""
    if arguments is None:
        return plan
    floor = ForecastFloor(**arguments, dtype="float64")

    def forecast(inputs):
        return floor([plan.forecast(inputs), inputs["history64"], inputs["mask64"]])

    return GraphPlan(forecast, {**plan.description, "floor": arguments}, plan.networks)


def _network(f: RNNForecaster, horizon: int, where: str) -> GraphPlan:
    if horizon > int(f.horizon):
        raise ExportError(
            f"{where} is an RNNForecaster fitted for {f.horizon} steps, fewer than the "
            f"{horizon} to export; fit it with horizon={horizon}"
        )
    width = network_width(f)
    model = f.model_

    def forecast(inputs):
        feed = {"history": inputs["history"][:, -width:], "mask": inputs["mask"][:, -width:]}
        if f.use_position_:
            feed["position"] = inputs["position"]
        out = model(feed, training=False)
        return tf.cast(out, tf.float64)[:, :horizon]

    description = {"class": "RNNForecaster", "width": width, "horizon": int(f.horizon),
                   "log_space": bool(f.log_), "season_position": bool(f.use_position_),
                   "season_length": int(f.season_length)}
    return GraphPlan(forecast, description, [(where, f)])
