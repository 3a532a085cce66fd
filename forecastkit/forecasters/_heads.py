"""What a member network emits per forecast step, and how it is trained and read.

A *head* maps the recurrent features to the parameters of the forecast at each step and owns
everything that depends on what those parameters are, as GluonTS' distribution outputs do: the
Keras layer that puts raw outputs in their domain (``softplus`` for scales, cumulative increments
for ordered quantiles), the training loss, the point forecast, quantiles at any level and
sampling. The networks (:mod:`forecastkit.forecasters._network`) know nothing of the family.

All parameters live in the normalised space of :mod:`forecastkit.data.normalization`; the
de-normalisation is monotone, so quantiles map to quantiles of the original units exactly.

==============  =====================  ==========================================  ============
head            parameters per step    loss                                        quantiles
==============  =====================  ==========================================  ============
point           value                  MAE / MSE / Huber                           none
quantile        one per grid level     mean pinball loss over the grid             interpolated
normal          loc, scale             negative log-likelihood                     exact
student_t       loc, scale (+ df)      negative log-likelihood (df: one learned     exact
                                       value per network)
==============  =====================  ==========================================  ============
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

__all__ = ["Head", "make_head", "DistributionParams", "DEFAULT_QUANTILE_GRID"]

_PACKAGE = "forecastkit"
# The quantile head's default grid: dense in the tails, where intervals are read.
DEFAULT_QUANTILE_GRID = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9,
                         0.95, 0.975, 0.99)
_MIN_SCALE = 1e-4  # scales are floored: a zero scale makes the likelihood infinite


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DistributionParams(keras.layers.Layer):
    """Raw outputs ``(batch, steps, n_raw)`` -> parameters in their domain.

    ``kind="quantile"``: ordered quantiles ``(batch, steps, n_levels)``: the value at
    ``median_index`` is free, the others add (or subtract) softplus increments, so they never
    cross. ``"normal"``/``"student_t"``: ``(batch, steps, 2)``, loc and a softplus scale; the
    Student-t layer also holds the network's degrees of freedom (``df = 2 + softplus(w)``,
    so the variance exists). ``"point"``: ``(batch, steps)``.
    """

    def __init__(self, kind: str, median_index: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind
        self.median_index = int(median_index)

    def build(self, input_shape):
        if self.kind == "student_t":
            # softplus(1.5) + 2 = 3.7 degrees of freedom to start: heavy tails, finite variance.
            self.df_raw = self.add_weight(shape=(), initializer=keras.initializers.Constant(1.5),
                                          name="df_raw")

    def call(self, raw):
        if self.kind == "point":
            return raw[..., 0]
        if self.kind == "quantile":
            m = self.median_index
            centre = raw[..., m : m + 1]
            up = ops.cumsum(ops.softplus(raw[..., m + 1 :]), axis=-1)
            down = ops.flip(ops.cumsum(ops.softplus(ops.flip(raw[..., :m], axis=-1)), axis=-1),
                            axis=-1)
            return ops.concatenate([centre - down, centre, centre + up], axis=-1)
        loc = raw[..., 0:1]
        scale = ops.softplus(raw[..., 1:2]) + _MIN_SCALE
        return ops.concatenate([loc, scale], axis=-1)

    def degrees_of_freedom(self) -> float:
        return float(2.0 + np.logaddexp(0.0, float(ops.convert_to_numpy(self.df_raw))))

    def compute_output_shape(self, input_shape):
        if self.kind == "point":
            return input_shape[:-1]
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "median_index": self.median_index}


class Head:
    """A forecast family: ``n_raw`` outputs a step, their layer, loss, median and quantiles.

    Parameters
    ----------
    kind : {"point", "quantile", "normal", "student_t"}
    point_loss : {"mae", "mse", "huber"}
        The loss of the point head.
    levels : tuple of float
        The quantile head's grid (sorted, holding 0.5).
    """

    def __init__(self, kind: str, point_loss: str = "mae", levels=DEFAULT_QUANTILE_GRID):
        self.kind = kind
        self.point_loss = point_loss
        self.levels = np.asarray(sorted(levels), dtype=np.float64)

    @property
    def probabilistic(self) -> bool:
        return self.kind != "point"

    @property
    def n_raw(self) -> int:
        return {"point": 1, "quantile": len(self.levels)}.get(self.kind, 2)

    def params_layer(self) -> DistributionParams:
        median = int(np.flatnonzero(np.isclose(self.levels, 0.5))[0]) if self.kind == \
            "quantile" else 0
        return DistributionParams(self.kind, median_index=median, name="distribution")

    # ------------------------------------------------------------------ training

    def loss(self):
        """A Keras loss: targets ``(batch, steps)`` against the parameters."""
        if self.kind == "point":
            return {"mae": keras.losses.MeanAbsoluteError,
                    "mse": keras.losses.MeanSquaredError,
                    "huber": keras.losses.Huber}[self.point_loss]()
        if self.kind == "quantile":
            tau = ops.convert_to_tensor(self.levels.astype(np.float32))

            def pinball(y_true, q):
                diff = ops.expand_dims(y_true, -1) - q
                return ops.mean(ops.maximum(tau * diff, (tau - 1.0) * diff), axis=(-1, -2))

            return pinball
        if self.kind == "normal":
            def normal_nll(y_true, params):
                return ops.mean(self._step_loss(y_true, params), axis=-1)

            return normal_nll
        raise ValueError("the Student-t loss needs the network's df: use student_t_loss(layer)")

    def masked_loss(self, params_layer: DistributionParams | None = None):
        """The loss for targets with missing values (NaN): each window's mean over its observed
        steps of the per-step loss; a missing step adds nothing and passes no gradient.

        The same per-step losses as :meth:`loss` (the Huber one with Keras' default
        ``delta=1``); used only when the training data has missing values, so complete data
        trains exactly as before.
        """
        df_layer = params_layer if self.kind == "student_t" else None

        def masked(y_true, params):
            valid = ops.isfinite(y_true)
            y = ops.where(valid, y_true, ops.zeros_like(y_true))
            weight = ops.cast(valid, params.dtype)
            per_step = self._step_loss(y, params, df_layer) * weight
            return ops.sum(per_step, axis=-1) / ops.maximum(ops.sum(weight, axis=-1), 1.0)

        return masked

    def _step_loss(self, y, params, df_layer=None):
        """The loss of every step, shape (batch, steps)."""
        if self.kind == "point":
            err = y - params
            if self.point_loss == "mae":
                return ops.abs(err)
            if self.point_loss == "mse":
                return err * err
            size = ops.abs(err)
            return ops.where(size <= 1.0, 0.5 * err * err, size - 0.5)
        if self.kind == "quantile":
            tau = ops.convert_to_tensor(self.levels.astype(np.float32))
            diff = ops.expand_dims(y, -1) - params
            return ops.mean(ops.maximum(tau * diff, (tau - 1.0) * diff), axis=-1)
        loc, scale = params[..., 0], params[..., 1]
        z = (y - loc) / scale
        if self.kind == "normal":
            return ops.log(scale) + 0.5 * z * z + 0.5 * math.log(2 * math.pi)
        df = 2.0 + ops.softplus(df_layer.df_raw)
        log_norm = (ops.log(scale) + 0.5 * ops.log(df * math.pi)
                    + _lgamma(df / 2.0) - _lgamma((df + 1.0) / 2.0))
        return log_norm + (df + 1.0) / 2.0 * ops.log1p(z * z / df)

    def student_t_loss(self, params_layer: DistributionParams):
        """The Student-t negative log-likelihood, with the df held by ``params_layer``."""

        def student_t_nll(y_true, params):
            return ops.mean(self._step_loss(y_true, params, params_layer), axis=-1)

        return student_t_nll

    # ------------------------------------------------------------------ reading

    def median(self, params):
        """The median of each step, ``(batch, steps)``, from the parameters."""
        if self.kind == "point":
            return params
        if self.kind == "quantile":
            m = int(np.flatnonzero(np.isclose(self.levels, 0.5))[0])
            return params[..., m]
        return params[..., 0]  # symmetric families: the median is the location

    def quantiles(self, params, levels: np.ndarray, df: float | None = None):
        """Quantiles ``(batch, steps, len(levels))`` at ``levels`` (normalised space)."""
        levels = np.asarray(levels, dtype=np.float64)
        if self.kind == "quantile":
            return ops.matmul(params, ops.convert_to_tensor(
                _interpolation_matrix(self.levels, levels).astype(np.float32)))
        if self.kind in ("normal", "student_t"):
            from scipy import stats

            z = stats.norm.ppf(levels) if self.kind == "normal" else stats.t.ppf(levels, df)
            z = ops.convert_to_tensor(np.asarray(z, dtype=np.float32))
            return params[..., 0:1] + params[..., 1:2] * z
        raise ValueError("a point head has no quantiles")

    def sample(self, params, seed, df: float | None = None):
        """One draw per step, ``(batch, steps)``, from a stateless seed (int32 tensor (2,)).

        The quantile head samples its piecewise-linear quantile function (flat beyond the
        grid's ends); the normal draws ``loc + scale z``; the Student-t divides the normal by
        the root of a chi-square over its degrees of freedom.
        """
        import tensorflow as tf

        shape = tf.shape(params)[:2]
        if self.kind == "quantile":
            u = tf.random.stateless_uniform(shape, seed, dtype=params.dtype)
            return _interpolate(params, self.levels, u)
        z = tf.random.stateless_normal(shape, seed, dtype=params.dtype)
        if self.kind == "student_t":
            assert df is not None  # the Student-t head always passes its df
            seed_g = tf.random.experimental.stateless_fold_in(seed, 1)
            g = tf.random.stateless_gamma(shape, seed_g, alpha=df / 2.0, dtype=params.dtype)
            z = z / tf.sqrt(2.0 * g / df)
        return params[..., 0] + params[..., 1] * z

    def check_levels(self, levels: np.ndarray) -> None:
        """Refuse levels the quantile head cannot reach (outside its grid)."""
        from forecastkit.exceptions import InvalidInputError

        if self.kind == "quantile" and (levels.min() < self.levels[0] - 1e-12
                                        or levels.max() > self.levels[-1] + 1e-12):
            raise InvalidInputError(
                f"this quantile network was trained on levels {self.levels[0]:g} to "
                f"{self.levels[-1]:g}; ask for levels inside that range or refit with "
                f"quantile_levels covering {levels.min():g} to {levels.max():g}"
            )


def make_head(loss: str, distribution: str | None, quantile_levels) -> Head:
    """The head for RNNForecaster's ``loss``, ``distribution`` and ``quantile_levels``."""
    if distribution is not None:
        return Head(distribution)
    if loss == "quantile":
        levels = DEFAULT_QUANTILE_GRID if quantile_levels is None else quantile_levels
        levels = tuple(sorted({float(v) for v in levels} | {0.5}))
        return Head("quantile", levels=levels)
    return Head("point", point_loss=loss)


def _lgamma(x):
    import tensorflow as tf

    return tf.math.lgamma(x)


def _interpolation_matrix(grid: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``(len(grid), len(levels))`` weights: quantiles on the grid -> linear interpolation at
    ``levels`` (which lie inside the grid)."""
    out = np.zeros((len(grid), len(levels)))
    for j, p in enumerate(levels):
        k = int(np.clip(np.searchsorted(grid, p, side="right") - 1, 0, len(grid) - 2))
        w = (p - grid[k]) / (grid[k + 1] - grid[k])
        out[k, j], out[k + 1, j] = 1 - w, w
    return out


def _interpolate(q, grid: np.ndarray, u):
    """Values of the piecewise-linear quantile function through ``(grid, q)`` at levels ``u``
    (flat beyond the grid's ends). ``q``: (batch, steps, k); ``u``: (batch, steps)."""
    import tensorflow as tf

    g = tf.constant(grid, dtype=q.dtype)
    u = tf.clip_by_value(tf.cast(u, q.dtype), g[0], g[-1])
    # Index of the grid interval holding u: how many interior grid points lie at or below it.
    k = tf.reduce_sum(tf.cast(u[..., None] >= g[1:-1], tf.int32), axis=-1)
    lo, hi = tf.gather(g, k), tf.gather(g, k + 1)
    q_lo = tf.gather(q, k[..., None], batch_dims=2)[..., 0]
    q_hi = tf.gather(q, k[..., None] + 1, batch_dims=2)[..., 0]
    w = (u - lo) / (hi - lo)
    return q_lo + w * (q_hi - q_lo)
