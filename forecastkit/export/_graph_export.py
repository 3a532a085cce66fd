"""The SavedModel of a combination (or of a classical baseline): every member in one graph.

The classical members fit themselves inside the graph on the whole history the client sends
(Theta's trend regression and the smoothing recursions start at a series' first observation),
so the history input is as wide as the longest training series (or a network member's window,
if wider): clients left-pad shorter histories and mark the padding with ``mask`` (the
``serve_masked`` signature), and cut longer ones to their last ``lookback`` steps. A network
member reads the last steps it needs. The width, the members and how each is computed are
recorded in ``assets/forecastkit.json``.
"""

from __future__ import annotations

import tensorflow as tf

from forecastkit.exceptions import ExportError
from forecastkit.export._member_graph import graph_plan
from forecastkit.export._serving import (
    POSITION_NOTE,
    checked,
    finite,
    network_width,
    positive_checks,
    request_checks,
    signed_module,
    versions,
)

__all__ = ["graph_export"]


def graph_export(forecaster, format_marker: dict):
    """Module, signatures and metadata of a fitted forecaster that is not an RNNForecaster.

    Parameters
    ----------
    forecaster : BaseForecaster
        Fitted; a Combination, a ValidatedCombination or a classical baseline whose members can
        all go into the graph (see :mod:`._member_graph`).
    format_marker : dict
        ``format`` and ``format_version`` of the export's metadata.

    Raises
    ------
    ExportError
        A member that cannot go into the graph (named), or network members that read seasonal
        positions of different season lengths.
    """
    horizon = int(forecaster._check_horizon(None))
    plan = graph_plan(forecaster, horizon)
    panel = forecaster.panel_
    widths = [network_width(f) for _, f in plan.networks]
    width = max([int(panel.lengths.max()), *widths])
    seasons = {int(f.season_length) for _, f in plan.networks if f.use_position_}
    if len(seasons) > 1:
        raise ExportError(
            f"the network members read seasonal positions of different season lengths "
            f"{sorted(seasons)}; one position input cannot serve them all"
        )
    season = seasons.pop() if seasons else None
    logs = [(where, w) for (where, f), w in zip(plan.networks, widths, strict=True) if f.log_]

    def forecast(history, mask, position, covariates):
        checks = request_checks(history, mask, position if season else None, season, width,
                                networks=bool(plan.networks))
        for where, w in logs:
            checks += positive_checks(
                history[:, -w:], mask[:, -w:],
                f"{where} works in log space: the observed values of the last {w} history "
                f"steps must be > 0",
            )
        inputs = checked(checks, {"history": history, "mask": mask,
                                  **({"position": position} if season else {})})
        inputs.setdefault("position", None)
        inputs["history64"] = tf.cast(inputs["history"], tf.float64)
        inputs["mask64"] = tf.cast(inputs["mask"], tf.float64)
        out = finite(tf.cast(plan.forecast(inputs), tf.float32))
        return {"forecast": tf.ensure_shape(out, [None, horizon])}

    variables = [v for _, f in plan.networks for v in f.model_.variables]
    module, signatures = signed_module(forecast, width, season is not None, variables)
    metadata = _metadata(forecaster, plan, width, horizon, season, format_marker)
    return module, signatures, metadata


def _metadata(forecaster, plan, width: int, horizon: int, season, format_marker: dict) -> dict:


    panel = forecaster.panel_
    inputs = {"history": {"dtype": "float32", "shape": [None, width]}}
    masked = {**inputs, "mask": {"dtype": "float32", "shape": [None, width]}}
    if season:
        inputs["position"] = {"dtype": "int32", "shape": [None]}
        masked["position"] = {"dtype": "int32", "shape": [None]}
    output = {"forecast": {"dtype": "float32", "shape": [None, horizon]}}
    return {
        **format_marker,
        "forecaster": type(forecaster).__name__,
        "lookback": width,  # width of the history input
        "history": (
            "the whole history of each series, oldest first, at most lookback steps: the "
            "classical members fit themselves on it. Shorter histories: values at the right "
            "end, 0 on the left, mask 1 where observed (serve_masked). Longer ones: the last "
            "lookback steps (the forecast is then that of predict(y=...) on the cut history)"
        ),
        "training_lengths": {"min": int(panel.lengths.min()), "max": int(panel.lengths.max())},
        "horizon": horizon,
        "season_length": season,
        "frequency": panel.freq.freqstr if panel.freq is not None else None,
        "index_kind": panel.index_kind,
        "integer_step": int(panel.step),
        "season_position": season is not None,
        "position": POSITION_NOTE if season else None,
        "graph": plan.description,
        "model": _describe(forecaster),
        "signatures": {
            "serve": {"inputs": inputs, "outputs": output},
            "serve_masked": {"inputs": masked, "outputs": output},
        },
        "versions": versions(),
    }


def _describe(forecaster) -> dict:
    """The forecaster's parameters as JSON, members included (as a save writes them); with a
    parameter that has no JSON form, their reprs."""
    from forecastkit.exceptions import PersistenceError

    try:
        return forecaster._saved_params(None)
    except PersistenceError:
        return {k: repr(v) for k, v in forecaster.get_params(deep=False).items()}
