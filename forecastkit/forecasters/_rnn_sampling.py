"""Quantiles and sample paths of a probabilistic RNNForecaster.

Direct and seq2seq networks emit every step's distribution at once: their quantiles come from a
serving model built for the asked levels (the same graph ``export_saved_model`` ships). A
recursive network emits one step; its joint paths are drawn the way a sequence model generates
text: sample the next value from the network's own predicted distribution, append it to the
history, re-normalise and repeat. Paths are spread over the ensemble's members (path ``j`` is
drawn by member ``j mod n_models``: pooling the members' samples), and seeded: the same seed gives
the same paths in any process (TensorFlow's stateless random ops).
"""

from __future__ import annotations

import numpy as np

from forecastkit.data.frames import Panel
from forecastkit.forecasters.base import BaseForecaster

__all__ = ["RNNProbabilisticMixin", "predict_quantiles", "sample_paths"]

# Rows (series x paths) a path-sampling batch holds: bounds memory whatever the panel size.
_ROWS_PER_BATCH = 16_384


def predict_quantiles(f, panel: Panel, horizon: int, levels: np.ndarray) -> np.ndarray:
    """(n_series, horizon, n_levels) from the quantile serving model (direct, seq2seq)."""
    from forecastkit.forecasters._rnn_setup import head_of
    from forecastkit.forecasters._serving import serve_batch

    head = head_of(f)
    head.check_levels(levels)
    model = f._serving_model(int(f.horizon), levels=levels)
    out = []
    for a in range(0, panel.n_series, 1024):
        inputs = f.serving_inputs(panel, slice(a, a + 1024))
        out.append(np.asarray(serve_batch(model, inputs)["quantiles"]))
    return np.concatenate(out).astype(np.float64)[:, :horizon]


def sample_paths(f, panel: Panel, horizon: int, n_paths: int, rng) -> np.ndarray:
    """Joint paths (n_series, n_paths, horizon) of a recursive probabilistic network."""
    import tensorflow as tf

    from forecastkit.data.normalization import ForecastDenormalizer, WindowNormalizer
    from forecastkit.forecasters._rnn_setup import head_of
    from forecastkit.forecasters._serving import (
        _degrees_of_freedom,
        _member_inputs,
        advance_past_covariates,
        recursive_step_covariates,
    )

    head = head_of(f)
    normalizer = WindowNormalizer(**f.normalizer_config_, horizon=1)
    denorm = ForecastDenormalizer(log=f.log_)
    inputs = f.serving_inputs(panel)
    n_members = len(f.members_)
    # Row r of the sampling batch is series r // n_paths, path r % n_paths, drawn by member
    # (r % n_paths) % n_members. One key per sampling batch and step keeps the draws
    # independent of how many rows a batch holds.
    key = int(rng.integers(0, 2**31 - 1))
    rows = panel.n_series * n_paths
    out = np.empty((rows, horizon), dtype=np.float64)
    for start in range(0, rows, _ROWS_PER_BATCH):
        r = np.arange(start, min(start + _ROWS_PER_BATCH, rows))
        series, path = r // n_paths, r % n_paths
        h = tf.constant(inputs["history"][series])
        m = tf.constant(inputs["mask"][series])
        pos = None if "position" not in inputs else tf.constant(inputs["position"][series])
        owner = path % n_members
        # Covariates (future-known only, in a recursive network) are the same on every path
        # of a series: kept per series, gathered per member's rows.
        cov = {name: inputs[name] for name in ("past_cov", "future_cov", "static")
               if name in inputs}
        for k in range(horizon):
            z, level, scale, seasonal = normalizer([h, m])
            step_cov = recursive_step_covariates(cov, k)
            step = np.zeros((len(r), 1), dtype=np.float32)
            for i, (member, lb) in enumerate(zip(f.members_, f.lookbacks_, strict=True)):
                rows_i = np.flatnonzero(owner == i)
                if not len(rows_i):
                    continue
                take = tf.constant(rows_i)
                pos_k = None if pos is None else tf.gather(pos, take) + k
                rows_cov = {name: tf.constant(v[series[rows_i]]) for name, v in step_cov.items()}
                params = member(_member_inputs(tf.gather(z, take), tf.gather(m, take), pos_k, lb,
                                               rows_cov), training=False)
                seed = tf.constant([key, start * horizon + k * n_members + i], tf.int64)
                draw = head.sample(params, seed, df=_degrees_of_freedom(member, head))
                step[rows_i] = denorm([draw, tf.gather(level, take), tf.gather(scale, take),
                                       tf.gather(seasonal, take)]).numpy()
            out[r, k] = step[:, 0]
            y = tf.constant(step)
            h = tf.concat([h[:, 1:], y], axis=1)
            m = tf.concat([m[:, 1:], tf.ones_like(y)], axis=1)
            cov = {name: np.asarray(v) for name, v in advance_past_covariates(cov, k).items()}
    return bounded_paths(f, out.reshape(panel.n_series, n_paths, horizon), inputs)


def bounded_paths(f, paths: np.ndarray, inputs: dict) -> np.ndarray:
    """Sample paths raised to each series' bound (``floor_``), by the layer the serving graph
    bounds forecasts with.

    Parameters
    ----------
    f : RNNForecaster
        Fitted.
    paths : ndarray of shape (n_series, n_paths, horizon)
    inputs : dict
        The serving inputs the paths were drawn from (``history`` and ``mask`` of shape
        (n_series, window_)).

    Returns
    -------
    ndarray of shape (n_series, n_paths, horizon)
        ``paths`` itself without a floor.
    """
    from keras import ops

    from forecastkit.forecasters._floor import ForecastFloor

    arguments = f.floor_
    if arguments is None:
        return paths
    bound = ops.convert_to_numpy(ForecastFloor(**arguments).bound(
        ops.convert_to_tensor(inputs["history"]), ops.convert_to_tensor(inputs["mask"])))
    return np.maximum(paths, bound.astype(np.float64)[:, None, None])


class RNNProbabilisticMixin(BaseForecaster):
    """RNNForecaster's probabilistic capabilities and hooks (see the module docstring)."""

    @property
    def supports_quantiles(self) -> bool:
        """A quantile or distribution head (direct and seq2seq: exact; recursive: sampled)."""
        return self.loss == "quantile" or self.distribution is not None

    @property
    def supports_paths(self) -> bool:  # type: ignore[override]
        """Joint paths need the recursive strategy, which feeds each draw back in."""
        return self.supports_quantiles and self.strategy == "recursive"

    def _predict_quantiles(self, panel: Panel, horizon: int, levels) -> np.ndarray:
        if self.strategy == "recursive":
            return super()._predict_quantiles(panel, horizon, levels)
        self._check_horizon_reachable(horizon)  # type: ignore[attr-defined]
        return predict_quantiles(self, panel, horizon, levels)

    def _sample_paths(self, panel: Panel, horizon: int, n_paths: int, rng) -> np.ndarray:
        self._check_log_space(panel)  # type: ignore[attr-defined]
        return sample_paths(self, panel, horizon, n_paths, rng)
