"""What every exported SavedModel shares: the request checks it runs before forecasting and its
two signatures.

The checks are ``tf.debugging`` asserts, so that a bad request fails with an
``InvalidArgumentError`` naming the problem rather than returning NaN or a silently wrong
forecast.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["request_checks", "positive_checks", "checked", "signed_module", "network_width"]


def request_checks(history, mask, position, season_length: int | None) -> list:
    """History finite; mask of 0/1, padding on the left, last step observed; position (when
    given) in ``[0, season_length)``."""
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
    if position is not None:
        checks += [
            tf.debugging.assert_non_negative(position, message="position must be >= 0"),
            tf.debugging.assert_less(
                position, tf.constant(season_length, tf.int32),
                message=f"position must be < season_length ({season_length})",
            ),
        ]
    return checks


def positive_checks(history, mask, message: str) -> list:
    """Observed values > 0 (a model working in log space)."""
    observed = tf.where(mask > 0, history, tf.ones_like(history))
    return [tf.debugging.assert_positive(observed, message=message)]


def checked(checks: list, tensors: dict) -> dict:
    """``tensors`` passed on only once ``checks`` hold."""
    with tf.control_dependencies(checks):
        return {k: tf.identity(v) for k, v in tensors.items()}


def signed_module(forecast, width: int, use_position: bool, variables):
    """A ``tf.Module`` holding ``variables`` and the signatures ``serve`` (also
    ``serving_default``: history [, position]) and ``serve_masked`` (history, mask
    [, position]) over ``forecast(history, mask, position) -> {"forecast": ...}``.

    Returns the module and its signatures (concrete functions by signature name).
    """
    history_spec = tf.TensorSpec([None, width], tf.float32, name="history")
    mask_spec = tf.TensorSpec([None, width], tf.float32, name="mask")
    position_spec = tf.TensorSpec([None], tf.int32, name="position")
    module = tf.Module(name="forecastkit_export")
    # Track the tf.Variables the functions capture, not the Keras models: a Keras model tracked
    # here writes copies of its variables, which TF2 Python loads but TensorFlow Serving and
    # `saved_model_cli run` (graph-mode loaders) do not find ("Could not find variable ...").
    # Keras' ExportArchive does the same.
    module.model_variables = [getattr(v, "value", v) for v in variables]
    # "serve" calls the traced "serve_masked" with a mask of ones, so the forecast (a long graph
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


def network_width(forecaster) -> int:
    """Width of a fitted RNNForecaster's serving ``history`` input (the longest lookback, or
    longer when the normaliser reads more history than the networks do)."""
    for tensor in forecaster.model_.inputs:
        if tensor.name == "history":
            return int(tensor.shape[1])
    return int(max(forecaster.lookbacks_))
