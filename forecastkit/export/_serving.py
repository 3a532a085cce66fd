"""What every exported SavedModel shares: the request checks it runs before forecasting and its
two signatures.

The checks are ``tf.debugging`` asserts, so that a bad request fails with an
``InvalidArgumentError`` naming the problem rather than returning NaN or a silently wrong
forecast.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["request_checks", "covariate_checks", "positive_checks", "checked", "finite",
           "signed_module", "network_width", "versions", "POSITION_NOTE"]

# How a client computes the ``position`` input (recorded in every export's metadata).
POSITION_NOTE = (
    "seasonal position of the first forecast step: the pandas Period ordinal of that step "
    "(integer time: t // step) modulo season_length; for monthly data, month - 1"
)

# The networks compute in float32: values beyond this magnitude overflow their window sums
# (forecastkit.forecasters._rnn_setup.MAX_MAGNITUDE, the bound fit and predict enforce).
MAX_MAGNITUDE = 1e30


def request_checks(history, mask, position, season_length: int | None,
                   width: int | None = None, networks: bool = True,
                   gaps: bool = False) -> list:
    """At least one series; ``width`` steps (a loaded concrete function does not enforce the
    signature's width); history finite and, when ``networks`` read it, within float32's
    working range; mask of 0/1, padding on the left, last step observed; position (when
    given) in ``[0, season_length)``. With ``gaps`` (a network that masks missing values),
    the mask may also hold 0 inside a history and at its last step, as long as every history
    has an observed step."""
    checks = [tf.debugging.assert_positive(
        tf.shape(history)[0], message="the request holds no series (batch of 0 histories)"
    )]
    if width is not None:
        for name, tensor in (("history", history), ("mask", mask)):
            checks.append(tf.debugging.assert_equal(
                tf.shape(tensor)[1], width,
                message=f"{name} must have {width} steps (the model's lookback: left-pad "
                f"shorter histories with 0 and mask them, cut longer ones to their last {width})",
            ))
    checks += [
        tf.debugging.assert_all_finite(
            history, "history holds NaN or infinite values; fill them before forecasting "
            "(pad short histories with 0 and use the serve_masked signature)"
        ).op,
        tf.debugging.assert_equal(
            mask * (1.0 - mask), tf.zeros_like(mask), message="mask must hold only 0 and 1"
        ),
    ]
    if gaps:
        checks.append(tf.debugging.assert_positive(
            tf.reduce_max(mask, axis=1),
            message="every history needs an observed step (mask 1 somewhere)",
        ))
    else:
        checks += [
            tf.debugging.assert_greater_equal(
                mask[:, 1:], mask[:, :-1],
                message="mask must be 0 on the left padding and 1 from the first observation "
                        "on",
            ),
            tf.debugging.assert_equal(
                mask[:, -1], tf.ones_like(mask[:, -1]),
                message="the last history step must be observed (mask 1)",
            ),
        ]
    if networks:
        checks.append(tf.debugging.assert_less_equal(
            tf.abs(tf.where(mask > 0, history, tf.zeros_like(history))),
            tf.constant(MAX_MAGNITUDE, history.dtype),
            message=f"history holds values beyond {MAX_MAGNITUDE:g} in size, more than the "
            f"network's float32 arithmetic can carry; divide the data by a constant",
        ))
    if position is not None:
        checks += [
            tf.debugging.assert_non_negative(position, message="position must be >= 0"),
            tf.debugging.assert_less(
                position, tf.constant(season_length, tf.int32),
                message=f"position must be < season_length ({season_length})",
            ),
        ]
    return checks


def covariate_checks(covariates: dict) -> list:
    """Every covariate input finite (a missing covariate must be filled by the client)."""
    return [tf.debugging.assert_all_finite(
        tensor, f"{name} holds NaN or infinite values; covariates must be complete").op
        for name, tensor in covariates.items()]


def positive_checks(history, mask, message: str) -> list:
    """Observed values > 0 (a model working in log space)."""
    observed = tf.where(mask > 0, history, tf.ones_like(history))
    return [tf.debugging.assert_positive(observed, message=message)]


def finite(out, name: str = "forecast"):
    """``out`` once checked finite: a request the model cannot answer fails, never NaN."""
    return tf.debugging.assert_all_finite(
        out, f"the {name} is not finite (values beyond float32, or a member failed on this "
        f"history)"
    )


def checked(checks: list, tensors: dict) -> dict:
    """``tensors`` passed on only once ``checks`` hold."""
    with tf.control_dependencies(checks):
        return {k: tf.identity(v) for k, v in tensors.items()}


def signed_module(forecast, width: int, use_position: bool, variables, covariate_specs=()):
    """A ``tf.Module`` holding ``variables`` and the signatures ``serve`` (also
    ``serving_default``: history [, position] [, covariates]) and ``serve_masked`` (history,
    mask [, position] [, covariates]) over ``forecast(history, mask, position, covariates)
    -> {"forecast": ...}``, ``covariates`` a dict by input name.

    Parameters
    ----------
    covariate_specs : sequence of tf.TensorSpec
        Named covariate inputs (``past_cov``, ``future_cov``, ``static``) of a network fitted
        with covariates; they follow the other inputs in both signatures.

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
    extra = list(covariate_specs)
    names = [spec.name for spec in extra]
    lead = [position_spec] if use_position else []

    def split(rest):
        position = rest[0] if use_position else None
        return position, dict(zip(names, rest[len(lead):], strict=True))

    # "serve" calls the traced "serve_masked" with a mask of ones, so the forecast (a long graph
    # for recursive models) is traced and stored once, not once per signature.
    @tf.function(input_signature=[history_spec, mask_spec, *lead, *extra], autograph=False)
    def serve_masked(history, mask, *rest):
        position, covariates = split(rest)
        return forecast(history, mask, position, covariates)

    @tf.function(input_signature=[history_spec, *lead, *extra], autograph=False)
    def serve(history, *rest):
        return serve_masked(history, tf.ones_like(history), *rest)

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


def versions() -> dict:
    """The library versions an export was written with (recorded in its metadata)."""
    import keras
    import numpy as np

    import forecastkit

    return {"forecastkit": forecastkit.__version__, "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": np.__version__}
