"""How :class:`~forecastkit.forecasters.rnn.RNNForecaster` trains its members.

Every member trains from :func:`forecastkit.data.window_dataset`: a stream of raw windows
gathered from the series, mapped through the forecaster's
:class:`~forecastkit.data.normalization.WindowNormalizer` (the layer the serving model runs) and
cut to the member's lookback. Nothing here builds an array of windows.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from forecastkit.data.encoding import start_ordinals
from forecastkit.data.frames import Panel
from forecastkit.data.pipeline import window_dataset
from forecastkit.data.window_plan import WindowPlan
from forecastkit.exceptions import SeriesTooShortError, TrainingDivergedError
from forecastkit.forecasters._multi_worker import fit_across_workers, needs_own_loop

__all__ = ["Schedule", "TrainingData", "resolve_schedule", "train_member", "fit_network",
           "keras_streams", "check_finite"]

# epochs="auto" / batch_size="auto": below this many windows an epoch, small data get more and
# smaller gradient steps; from it on, the large-data schedule (experiments/results/selection/).
SMALL_DATA_MAX_WINDOWS = 50_000
SMALL_DATA_EPOCHS, SMALL_DATA_BATCH = 20, 64
LARGE_DATA_EPOCHS, LARGE_DATA_BATCH = 10, 256
# epochs="short": 0.4 of those epochs, at the same batch sizes; with learning_rate=3e-3 and
# the members in one graph it is make_model("lstm-fast"). Not the default: it was chosen on
# M3 and loses on M4 Hourly (experiments/results/selection/README.md).
SHORT_SMALL_DATA_EPOCHS, SHORT_LARGE_DATA_EPOCHS = 8, 4
MAX_EPOCHS = 100


@dataclass
class TrainingData:
    """The panel, the windows to train on (and to validate on) and how to stream them.

    Attributes
    ----------
    panel : Panel
    normalizer : WindowNormalizer
        The forecaster's normalisation layer (also in its serving model).
    train : WindowPlan
    val : WindowPlan or None
        The newest window of every series, held out for early stopping.
    windows_per_epoch : int or None
    positions : (ndarray, int) or None
        ``(seasonal position of each series' first step, season length)`` when the members
        read seasonal positions.
    strategy : str
    """

    panel: Panel
    normalizer: Any
    train: WindowPlan
    val: WindowPlan | None
    windows_per_epoch: int | None
    positions: tuple[np.ndarray, int] | None
    strategy: str

    @classmethod
    def plan(cls, panel: Panel, normalizer, *, window: int, horizon: int, min_history: int,
             holdout: int | None, max_windows: int | None, windows_per_epoch: int | None,
             season_length: int | None, strategy: str, seed: int) -> TrainingData:
        """Plan the windows of ``panel`` (``holdout``: steps held out per series, or None)."""
        plan = WindowPlan.for_lengths(panel.lengths, window, horizon, 1, min(min_history, window),
                                      ids=panel.ids, on_short="skip")
        if plan.n_windows == 0:
            longest = int(np.argmax(panel.lengths))
            raise SeriesTooShortError(
                f"no series is long enough for one training window: the longest, "
                f"{panel.ids[longest]!r}, has {panel.lengths[longest]} values but a window "
                f"needs at least min_history + horizon = {int(plan.first[0]) + horizon}"
            )
        val = None
        if holdout:
            # Validation targets are the last steps of each series; training targets end
            # before them, so nothing the validation scores is seen in training.
            train, held = plan.holdout(holdout)
            if train.n_windows and held.n_windows:
                plan, val = train, held
        if max_windows is not None:
            plan = plan.subsample(int(max_windows), seed)
        positions = None
        if season_length:
            positions = (start_ordinals(panel) % season_length, int(season_length))
        return cls(panel, normalizer, plan, val, windows_per_epoch, positions, strategy)

    @property
    def has_missing(self) -> bool:
        """Whether the panel holds missing values (NaN): targets the loss must leave out."""
        return bool(np.isnan(self.panel.values).any())

    @property
    def windows_an_epoch(self) -> int:
        n = self.train.n_windows
        return n if self.windows_per_epoch is None else min(n, int(self.windows_per_epoch))

    def stream(self, batch_size: int, seed: int, validation: bool = False):
        """Normalised full windows (``window`` steps, every member's inputs within them)."""
        plan = self.val if validation and self.val is not None else self.train
        ds = window_dataset(
            self.panel,
            plan,
            batch_size=batch_size,
            shuffle=not validation,
            seed=seed,
            windows_per_epoch=None if validation else self.windows_per_epoch,
            season_positions=self.positions,
            covariates=self.panel.covariates,
        )
        return ds.map(self.normalizer.normalize_batch)

    def dataset(self, lookback: int, batch_size: int, seed: int, validation: bool = False):
        """One member's tf.data stream: raw windows -> normalised -> its last ``lookback``."""
        from forecastkit.forecasters._network import member_view

        return self.stream(batch_size, seed, validation).map(member_view(lookback,
                                                                         self.strategy))


@dataclass(frozen=True)
class Schedule:
    """Epochs and batch size of the members."""

    epochs: int
    batch_size: int
    small: bool


def resolve_schedule(epochs, batch_size, early_stopping: bool, n_windows: int) -> Schedule:
    """The members' schedule for ``n_windows`` windows an epoch (``"probe"`` still to resolve:
    its epochs are then the small-data default until the probe has run).

    Parameters
    ----------
    epochs : int, "auto", "short" or "probe"
    batch_size : int or "auto"
    early_stopping : bool
        With it, every named ``epochs`` means at most :data:`MAX_EPOCHS`.
    n_windows : int
        Training windows an epoch.

    Returns
    -------
    Schedule
    """
    small = n_windows < SMALL_DATA_MAX_WINDOWS
    if batch_size == "auto":
        batch = SMALL_DATA_BATCH if small else LARGE_DATA_BATCH
    else:
        batch = int(batch_size)
    if epochs not in ("auto", "short", "probe"):
        n_epochs = int(epochs)
    elif early_stopping:
        n_epochs = MAX_EPOCHS
    elif epochs == "short":
        n_epochs = SHORT_SMALL_DATA_EPOCHS if small else SHORT_LARGE_DATA_EPOCHS
    else:
        n_epochs = SMALL_DATA_EPOCHS if small else LARGE_DATA_EPOCHS
    return Schedule(n_epochs, batch, small)


def train_member(member, data: TrainingData, lookback: int, *, epochs: int, batch_size: int,
                 seed: int, patience: int, verbose: int, restore_best: bool = True,
                 callbacks=None) -> dict:
    """Fit ``member`` on its stream (early stopping on ``data.val`` when there is one).

    ``callbacks`` (the user's) run after forecastkit's own; a TensorBoard callback is copied
    to write under ``<log_dir>/<member name>``, so every network is a run of its own.

    Returns
    -------
    dict
        Keras' history as plain lists of floats.

    Raises
    ------
    TrainingDivergedError
        The loss or a weight is not finite at the end.
    """
    validation = None
    if data.val is not None:
        validation = data.dataset(lookback, batch_size, seed, validation=True)
    history = fit_network(member, data.dataset(lookback, batch_size, seed), validation,
                          epochs=epochs, patience=patience, verbose=verbose,
                          restore_best=restore_best, callbacks=callbacks)
    check_finite(member, history.get("loss", []))
    return history


def fit_network(model, train, validation, *, epochs: int, patience: int, verbose: int,
                restore_best: bool, callbacks) -> dict:
    """``model.fit`` on a stream, early stopping on ``validation`` when given; returns Keras'
    history as plain lists of floats. The user's ``callbacks`` run after forecastkit's own.
    Under a ``MirroredStrategy`` or ``MultiWorkerMirroredStrategy``, where Keras' ``fit``
    fails (on several workers; on a batch split unevenly over the replicas), the same steps
    run in :func:`~forecastkit.forecasters._multi_worker.fit_across_workers`."""
    import keras
    import tensorflow as tf

    user = [_per_member(cb, model.name) for cb in (callbacks or ())]
    own = [keras.callbacks.TerminateOnNaN()]
    if validation is not None:
        own.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=patience, restore_best_weights=restore_best
            )
        )
    own_loop = needs_own_loop(tf.distribute.get_strategy())
    if own_loop or not tf.distribute.has_strategy():  # other strategies: Keras' fit builds
        _build_before_tracing(model, train)
    if own_loop:
        return fit_across_workers(model, train, validation, epochs=epochs,
                                  callbacks=own + user, verbose=verbose)
    train, steps_per_epoch, validation = keras_streams(train, validation)
    fit = model.fit(
        train,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        shuffle=False,  # the stream shuffles itself, a new order every epoch
        callbacks=own + user,
        verbose=1 if verbose >= 2 else 0,  # Keras' progress bar (a line an epoch off a tty)
    )
    return {k: [float(v) for v in vals] for k, vals in fit.history.items()}


def keras_streams(train, validation):
    """``(train stream, steps_per_epoch, validation stream)`` for Keras' ``fit``: one iterator
    for the whole fit instead of new ones every epoch.

    Keras makes a new iterator of a finite dataset at the start of every epoch, and another
    at its end that the next epoch discards; it restarts the validation stream every epoch
    too. Each new iterator instantiates the stream's functions afresh, the normalising map
    above all, which costs as much as a small epoch's training (BENCHMARKS.md, "One iterator
    of the training stream for the whole fit"). So:

    - a training stream of known length is repeated, with the epoch's length given. Each
      repetition starts the stream twice, the second time for one batch that is dropped, so
      that epoch ``k`` still trains on the stream's ``2k``-th shuffle key, as under Keras'
      own iteration: fits train bit for bit as before. An unknown or infinite length is left
      to Keras (``steps_per_epoch`` None);
    - the validation stream is cached: it is one window per series, unshuffled, so the cache
      is the size of the series' last windows.

    Parameters
    ----------
    train : tf.data.Dataset
        Batches of one epoch, in the order of the stream's current shuffle key.
    validation : tf.data.Dataset or None

    Returns
    -------
    train : tf.data.Dataset
        Repeated without end, or ``train`` itself when its length is unknown.
    steps_per_epoch : int or None
        Batches an epoch, for Keras' ``fit``.
    validation : tf.data.Dataset or None
        Cached.
    """
    if validation is not None:
        validation = validation.cache()
    n_batches = int(train.cardinality())
    if n_batches <= 0:
        return train, None, validation
    discarded = train.take(1).filter(lambda *_: False)
    return train.concatenate(discarded).repeat(), n_batches, validation


def _build_before_tracing(model, train) -> None:
    """Create the optimizer's slot variables and the loss trackers before ``fit`` traces the
    train step.

    Outside a distribution strategy Keras defers both to the first trace of the train step;
    variables created inside a trace make TensorFlow trace the step a second time, which costs
    about as long as a small fit's training. The slot variables, their order and their zero
    initial values are the ones Keras would create, and the per-output loss trackers of a
    model with several outputs (the members trained in one graph) are built by one call of
    ``compute_loss`` on zeros and then reset, so the training and its history are unchanged.
    Under a strategy Keras' ``fit`` builds them itself, before tracing; the loop that replaces
    ``fit`` under either mirrored strategy needs them built here (in the strategy's scope: a
    step run by ``strategy.run`` may not create variables).
    """
    import tensorflow as tf

    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    if isinstance(model.output, dict):
        def zeros(spec):
            return tf.zeros([1, *spec.shape[1:]], spec.dtype)

        targets = tf.nest.map_structure(zeros, train.element_spec[1])
        outputs = {name: zeros(out) for name, out in model.output.items()}
        model.compute_loss(y=targets, y_pred=outputs)
        model.reset_metrics()


def check_finite(member, losses: list[float]) -> None:
    """TrainingDivergedError unless the last loss and every weight of ``member`` are finite."""
    weights_ok = all(np.all(np.isfinite(w)) for w in member.get_weights())
    if not losses or not math.isfinite(losses[-1]) or not weights_ok:
        raise TrainingDivergedError(
            f"training of {member.name} diverged (loss {losses[-1] if losses else 'n/a'}); "
            f"lower learning_rate or clipnorm"
        )


def _per_member(callback, name: str):
    """``callback``, or for a TensorBoard callback a copy writing under ``log_dir/name``."""
    import keras

    if isinstance(callback, keras.callbacks.TensorBoard):
        callback = copy.copy(callback)
        callback.log_dir = os.path.join(callback.log_dir, name)
    return callback
