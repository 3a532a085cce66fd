"""Training across replicas and worker processes: the loop ``fit_network`` runs under a
``tf.distribute.MirroredStrategy`` or ``MultiWorkerMirroredStrategy``.

Keras 3.15's ``Model.fit`` does not train under the second with several workers, for any
model (keras-team/keras#20329): before training it averages a first data batch across the
workers with an eager collective, which fails, and it reduces scalar metrics with
``strategy.reduce("MEAN", value, axis=0)``, which fails too. Under the first it fails on a
batch that does not split evenly over the replicas (:func:`needs_own_loop`). Everything
beneath ``fit`` does work there: the strategy's distributed dataset (tf.data auto-sharding,
the global batch split over the replicas), Keras' own ``train_step`` and ``test_step`` run by
``strategy.run``, and the optimizer's all-reduce of the gradients. This module drives those
pieces with a short loop of its own instead of ``fit``: TensorFlow's engine does the
distribution, nothing here exchanges data between workers itself.

Every decision of the loop is taken on global values (the epoch's loss and validation loss,
summed over every worker by the metrics' all-reduce), so all workers take the same one and
run the same steps; a worker stopping alone would leave the others waiting in a collective.
"""

from __future__ import annotations

import math

from forecastkit.exceptions import InvalidInputError

__all__ = ["needs_own_loop", "check_shared_seed", "fit_across_workers", "local_cluster"]


def needs_own_loop(strategy) -> bool:
    """Whether ``fit`` trains under ``strategy`` with :func:`fit_across_workers` rather than
    Keras' ``fit``: for a ``MirroredStrategy`` or a ``MultiWorkerMirroredStrategy``.

    Under several workers Keras' ``fit`` fails (see the module's docstring). Under several
    replicas of one process (``MirroredStrategy``) it trains, but fails when a first batch
    does not split evenly over the replicas: its eager average of that batch adds the
    replicas' parts, which then differ in shape (7 series' validation windows over 2 replicas:
    4 and 3); and where it trains, it differs from a fit without a strategy by up to a percent
    (it draws a batch from the stream before training, on an iterator of its own). Under the
    loop here, one or two replicas train what a fit without a strategy does, to 1e-4
    (``tests/forecasters/test_rnn_distributed.py``).
    """
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MirroredStrategy
                      | tf.distribute.MultiWorkerMirroredStrategy)


def check_shared_seed(random_state) -> None:
    """InvalidInputError when ``random_state`` is None under a ``MultiWorkerMirroredStrategy``.

    Every worker must draw the same windows in the same order, each then training on its part
    of every batch; a seed drawn in each process would give each worker an order of its own,
    so that an epoch repeats some windows and leaves out others.
    """
    import tensorflow as tf

    if random_state is None and isinstance(tf.distribute.get_strategy(),
                                           tf.distribute.MultiWorkerMirroredStrategy):
        raise InvalidInputError(
            "random_state=None under a MultiWorkerMirroredStrategy: every worker must draw "
            "the same windows, so give every worker the same random_state (an int)"
        )


def fit_across_workers(model, train, validation, *, epochs: int, callbacks: list,
                       verbose: int) -> dict:
    """Train ``model`` under the current (multi-worker) mirrored strategy, epoch by epoch.

    Parameters
    ----------
    model : keras.Model
        Compiled inside the strategy's scope, its optimizer's slot variables (and a model
        with several outputs, its loss trackers) already built there.
    train, validation : tf.data.Dataset or None
        The same stream on every worker, in global batches of (inputs, targets); the
        strategy shards it.
    epochs : int
        Most epochs to train (fewer when a callback stops training).
    callbacks : list of keras.callbacks.Callback
        Called at the start and end of training and of every epoch with the epoch's global
        logs (``loss``, ``val_loss``); the per-batch training hooks are called with no logs,
        a batch's loss being a worker's own, and no ``on_test_*`` hook is called.
        ``TerminateOnNaN`` is left out (see Notes).
    verbose : int
        ``>= 2``: Keras' progress bar, on every worker.

    Returns
    -------
    dict
        Keras' history as plain lists of floats.

    Notes
    -----
    Every worker runs every callback: one that writes files (TensorBoard, a checkpoint) should
    write where the workers do not clash, and one that stops training must decide on the
    global logs, or the others wait for it in a collective. A stop asked for within an epoch
    takes effect at its end. Training stops on every worker at once when an epoch's loss is
    not finite (what ``TerminateOnNaN`` does batch by batch under ``fit``). The steps run
    without XLA, whatever ``model.jit_compile`` says.
    """
    import keras
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    # Every worker runs the same number of steps: the stream's number of global batches
    # (window_dataset asserts it), each split over the replicas, empty parts included.
    train_dist = strategy.experimental_distribute_dataset(train)
    train_step, steps = _step(strategy, model.train_step), int(train.cardinality())
    val_dist = test_step = None
    if validation is not None:
        val_dist = strategy.experimental_distribute_dataset(validation)
        test_step, val_steps = _step(strategy, model.test_step), int(validation.cardinality())
    hooks = keras.callbacks.CallbackList(
        [cb for cb in callbacks if not isinstance(cb, keras.callbacks.TerminateOnNaN)],
        add_history=True, add_progbar=verbose >= 2, model=model, epochs=epochs,
        verbose=1 if verbose >= 2 else 0, steps=steps,
    )
    model.stop_training = False
    hooks.on_train_begin()
    # keras.callbacks.BackupAndRestore sets where a restarted training resumes.
    start = getattr(model, "_initial_epoch", None) or 0
    logs: dict = {}
    for epoch in range(start, epochs):
        hooks.on_epoch_begin(epoch)
        logs = _run_epoch(model, train_dist, steps, train_step, hooks)
        if val_dist is not None:
            val = _run_epoch(model, val_dist, val_steps, test_step, None)
            logs.update({f"val_{name}": value for name, value in val.items()})
        hooks.on_epoch_end(epoch, logs)
        if not math.isfinite(logs.get("loss", math.nan)):
            model.stop_training = True
        if model.stop_training:
            break
    hooks.on_train_end(logs)
    return {k: [float(v) for v in vals] for k, vals in model.history.history.items()}


def _step(strategy, step):
    """``step`` run on every replica's part of the next batch of a distributed iterator.

    The batch is drawn inside the traced function, as Keras' ``fit`` does, so a step costs one
    call and the shapes are the stream's, batch dimension open: a replica whose part of the
    last batch is empty then runs it as such (traced with a batch of 0, Keras' loss reduction
    would leave the loss unreduced and the loss tracker average it to NaN).
    """
    import tensorflow as tf

    def run(iterator):
        strategy.run(step, args=(next(iterator),))

    return tf.function(run)


def _run_epoch(model, batches, n_steps: int, step, hooks) -> dict:
    """Run ``step`` ``n_steps`` times on an iterator of ``batches`` and return the model's
    metrics, read across workers."""
    model.reset_metrics()
    iterator = iter(batches)
    for i in range(n_steps):
        if hooks is not None:
            hooks.on_train_batch_begin(i)
        step(iterator)
        if hooks is not None:
            hooks.on_train_batch_end(i)
    # Read in the cross-replica context, a metric variable is all-reduced over the workers:
    # each worker's logs are the epoch's totals over every window, the same on all of them.
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def local_cluster(n_workers: int) -> list[str]:
    """``TF_CONFIG`` values for ``n_workers`` worker processes on this machine.

    Each worker listens on a localhost port free when this is called (the operating system
    picks it). For trying several workers on one machine, as the tests and the benchmark do.

    Returns
    -------
    list of str
        The JSON of worker ``i``'s ``TF_CONFIG`` at position ``i`` (0 is the chief).

    Raises
    ------
    InvalidInputError
        ``n_workers`` is not a positive integer.
    """
    import json
    import socket

    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise InvalidInputError(f"n_workers must be a positive integer, got {n_workers!r}")

    sockets = [socket.socket() for _ in range(n_workers)]
    try:  # all bound at once, so that no two workers get the same port
        for s in sockets:
            s.bind(("localhost", 0))
        hosts = [f"localhost:{s.getsockname()[1]}" for s in sockets]
    finally:
        for s in sockets:
            s.close()
    return [json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": i}})
            for i in range(n_workers)]
