"""Training across worker processes: the loop ``fit_network`` runs under a
``tf.distribute.MultiWorkerMirroredStrategy``.

Keras 3.15's ``Model.fit`` does not train under that strategy with several workers, for any
model (keras-team/keras#20329): before training it averages a first data batch across the
workers with an eager collective, which fails, and it reduces scalar metrics with
``strategy.reduce("MEAN", value, axis=0)``, which fails too. Everything beneath ``fit`` does
work there: the strategy's distributed dataset (tf.data auto-sharding, the global batch split
over the replicas), Keras' own ``train_step`` and ``test_step`` run by ``strategy.run``, and
the optimizer's all-reduce of the gradients. This module drives those pieces with a short loop
of its own instead of ``fit``: TensorFlow's engine does the distribution, nothing here
exchanges data between workers itself.

Every decision of the loop is taken on global values (the epoch's loss and validation loss,
summed over every worker by the metrics' all-reduce), so all workers take the same one and
run the same steps; a worker stopping alone would leave the others waiting in a collective.
"""

from __future__ import annotations

import math

__all__ = ["is_multi_worker", "fit_across_workers"]


def is_multi_worker(strategy) -> bool:
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` (with one worker or many)."""
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def fit_across_workers(model, train, validation, *, epochs: int, callbacks: list,
                       verbose: int) -> dict:
    """Train ``model`` under the current ``MultiWorkerMirroredStrategy``, epoch by epoch.

    Parameters
    ----------
    model : keras.Model
        Compiled inside the strategy's scope.
    train, validation : tf.data.Dataset or None
        The same stream on every worker, in global batches; the strategy shards it.
    epochs : int
    callbacks : list of keras.callbacks.Callback
        Called at the start and end of training and of every epoch, with the epoch's global
        logs (``loss``, ``val_loss``); per-batch hooks get no logs, since a batch's loss is
        a worker's own. ``keras.callbacks.EarlyStopping`` works as under ``fit``.
    verbose : int
        ``>= 2``: Keras' progress bar, a line an epoch.

    Returns
    -------
    dict
        Keras' history as plain lists of floats. Training stops early, on every worker at
        once, when the epoch's loss is not finite (what ``TerminateOnNaN`` does under ``fit``,
        where it looks at every batch).
    """
    import keras
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    _build(model, train)
    train_dist = strategy.experimental_distribute_dataset(train)
    val_dist = None
    if validation is not None:
        val_dist = strategy.experimental_distribute_dataset(validation)

    @tf.function
    def train_step(batch):
        strategy.run(model.train_step, args=(batch,))

    @tf.function
    def test_step(batch):
        strategy.run(model.test_step, args=(batch,))

    hooks = keras.callbacks.CallbackList(
        [cb for cb in callbacks if not isinstance(cb, keras.callbacks.TerminateOnNaN)],
        add_history=True, add_progbar=verbose >= 2, model=model, epochs=epochs,
        verbose=1 if verbose >= 2 else 0, steps=None,
    )
    model.stop_training = False
    hooks.on_train_begin()
    logs: dict = {}
    for epoch in range(epochs):
        hooks.on_epoch_begin(epoch)
        logs = _run_epoch(model, train_dist, train_step, hooks)
        if val_dist is not None:
            val = _run_epoch(model, val_dist, test_step, None)
            logs.update({f"val_{name}": value for name, value in val.items()})
        hooks.on_epoch_end(epoch, logs)
        if not math.isfinite(logs.get("loss", math.nan)):
            model.stop_training = True
        if model.stop_training:
            break
    hooks.on_train_end(logs)
    return {k: [float(v) for v in vals] for k, vals in model.history.history.items()}


def _run_epoch(model, batches, step, hooks) -> dict:
    """Run ``step`` on every batch and return the model's metrics, read across workers."""
    model.reset_metrics()
    for i, batch in enumerate(batches):
        if hooks is not None:
            hooks.on_train_batch_begin(i)
        step(batch)
        if hooks is not None:
            hooks.on_train_batch_end(i)
    # Read in the cross-replica context: the metric variables hold every worker's sums.
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def _build(model, train) -> None:
    """Create the optimizer's slot variables and the loss trackers in the strategy's scope.

    ``fit`` builds them before tracing; a traced step run by ``strategy.run`` may not create
    variables. The loss on zeros, then reset, builds what a first call of ``compute_loss``
    would (the per-output trackers of a model with several outputs) and changes nothing else.
    """
    import tensorflow as tf

    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)

    def zeros(spec):
        return tf.zeros([1, *spec.shape[1:]], spec.dtype)

    inputs, targets = (tf.nest.map_structure(zeros, s) for s in train.element_spec[:2])
    model.compute_loss(x=inputs, y=targets, y_pred=model(inputs))
    model.reset_metrics()
