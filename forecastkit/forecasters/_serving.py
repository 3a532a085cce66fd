"""The serving model of :class:`~forecastkit.forecasters.rnn.RNNForecaster`: raw history in the
original units -> forecast in the original units.

It normalises each window, runs every ensemble member (:mod:`forecastkit.forecasters._network`),
undoes the normalisation, takes the median and, with ``floor=``, raises it to each series'
bound (:mod:`forecastkit.forecasters._floor`). ``RNNForecaster.predict`` runs this very model
and the SavedModel export wraps it, so the two cannot disagree. A recursive member is looped
here, in the graph: each one-step forecast is fed back (with, under covariates, that step's
future-known values).
"""

from __future__ import annotations

import keras
from keras import ops

from forecastkit.data.normalization import ForecastDenormalizer, WindowNormalizer
from forecastkit.forecasters._floor import ForecastFloor

__all__ = ["build_serving_model", "serving_model_of", "serve_batch",
           "recursive_step_covariates", "advance_past_covariates"]


def build_serving_model(
    members: list[keras.Model],
    lookbacks: list[int],
    *,
    window: int,
    horizon: int,
    normalizer_config: dict,
    strategy: str,
    use_position: bool,
    head=None,
    levels=None,
    covariate_dims: tuple[int, int, int] = (0, 0, 0),
    floor: dict | None = None,
) -> keras.Model:
    """Raw history (and mask, and seasonal position) -> forecasts of the ensemble.

    Every window is normalised once over its full length, with the same layer the training
    pipeline maps over its batches; each member then reads its last ``lookback`` steps.

    Inputs: ``history`` (batch, window) float32 in original units, left padded;
    ``mask`` (batch, window) float32, 1 where observed; ``position`` (batch,) int32, the
    seasonal position of the first forecast step (only when ``use_position``); with
    ``covariate_dims`` ``(n_past, n_future, n_static)``: ``past_cov`` (batch, window, n_past)
    aligned with ``history`` (0 where padded), ``future_cov`` (batch, horizon, n_future) and
    ``static`` (batch, n_static), in original units (the members scale them).
    Output: ``forecast`` (batch, horizon) in original units, the median over members of each
    member's median forecast. With ``levels`` (a probabilistic ``head``, direct or seq2seq),
    outputs ``{"forecast", "quantiles"}``, ``quantiles`` of shape (batch, horizon, n_levels):
    each member's quantiles at ``levels``, averaged over members (averaging quantile functions).
    With ``floor`` (the arguments of :class:`~forecastkit.forecasters._floor.ForecastFloor`),
    the forecast and the quantiles are raised to each series' bound last, after the median
    and the average (a recursive network feeds back its forecasts as they were before).
    """
    history = keras.Input((window,), name="history")
    mask = keras.Input((window,), name="mask")
    inputs = {"history": history, "mask": mask}
    position = None
    if use_position:
        position = keras.Input((), dtype="int32", name="position")
        inputs["position"] = position
    n_past, n_future, n_static = covariate_dims
    extra = {}
    if n_past:
        extra["past_cov"] = keras.Input((window, n_past), name="past_cov")
    if n_future:
        extra["future_cov"] = keras.Input((horizon, n_future), name="future_cov")
    if n_static:
        extra["static"] = keras.Input((n_static,), name="static")
    inputs.update(extra)
    normalizer = WindowNormalizer(**{**normalizer_config, "horizon": horizon}, name="normalizer")
    denorm = ForecastDenormalizer(log=normalizer.log, name="denormalizer")
    probabilistic = head is not None and head.probabilistic
    forecasts, quantiles = [], []
    for member, lb in zip(members, lookbacks, strict=True):
        if strategy == "recursive":
            forecasts.append(_recursive_loop(member, normalizer, denorm, history, mask,
                                             position, horizon, lb, head, extra))
            continue
        z, level, scale, seasonal = normalizer([history, mask])
        params = member(_member_inputs(z, mask, position, lb, extra))
        z_pred = head.median(params) if probabilistic else params
        forecasts.append(denorm([z_pred, level, scale, seasonal]))
        if levels is not None:
            q = head.quantiles(params, levels, df=_degrees_of_freedom(member, head))
            quantiles.append(denorm([q, level, scale, seasonal]))
    if len(forecasts) == 1:
        out = forecasts[0]
    else:
        out = ops.median(ops.stack(forecasts, axis=0), axis=0)
    bounded = None if floor is None else ForecastFloor(**floor, name="floor")
    if bounded is not None:
        out = bounded([out, history, mask])
    out = keras.layers.Identity(name="forecast")(out)
    if levels is None:
        return keras.Model(inputs, out, name="forecastkit_serving")
    q_out = quantiles[0] if len(quantiles) == 1 else ops.mean(ops.stack(quantiles, 0), axis=0)
    if bounded is not None:
        q_out = bounded([q_out, history, mask])
    q_out = keras.layers.Identity(name="quantiles")(q_out)
    return keras.Model(inputs, {"forecast": out, "quantiles": q_out}, name="forecastkit_serving")


def serving_model_of(f, horizon: int, levels=None) -> keras.Model:
    """:func:`build_serving_model` for a fitted RNNForecaster ``f``.

    Parameters
    ----------
    f : RNNForecaster
        Fitted (its members, their lookbacks, the normaliser and the ``floor_`` fixed at fit).
    horizon : int
        Steps the model forecasts.
    levels : array of float, optional
        Quantile levels to output beside the forecast (a probabilistic head).

    Returns
    -------
    keras.Model
    """
    from forecastkit.forecasters._network import CovariateLayout
    from forecastkit.forecasters._rnn_setup import head_of

    return build_serving_model(
        f.members_,
        f.lookbacks_,
        window=f.window_,
        horizon=horizon,
        normalizer_config=f.normalizer_config_,
        strategy=f.strategy,
        use_position=f.use_position_,
        head=head_of(f),
        levels=levels,
        covariate_dims=CovariateLayout.from_dict(f.covariate_layout_).dims,
        floor=f.floor_,
    )


def serve_batch(model, inputs):
    """The serving model's output for one batch of series.

    ``predict_on_batch`` (one compiled call) for a model used without a ``tf.distribute``
    strategy. A model built under a strategy of several replicas (``RNNForecaster.fit`` called
    inside ``strategy.scope()``) is called directly instead: Keras' ``predict_on_batch`` hands
    the whole batch to every replica and concatenates their outputs, so each series would come
    back once per replica.
    """
    if model.distribute_strategy.num_replicas_in_sync > 1:
        return model(inputs, training=False)
    return model.predict_on_batch(inputs)


def _degrees_of_freedom(member, head) -> float | None:
    if head.kind != "student_t":
        return None
    return member.get_layer("distribution").degrees_of_freedom()


def _member_inputs(z, mask, position, lookback: int, covariates: dict | None = None) -> dict:
    window = z.shape[1]
    out = {"z": z[:, window - lookback :], "mask": mask[:, window - lookback :]}
    if position is not None:
        out["position"] = position
    for key, tensor in (covariates or {}).items():
        out[key] = tensor[:, window - lookback :] if key == "past_cov" else tensor
    return out


def recursive_step_covariates(covariates: dict, k: int) -> dict:
    """A recursive member's covariate inputs for forecast step ``k``: its past window as it
    stands and step ``k`` of ``future_cov``."""
    out = dict(covariates)
    if "future_cov" in out:
        out["future_cov"] = out["future_cov"][:, k : k + 1]
    return out


def advance_past_covariates(covariates: dict, k: int) -> dict:
    """The covariates after forecast step ``k`` joins the history: the past window drops its
    oldest step and appends step ``k`` of the future-known ones (a recursive network reads
    only those, so the two hold the same columns in the same order)."""
    if "past_cov" not in covariates:
        return covariates
    past, future = covariates["past_cov"], covariates["future_cov"]
    return {**covariates,
            "past_cov": ops.concatenate([past[:, 1:], future[:, k : k + 1]], axis=1)}


def _recursive_loop(member, normalizer, denorm, h, m, position, horizon, lookback, head=None,
                    covariates: dict | None = None):
    """Feed one-step forecasts (medians) back ``horizon`` times; the window is re-normalised
    each step, exactly as the training windows were, and with covariates its past window
    moves on with the future-known values of each step fed back."""
    steps, covariates = [], covariates or {}
    for k in range(horizon):
        z, level, scale, seasonal = normalizer([h, m])
        pos_k = None if position is None else position + k
        z_pred = member(_member_inputs(z, m, pos_k, lookback,
                                       recursive_step_covariates(covariates, k)))
        if head is not None and head.probabilistic:
            z_pred = head.median(z_pred)
        y = denorm([z_pred, level, scale, seasonal])
        steps.append(y)
        h = ops.concatenate([h[:, 1:], y], axis=1)
        m = ops.concatenate([m[:, 1:], ops.ones_like(y)], axis=1)
        covariates = advance_past_covariates(covariates, k)
    return ops.concatenate(steps, axis=1)
