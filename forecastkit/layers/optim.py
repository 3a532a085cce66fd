"""The optimizer the forecasters train with."""

from __future__ import annotations

import keras

__all__ = ["default_optimizer"]


def default_optimizer(learning_rate: float = 1e-3, clipnorm: float | None = 1.0) -> keras.Optimizer:
    """Adam with gradient clipping by norm.

    Recurrent networks occasionally meet a batch whose gradient explodes (Pascanu et al. 2013);
    clipping each gradient's norm to ``clipnorm`` keeps one such step from wrecking the weights.

    Parameters
    ----------
    learning_rate : float
        Adam's step size.
    clipnorm : float or None
        Largest norm of each weight's gradient; None turns clipping off.

    Returns
    -------
    keras.optimizers.Adam
    """
    return keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm)
