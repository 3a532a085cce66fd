"""Training an ensemble's members side by side, in one Keras model.

Trained one after the other, ``n_models`` members pay ``n_models`` times for what a gradient
step costs besides its arithmetic: the window stream (gathering and normalising every window),
Python and TensorFlow's per-step dispatch. Here the members sit side by side in one model that
reads the normalised full windows once, hands each member its own view (its lookback, its
covariates) and is trained on the sum of the members' losses with one optimizer step.

The members share no weights, so the gradient of the sum with respect to a member's weights is
that member's own gradient; Adam and the per-weight clipping (``clipnorm``) act weight by
weight. A member thus takes the same steps it would take alone on the same stream: what
differs from training one after the other is that all members see the windows in one order
(not one shuffle per member), and early stopping watches the summed validation loss (and
restores every member's weights from that best epoch).
"""

from __future__ import annotations

from forecastkit.forecasters._network import member_inputs, member_targets
from forecastkit.forecasters._rnn_training import TrainingData, check_finite, fit_network

__all__ = ["joint_model", "train_jointly"]


def joint_model(members, lookbacks, strategy: str, input_spec: dict, name: str = "members"):
    """The members side by side: normalised full windows in, each member's output out.

    Parameters
    ----------
    members : list of keras.Model
        Built members (:func:`~forecastkit.forecasters._network.build_member`), uniquely named.
    lookbacks : list of int
        Each member's lookback.
    strategy : str
    input_spec : dict of tf.TensorSpec
        The normalised stream's inputs (``z`` and ``mask`` of shape ``(batch, window)``...).

    Returns
    -------
    keras.Model
        ``{member name: member output}``; its weights are the members' own (not copies).
    """
    import keras

    inputs = {key: keras.Input(tuple(spec.shape[1:]), dtype=spec.dtype.name, name=key)
              for key, spec in input_spec.items()}
    outputs = {m.name: m(member_inputs(inputs, lb, strategy))
               for m, lb in zip(members, lookbacks, strict=True)}
    return keras.Model(inputs, outputs, name=name)


def train_jointly(members, data: TrainingData, lookbacks, *, optimizer, epochs: int,
                  batch_size: int, seed: int, patience: int, verbose: int,
                  restore_best: bool = True, callbacks=None) -> list[dict]:
    """Train compiled ``members`` together on ``data``'s stream (shuffled from ``seed``).

    Each member keeps the loss it was compiled with; ``optimizer`` steps them all.

    Returns
    -------
    list of dict
        Each member's history (``loss``, and ``val_loss`` with a validation stream): its own
        term of the summed loss, epoch by epoch. Keras averages such a term over the epoch's
        batches (the total it averages over windows), so with a last, smaller batch it differs
        a little from the member's loss trained alone; the weights do not.

    Raises
    ------
    TrainingDivergedError
        A member's loss or weights are not finite at the end.
    """
    import keras

    # tf.data's random ops also read the global seed: set it as for a member trained alone
    # from ``seed``, so the stream is that member's.
    keras.utils.set_random_seed(seed)
    train = data.stream(batch_size, seed)
    model = joint_model(members, lookbacks, data.strategy, train.element_spec[0])
    names = [m.name for m in members]
    model.compile(optimizer=optimizer, loss={m.name: m.loss for m in members})

    def targets(inputs, y):
        return inputs, {name: member_targets(y, data.strategy) for name in names}

    validation = None
    if data.val is not None:
        validation = data.stream(batch_size, seed, validation=True).map(targets)
    history = fit_network(model, train.map(targets), validation, epochs=epochs,
                          patience=patience, verbose=verbose, restore_best=restore_best,
                          callbacks=callbacks)
    per_member = []
    for member in members:
        own = {"loss": history.get(f"{member.name}_loss", [])}
        if f"val_{member.name}_loss" in history:
            own["val_loss"] = history[f"val_{member.name}_loss"]
        check_finite(member, own["loss"])
        per_member.append(own)
    return per_member
