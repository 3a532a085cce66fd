"""Export a fitted :class:`~forecastkit.forecasters.rnn.RNNForecaster` as a TensorFlow SavedModel.

The SavedModel wraps the forecaster's serving model (``model_``), the very Keras model that
``predict`` runs: per-window normalisation, every ensemble member, the recursive or seq2seq loop,
the inverse normalisation and the ensemble median are all in the graph. A client sends raw recent
history in the original units and gets forecasts in the original units, with only TensorFlow
installed (or TensorFlow Serving).

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

Checks inside the served function (``tf.debugging`` asserts, so a bad request fails with an
``InvalidArgumentError`` naming the problem rather than returning NaN): ``history`` finite,
positive where observed when the model works in log space, ``mask`` of 0/1 with the padding on
the left and the last step observed, ``position`` in range. A wrong shape or dtype is rejected
by the signature itself.
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


def export_saved_model(forecaster, path, version: int = 1, *, overwrite: bool = False) -> Path:
    """Write ``forecaster`` as a TensorFlow SavedModel at ``path/<version>/``.

    Parameters
    ----------
    forecaster : RNNForecaster
        A fitted recurrent forecaster (any cell, stack, direction, strategy or ensemble).
    path : str or os.PathLike
        Model base folder (TensorFlow Serving's ``model_base_path``).
    version : int
        Version sub-folder; TensorFlow Serving serves the highest.
    overwrite : bool
        Replace an existing ``path/<version>/``; otherwise that is an error.

    Returns
    -------
    pathlib.Path
        The version folder written.

    Raises
    ------
    ExportError
        The forecaster is not a fitted RNNForecaster, the version is invalid or already exists.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from forecastkit.forecasters.rnn import RNNForecaster

    if not isinstance(forecaster, RNNForecaster):
        raise ExportError(
            f"export_saved_model needs a fitted RNNForecaster, got {type(forecaster).__name__}; "
            f"classical baselines are saved with forecaster.save(path) instead"
        )
    try:
        check_is_fitted(forecaster)
    except NotFittedError:
        raise ExportError("export_saved_model needs a fitted forecaster; call fit first") from None
    if isinstance(version, bool) or not isinstance(version, int | np.integer) or version < 1:
        raise ExportError(f"version must be a positive integer, got {version!r}")
    target = Path(os.fspath(path)) / str(int(version))
    if target.exists():
        if not overwrite:
            raise ExportError(f"{target} already exists; pass overwrite=True or a new version")
        shutil.rmtree(target)

    import tensorflow as tf

    metadata = export_metadata(forecaster)
    module, signatures = _build_module(forecaster, metadata)
    # Write next to the target and rename, so an interrupted export leaves no half version that
    # TensorFlow Serving would pick up as the newest.
    staging = target.with_name(f".{target.name}.partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        # Serving needs no gradients; saving custom ones fails on the fused loops' captures.
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(staging / "model"), signatures=signatures,
                            options=options)
        assets = staging / "model" / "assets"
        assets.mkdir(exist_ok=True)
        (assets / METADATA_FILE).write_text(json.dumps(metadata, indent=2))
        os.replace(staging / "model", target)
    except Exception as err:
        raise ExportError(f"could not write the SavedModel to {target}: {err}") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def export_metadata(forecaster) -> dict:
    """The JSON record stored in ``assets/forecastkit.json`` of an export."""
    import keras
    import tensorflow as tf

    import forecastkit

    f = forecaster
    panel = f.panel_
    lookback = history_length(f)
    inputs = {"history": {"dtype": "float32", "shape": [None, lookback]}}
    masked = {**inputs, "mask": {"dtype": "float32", "shape": [None, lookback]}}
    if f.use_position_:
        inputs["position"] = {"dtype": "int32", "shape": [None]}
        masked["position"] = {"dtype": "int32", "shape": [None]}
    output = {"forecast": {"dtype": "float32", "shape": [None, int(f.horizon)]}}
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
        "position": (
            "seasonal position of the first forecast step: the pandas Period ordinal of that "
            "step (integer time: t // step) modulo season_length; for monthly data, month - 1"
            if f.use_position_
            else None
        ),
        "model": _describe_params(f.get_params(deep=False)),
        "signatures": {
            "serve": {"inputs": inputs, "outputs": output},
            "serve_masked": {"inputs": masked, "outputs": output},
        },
        "versions": {
            "forecastkit": forecastkit.__version__,
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
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
    for tensor in forecaster.model_.inputs:
        if tensor.name == "history":
            return int(tensor.shape[1])
    return int(max(forecaster.lookbacks_))


def _build_module(forecaster, metadata: dict):
    """A ``tf.Module`` with the serving model's variables and its two checked, signed functions.

    Returns the module and its signatures (concrete functions by signature name).
    """
    import tensorflow as tf

    model = forecaster.model_
    lookback = metadata["lookback"]
    season_length = metadata["season_length"]
    log_space = metadata["log_space"]
    use_position = metadata["season_position"]
    horizon = metadata["horizon"]

    def forecast(history, mask, position):
        checks = [
            tf.debugging.assert_all_finite(
                history, "history holds NaN or infinite values; fill them before forecasting "
                "(pad short histories with 0 and use the serve_masked signature)"
            ).op,
            tf.debugging.assert_equal(
                mask * (1.0 - mask), tf.zeros_like(mask), message="mask must hold only 0 and 1"
            ),
            tf.debugging.assert_greater_equal(
                mask[:, 1:], mask[:, :-1],
                message="mask must be 0 on the left padding and 1 from the first observation on",
            ),
            tf.debugging.assert_equal(
                mask[:, -1], tf.ones_like(mask[:, -1]),
                message="the last history step must be observed (mask 1)",
            ),
        ]
        if log_space:
            observed = tf.where(mask > 0, history, tf.ones_like(history))
            checks.append(
                tf.debugging.assert_positive(
                    observed,
                    message="this model works in log space: observed history values must be > 0",
                )
            )
        inputs = {"history": history, "mask": mask}
        if use_position:
            checks += [
                tf.debugging.assert_non_negative(position, message="position must be >= 0"),
                tf.debugging.assert_less(
                    position, tf.constant(season_length, tf.int32),
                    message=f"position must be < season_length ({season_length})",
                ),
            ]
            inputs["position"] = position
        with tf.control_dependencies(checks):
            inputs = {k: tf.identity(v) for k, v in inputs.items()}
        out = model(inputs, training=False)
        # The ensemble median loses the static horizon; the signature should state it.
        out = tf.ensure_shape(tf.cast(out, tf.float32), [None, horizon])
        return {"forecast": out}

    history_spec = tf.TensorSpec([None, lookback], tf.float32, name="history")
    mask_spec = tf.TensorSpec([None, lookback], tf.float32, name="mask")
    position_spec = tf.TensorSpec([None], tf.int32, name="position")
    module = tf.Module(name="forecastkit_export")
    # Track the tf.Variables the functions capture, not the Keras model: a Keras model tracked
    # here writes copies of its variables, which TF2 Python loads but TensorFlow Serving and
    # `saved_model_cli run` (graph-mode loaders) do not find ("Could not find variable ...").
    # Keras' ExportArchive does the same.
    module.model_variables = [getattr(v, "value", v) for v in model.variables]
    # "serve" calls the traced "serve_masked" with a mask of ones, so the network (a long graph
    # for recursive models) is traced and stored once, not once per signature.
    if use_position:

        @tf.function(input_signature=[history_spec, mask_spec, position_spec], autograph=False)
        def serve_masked(history, mask, position):
            return forecast(history, mask, position)

        @tf.function(input_signature=[history_spec, position_spec], autograph=False)
        def serve(history, position):
            return serve_masked(history, tf.ones_like(history), position)

    else:

        @tf.function(input_signature=[history_spec, mask_spec], autograph=False)
        def serve_masked(history, mask):
            return forecast(history, mask, None)

        @tf.function(input_signature=[history_spec], autograph=False)
        def serve(history):
            return serve_masked(history, tf.ones_like(history))

    # The functions are published as signatures only: tracked as module attributes, they would
    # be traced again for serialisation (seconds for a recursive ensemble).
    serve_fn = serve.get_concrete_function()
    signatures = {
        "serving_default": serve_fn,
        "serve": serve_fn,
        "serve_masked": serve_masked.get_concrete_function(),
    }
    return module, signatures
