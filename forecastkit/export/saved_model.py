"""Export a fitted forecaster as a TensorFlow SavedModel.

This module's docstring describes the export of an
:class:`~forecastkit.forecasters.rnn.RNNForecaster`. Combinations and classical baselines are
exported by :mod:`forecastkit.export._graph_export` with the same layout, signatures and checks;
their classical members fit themselves in the graph on the whole history, which is as wide as
the longest training series.

The SavedModel wraps the forecaster's serving model (``model_``), the very Keras model that
``predict`` runs: per-window normalisation, every ensemble member, the recursive or seq2seq loop,
the inverse normalisation, the ensemble median and the ``floor`` (if any) are all in the graph.
A client sends raw recent history in the original units and gets forecasts in the original
units, with only TensorFlow installed (or TensorFlow Serving).

Layout (what TensorFlow Serving expects)::

    path/<version>/saved_model.pb
    path/<version>/variables/...
    path/<version>/assets/forecastkit.json      lookback, horizon, season length, frequency,
                                                 model parameters, versions, input names

Signatures (``L`` is the width of the serving model's history: the longest lookback of the
members, or the longer window the normaliser reads when it deseasonalises; ``H`` the horizon):

``serve`` (also ``serving_default``)
    ``history`` float32 ``[batch, L]``: the last ``L`` values of each series, oldest first;
    ``position`` int32 ``[batch]`` only when seasonal positions are on: the seasonal position
    (``0 .. season_length - 1``) of the first forecast step.
    Output ``forecast`` float32 ``[batch, H]``.
``serve_masked``
    The same plus ``mask`` float32 ``[batch, L]`` for histories shorter than ``L``: put the
    values at the right end of ``history``, pad the left with any finite number (0) and set
    ``mask`` to 1 where observed, 0 on the padding.

With ``quantiles=[...]`` at export, a probabilistic network's signatures also return
``quantiles`` float32 ``[batch, H, n_levels]`` at those levels (``assets/forecastkit.json``,
``quantile_levels``).

Checks inside the served function (``tf.debugging`` asserts, so a bad request fails with an
``InvalidArgumentError`` naming the problem rather than returning NaN): at least one series;
``history`` and ``mask`` ``L`` steps wide (stated with the expected width); ``history`` finite,
within float32's working range and positive where observed when the model works in log space;
``mask`` of 0/1 with the padding on the left and the last step observed; ``position`` in range;
the output finite. A wrong dtype is rejected by the signature itself.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from forecastkit.exceptions import ExportError

__all__ = ["export_saved_model", "METADATA_FILE"]

METADATA_FILE = "forecastkit.json"
_FORMAT = "forecastkit.saved_model"
_FORMAT_VERSION = 1


def export_saved_model(forecaster, path, version: int = 1, *, overwrite: bool = False,
                       quantiles=None) -> Path:
    """Write ``forecaster`` as a TensorFlow SavedModel at ``path/<version>/``.

    Parameters
    ----------
    forecaster : BaseForecaster
        A fitted RNNForecaster (any cell, stack, direction, strategy or ensemble); or a fitted
        Combination, ValidatedCombination or classical baseline whose members are
        RNNForecasters and baselines other than ETS and ARIMA: the classical members are
        fitted inside the graph on the histories the client sends (see
        :mod:`forecastkit.export._graph_export`).
    path : str or os.PathLike
        Model base folder (TensorFlow Serving's ``model_base_path``).
    version : int
        Version sub-folder; TensorFlow Serving serves the highest.
    overwrite : bool
        Replace an existing ``path/<version>/``; otherwise that is an error.
    quantiles : sequence of float, optional
        Levels in (0, 1) for a probabilistic RNNForecaster (quantile or distribution head,
        direct or seq2seq strategy): the signatures also return ``quantiles`` float32
        ``[batch, H, n_levels]`` at these levels (sorted; recorded in
        ``assets/forecastkit.json``), equal to ``predict(quantiles=...)``.

    Returns
    -------
    pathlib.Path
        The version folder written.

    Raises
    ------
    ExportError
        The forecaster is not fitted, holds a member that cannot be computed inside a graph
        (named in the message), the version is invalid or already exists, or the folder cannot
        be written.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from forecastkit.forecasters.base import BaseForecaster
    from forecastkit.forecasters.rnn import RNNForecaster

    if not isinstance(forecaster, BaseForecaster):
        raise ExportError(
            f"export_saved_model needs a fitted forecastkit forecaster (an RNNForecaster, a "
            f"classical baseline or a combination of them), got {type(forecaster).__name__}"
        )
    try:
        check_is_fitted(forecaster)
    except NotFittedError:
        raise ExportError("export_saved_model needs a fitted forecaster; call fit first") from None
    if isinstance(version, bool) or not isinstance(version, int | np.integer) or version < 1:
        raise ExportError(f"version must be a positive integer, got {version!r}")
    target = Path(os.fspath(path)) / str(int(version))
    if target.exists() and not overwrite:
        raise ExportError(f"{target} already exists; pass overwrite=True or a new version")

    import tensorflow as tf

    # Built before anything is touched on disk: a forecaster that cannot be exported leaves an
    # earlier version in place.
    levels = _export_levels(forecaster, quantiles)
    if isinstance(forecaster, RNNForecaster):
        metadata = export_metadata(forecaster, levels)
        module, signatures = _build_module(forecaster, metadata, levels)
    else:
        from forecastkit.export._graph_export import graph_export

        module, signatures, metadata = graph_export(
            forecaster, {"format": _FORMAT, "format_version": _FORMAT_VERSION}
        )
    # Write next to the target and rename, so an interrupted export leaves no half version that
    # TensorFlow Serving would pick up as the newest.
    staging = target.with_name(f".{target.name}.partial")
    try:
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
    except OSError as err:
        raise ExportError(f"cannot write the SavedModel under {target.parent}: {err}") from None
    try:
        # Serving needs no gradients; saving custom ones fails on the fused loops' captures.
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(staging / "model"), signatures=signatures,
                            options=options)
        assets = staging / "model" / "assets"
        assets.mkdir(exist_ok=True)
        (assets / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / "model", target)
    except Exception as err:
        raise ExportError(f"could not write the SavedModel to {target}: {err}") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _export_levels(forecaster, quantiles):
    """The sorted quantile levels to serve, or None; ExportError for a model that cannot."""
    from forecastkit.exceptions import ForecastkitError
    from forecastkit.forecasters._probabilistic import check_levels
    from forecastkit.forecasters._rnn_setup import head_of
    from forecastkit.forecasters.rnn import RNNForecaster

    if quantiles is None:
        return None
    try:
        levels = check_levels(quantiles)
    except ForecastkitError as err:
        raise ExportError(str(err)) from None
    name = type(forecaster).__name__
    if not isinstance(forecaster, RNNForecaster) or not forecaster.supports_quantiles:
        raise ExportError(
            f"{name} cannot serve quantiles: export a probabilistic RNNForecaster "
            f"(loss='quantile' or a distribution) or leave quantiles out"
        )
    if forecaster.strategy == "recursive":
        raise ExportError(
            "a recursive network's quantiles come from sampling paths, which a SavedModel does "
            "not serve; export a direct or seq2seq probabilistic network for served quantiles"
        )
    try:
        head_of(forecaster).check_levels(levels)
    except ForecastkitError as err:
        raise ExportError(str(err)) from None
    return levels


def export_metadata(forecaster, levels=None) -> dict:
    """The JSON record stored in ``assets/forecastkit.json`` of an export."""
    from forecastkit.export._serving import POSITION_NOTE, versions

    f = forecaster
    panel = f.panel_
    lookback = history_length(f)
    inputs = {"history": {"dtype": "float32", "shape": [None, lookback]}}
    masked = {**inputs, "mask": {"dtype": "float32", "shape": [None, lookback]}}
    if f.use_position_:
        inputs["position"] = {"dtype": "int32", "shape": [None]}
        masked["position"] = {"dtype": "int32", "shape": [None]}
    for name, shape in _covariate_shapes(f).items():
        inputs[name] = masked[name] = {"dtype": "float32", "shape": [None, *shape[1:]]}
    output = {"forecast": {"dtype": "float32", "shape": [None, int(f.horizon)]}}
    if levels is not None:
        output["quantiles"] = {"dtype": "float32",
                               "shape": [None, int(f.horizon), len(levels)]}
    return {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "forecaster": type(f).__name__,
        "lookback": lookback,  # width of the history input
        "member_lookbacks": [int(v) for v in f.lookbacks_],
        "horizon": int(f.horizon),
        "season_length": int(f.season_length),
        "frequency": panel.freq.freqstr if panel.freq is not None else None,
        "index_kind": panel.index_kind,
        "integer_step": int(panel.step),
        "log_space": bool(f.log_),
        "deseasonalize": bool(getattr(f, "deseasonalize_", False)),
        "season_position": bool(f.use_position_),
        "position": POSITION_NOTE if f.use_position_ else None,
        # "mask": serve_masked takes 0 in the mask (and history) at missing values anywhere
        "missing": f.missing,
        "model": _describe_params({**f.get_params(deep=False), "callbacks": None}),
        "quantile_levels": None if levels is None else [float(v) for v in levels],
        "covariates": _covariate_metadata(f),
        "signatures": {
            "serve": {"inputs": inputs, "outputs": output},
            "serve_masked": {"inputs": masked, "outputs": output},
        },
        "versions": versions(),
    }


def _describe_params(params: dict) -> dict:
    """Parameters as JSON; one with no JSON form (a RandomState) is recorded by its repr."""
    from forecastkit.forecasters._saving import jsonable_params

    out = {}
    for key, value in params.items():
        try:
            out.update(jsonable_params({key: value}))
        except ValueError:
            out[key] = repr(value)
    return out


def history_length(forecaster) -> int:
    """Width of the serving model's ``history`` input (the longest lookback, or longer when the
    normaliser reads more history than the networks do)."""
    from forecastkit.export._serving import network_width

    return network_width(forecaster)


def _build_module(forecaster, metadata: dict, levels=None):
    """A ``tf.Module`` with the serving model's variables and its two checked, signed functions.

    Returns the module and its signatures (concrete functions by signature name).
    """
    import tensorflow as tf

    from forecastkit.export._serving import (
        checked,
        covariate_checks,
        finite,
        positive_checks,
        request_checks,
        signed_module,
    )

    model = forecaster.model_
    if levels is not None:
        model = forecaster._serving_model(int(forecaster.horizon), levels=levels)
    lookback = metadata["lookback"]
    season_length = metadata["season_length"]
    log_space = metadata["log_space"]
    use_position = metadata["season_position"]
    horizon = metadata["horizon"]

    def forecast(history, mask, position, covariates):
        checks = request_checks(history, mask, position if use_position else None,
                                season_length, lookback, gaps=metadata["missing"] == "mask")
        checks += covariate_checks(covariates)
        if log_space:
            checks += positive_checks(
                history, mask,
                "this model works in log space: observed history values must be > 0",
            )
        inputs = {"history": history, "mask": mask, **covariates}
        if use_position:
            inputs["position"] = position
        inputs = checked(checks, inputs)
        out = model(inputs, training=False)
        q = None
        if levels is not None:
            out, q = out["forecast"], out["quantiles"]
        # The ensemble median loses the static horizon; the signature should state it.
        served = {"forecast": tf.ensure_shape(finite(tf.cast(out, tf.float32)), [None, horizon])}
        if q is not None:
            q = finite(tf.cast(q, tf.float32), "quantiles")
            served["quantiles"] = tf.ensure_shape(q, [None, horizon, len(levels)])
        return served

    specs = [tf.TensorSpec([None, *shape[1:]], tf.float32, name=name)
             for name, shape in _covariate_shapes(forecaster).items()]
    return signed_module(forecast, lookback, use_position, model.variables, specs)


def _covariate_shapes(forecaster) -> dict:
    """Covariate inputs of the serving model by name: shapes with a None batch."""
    names = ("past_cov", "future_cov", "static")
    return {t.name: list(t.shape) for t in forecaster.model_.inputs if t.name in names}


def _covariate_metadata(forecaster) -> dict | None:
    """Names, order and scaling of the covariate inputs (None without covariates)."""
    layout = getattr(forecaster, "covariate_layout_", None)
    spec = getattr(forecaster, "covariate_spec_", None)
    if layout is None or spec is None:
        return None
    names = {"past_cov": spec.past_names, "future_cov": spec.future_names,
             "static": spec.static_names}
    kinds = {"past_cov": "past", "future_cov": "future", "static": "static"}
    inputs = {}
    for name in _covariate_shapes(forecaster):
        mean, std = layout[kinds[name]]
        inputs[name] = {"columns": names[name], "mean": mean, "std": std}
    return {
        "spec": spec.to_dict(),
        "inputs": inputs,
        "note": "past_cov: the covariates of the history steps, aligned with history (0 where "
                "padded); future_cov: the future-known covariates of the horizon steps; "
                "static: numeric statics then one-hot categories. Send them in original units: "
                "the model scales them with mean and std.",
    }
