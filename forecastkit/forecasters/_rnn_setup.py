"""What :class:`~forecastkit.forecasters.rnn.RNNForecaster`'s parameters mean for given data.

Functions here take the forecaster (``f``) and set or return what ``fit`` derives from its
parameters and the panel: the members' lookbacks, the normalisation, the epochs a probe chooses,
freshly built members. They keep ``rnn.py`` to the estimator's contract.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from numbers import Integral

import numpy as np

from forecastkit.data.frames import Panel
from forecastkit.exceptions import (
    ForecastkitWarning,
    InvalidInputError,
    MissingValuesError,
    TrainingDivergedError,
)
from forecastkit.forecasters._multi_worker import check_shared_seed
from forecastkit.forecasters._rnn_covariates import covariate_inputs, covariate_layout
from forecastkit.forecasters._rnn_training import (
    MAX_EPOCHS,
    SMALL_DATA_EPOCHS,
    TrainingData,
    resolve_schedule,
    train_member,
)

__all__ = [
    "resolve_structure",
    "normalizer",
    "probe_epochs",
    "new_member",
    "train",
    "seed_of",
    "check_log_space",
    "check_float32_range",
    "head_of",
]


def resolve_structure(f, panel: Panel) -> None:
    """Set the fitted attributes that describe the networks and their normalisation."""
    from forecastkit.forecasters._floor import floor_arguments

    check_float32_range(panel)
    _check_callbacks(f.callbacks)
    f.lookbacks_ = _lookbacks(f)
    f.log_ = _use_log(f, panel)
    m = int(f.season_length)
    f.use_position_ = m > 1 and (
        panel.index_kind != "integer" if f.season_position == "auto" else bool(f.season_position)
    )
    f.deseasonalize_ = m > 1 and (f.deseasonalize == "auto" or bool(f.deseasonalize))
    seasonal_window = (f.seasonal_window or 6 * m) if f.deseasonalize_ else 0
    f.window_ = max(max(f.lookbacks_), seasonal_window)
    f.floor_ = floor_arguments(f)
    f.level_window_ = max(1, min(m, min(f.lookbacks_)))
    if f.level_window is not None:
        f.level_window_ = int(f.level_window)
    f.normalizer_config_ = {
        "log": f.log_,
        "level_window": f.level_window_,
        "season_length": m,
        "deseasonalize": f.deseasonalize_,
        "normalize": f.scaler != "none",  # "none" feeds raw values, as documented
        # Data with missing values: window statistics from the window interpolated across
        # its gaps (WindowNormalizer); without, the normaliser is as it always was.
        "interpolate_gaps": bool(np.isnan(panel.values).any()),
    }
    f.covariate_layout_ = covariate_layout(f, panel)


def _check_callbacks(callbacks) -> None:
    import keras

    from forecastkit.forecasters.base import InvalidParameterError

    for i, cb in enumerate(callbacks or ()):
        if not isinstance(cb, keras.callbacks.Callback):
            raise InvalidParameterError(
                f"callbacks[{i}] is a {type(cb).__name__}, not a keras.callbacks.Callback"
            )


def normalizer(f):
    """The forecaster's :class:`~forecastkit.data.normalization.WindowNormalizer`."""
    from forecastkit.data.normalization import WindowNormalizer

    return WindowNormalizer(**f.normalizer_config_, horizon=int(f.horizon))


def _lookbacks(f) -> list[int]:
    lb = f.lookback
    if lb is None:
        # An ensemble over lookbacks around twice the horizon (experiments/results/selection/):
        # the first member gets the base lookback.
        base = max(2 * int(f.horizon), 3 * int(f.season_length))
        lb = (base, max(2, round(0.75 * base)), round(1.5 * base))
    lbs = [int(v) for v in (lb if isinstance(lb, tuple | list) else (lb,))]
    if not lbs or min(lbs) < 1:
        raise InvalidInputError(f"lookback must hold positive integers, got {f.lookback!r}")
    return [lbs[i % len(lbs)] for i in range(f.n_models)]


def units(f) -> tuple[int, ...]:
    u = (f.units,) if isinstance(f.units, Integral) else tuple(f.units)
    if not u or any(isinstance(v, bool) or not isinstance(v, Integral) or v < 1 for v in u):
        raise InvalidInputError(f"units must be positive integers, got {f.units!r}")
    return tuple(int(v) for v in u)


# Up to this share of zeros among otherwise positive training values, ``scaler="auto"``
# says why it did not take log-levels: so few zeros are often not demand but a shutdown or an
# outage. More zeros (intermittent demand) are observations, and level is the right scaler.
FEW_ZEROS = 0.01


def _use_log(f, panel: Panel) -> bool:
    if f.scaler == "log":
        check_log_space(panel, "scaler='log' needs positive values; use scaler='level'")
        return True
    if f.scaler != "auto":
        return False
    observed = panel.values[~np.isnan(panel.values)]
    if np.all(observed > 0):
        return True
    _warn_few_zeros(panel, observed)
    return False


def _warn_few_zeros(panel: Panel, observed: np.ndarray) -> None:
    """A ForecastkitWarning when a few zeros alone keep ``scaler="auto"`` off log-levels."""
    n_zeros = int(np.count_nonzero(observed == 0))
    if np.any(observed < 0) or n_zeros > FEW_ZEROS * observed.size:
        return
    with_zeros = [str(sid) for sid, values in panel if np.any(values == 0)]
    warnings.warn(
        f"scaler='auto' normalises by level, not log-level, because {n_zeros} of "
        f"{observed.size} training values are zero, in {len(with_zeros)} series "
        f"({', '.join(with_zeros[:3])}{', ...' if len(with_zeros) > 3 else ''}). On levels "
        "an effect (a holiday, a weekend) moves a forecast by the same multiple of the "
        "window's spread whatever its level, so a series with a wide spread beside its level "
        "can be forecast below zero. If these zeros are not observations (a shutdown, an "
        "outage), set them to NaN: the network masks them and, with every value positive, "
        "normalises by log-level.",
        ForecastkitWarning, stacklevel=7)  # the user's call to fit (a test checks)


# float32 networks: beyond this magnitude the per-window sums overflow (float32 ends at 3.4e38).
MAX_MAGNITUDE = 1e30


def check_float32_range(panel: Panel) -> None:
    """InvalidInputError naming the first series with a value float32 arithmetic cannot carry."""
    # fmax/fmin skip missing values (NaN), which the networks mask
    peaks = np.fmax.reduceat(np.abs(panel.values), panel.indptr[:-1])
    bad = np.flatnonzero(peaks > MAX_MAGNITUDE)
    if len(bad):
        raise InvalidInputError(
            f"series {panel.ids[bad[0]]!r} has values up to {peaks[bad[0]]:.3g}, beyond what the "
            f"network's float32 arithmetic can carry (|y| <= {MAX_MAGNITUDE:g}); divide the data "
            f"by a constant and multiply the forecasts back"
        )


def check_log_space(panel: Panel, advice: str) -> None:
    """InvalidInputError naming the first series with a value <= 0."""
    mins = np.fmin.reduceat(panel.values, panel.indptr[:-1])
    bad = np.flatnonzero(mins <= 0)
    if len(bad):
        raise InvalidInputError(f"series {panel.ids[bad[0]]!r} has values <= 0; {advice}")


def new_member(f, lookback: int, seed: int, name: str, missing_targets: bool = False):
    """A compiled, freshly initialised network (weights drawn from ``seed``);
    ``missing_targets``: the data has NaN: train with the head's masked loss and read the
    observed indicator (``build_member(observed_indicator=True)``)."""
    import keras

    from forecastkit.forecasters._network import CovariateLayout, build_member
    from forecastkit.layers.optim import default_optimizer

    keras.utils.set_random_seed(seed)
    head = head_of(f)
    member = build_member(
        cell=f.cell,
        units=units(f),
        bidirectional=f.bidirectional,
        lookback=lookback,
        horizon=int(f.horizon),
        strategy=f.strategy,
        dropout=f.dropout,
        season_length=int(f.season_length) if f.use_position_ else 1,
        head=head,
        covariates=CovariateLayout.from_dict(f.covariate_layout_),
        observed_indicator=missing_targets,
        batch_splits=f.batch_splits,
        name=name,
    )
    params_layer = member.get_layer("distribution") if head.probabilistic else None
    if missing_targets:
        loss = head.masked_loss(params_layer)
    elif head.kind == "student_t":
        loss = head.student_t_loss(params_layer)
    else:
        loss = head.loss()
    member.compile(
        optimizer=default_optimizer(learning_rate=f.learning_rate, clipnorm=f.clipnorm),
        loss=loss,
    )
    return member


def head_of(f):
    """The :class:`~forecastkit.forecasters._heads.Head` of the forecaster's parameters."""
    from forecastkit.forecasters._heads import make_head

    if f.distribution is not None and f.loss != "mae":
        raise InvalidInputError(
            f"distribution={f.distribution!r} trains by its likelihood; loss={f.loss!r} cannot "
            f"apply: leave loss at its default ('mae')"
        )
    if f.quantile_levels is not None:
        from forecastkit.forecasters._probabilistic import check_levels

        check_levels(f.quantile_levels)
    return make_head(f.loss, f.distribution, f.quantile_levels)


def train(f, member, data: TrainingData, lookback: int, seed: int, epochs: int,
          restore_best: bool = True) -> dict:
    """:func:`train_member` with the forecaster's settings; a divergence names them."""
    with _divergence_names_settings(f):
        return train_member(member, data, lookback, epochs=epochs, batch_size=f.batch_size_,
                            seed=seed, patience=f.patience, verbose=f.verbose,
                            restore_best=restore_best, callbacks=f.callbacks)


@contextmanager
def _divergence_names_settings(f):
    """Re-raise a TrainingDivergedError with the settings a user would change."""
    try:
        yield
    except TrainingDivergedError as err:
        raise TrainingDivergedError(
            f"{err} (learning_rate={f.learning_rate}, clipnorm={f.clipnorm})"
        ) from None


def fit(f, panel: Panel) -> None:
    """RNNForecaster's ``_fit``: plan the windows, settle the schedule (probing for the number
    of epochs if asked) and train the members one after the other."""
    resolve_structure(f, panel)
    check_shared_seed(f.random_state)
    seed0 = seed_of(f.random_state)
    if f.random_state is not None:
        enable_deterministic_ops()
    norm = normalizer(f)
    holdout = (f.validation_size or int(f.horizon)) if f.early_stopping else None
    data = plan_training(f, panel, norm, holdout, seed0)
    schedule = resolve_schedule(f.epochs, f.batch_size, f.early_stopping,
                                data.windows_an_epoch)
    f.batch_size_ = schedule.batch_size
    f.epochs_, f.probe_history_ = probe_epochs(f, panel, norm, schedule, seed0)
    f.members_, f.history_ = [], []
    if f.ensemble_training == "joint" and f.n_models > 1:
        f.members_ = [new_member(f, lb, seed0 + i, f"member_{i}", data.has_missing)
                      for i, lb in enumerate(f.lookbacks_)]
        f.history_ = train_together(f, f.members_, data, seed0, f.epochs_)
    else:
        for i, lb in enumerate(progress(f, f.lookbacks_)):
            member = new_member(f, lb, seed0 + i, f"member_{i}", data.has_missing)
            f.history_.append(train(f, member, data, lb, seed0 + i, f.epochs_))
            f.members_.append(member)
    f.model_ = f._serving_model(int(f.horizon))


def train_together(f, members, data: TrainingData, seed: int, epochs: int) -> list[dict]:
    """:func:`~forecastkit.forecasters._joint_training.train_jointly` with the forecaster's
    settings; a divergence names them."""
    from forecastkit.forecasters._joint_training import train_jointly
    from forecastkit.layers.optim import default_optimizer

    with _divergence_names_settings(f):
        return train_jointly(
            members, data, f.lookbacks_,
            optimizer=default_optimizer(learning_rate=f.learning_rate, clipnorm=f.clipnorm),
            epochs=epochs, batch_size=f.batch_size_, seed=seed, patience=f.patience,
            verbose=f.verbose, callbacks=f.callbacks,
        )


def plan_training(f, panel: Panel, norm, holdout: int | None, seed: int) -> TrainingData:
    """:meth:`TrainingData.plan` with the forecaster's settings."""
    return TrainingData.plan(
        panel, norm, window=f.window_, horizon=int(f.horizon),
        min_history=f.min_history or min(min(f.lookbacks_), max(2, int(f.season_length))),
        holdout=holdout, max_windows=f.max_windows, windows_per_epoch=f.windows_per_epoch,
        season_length=int(f.season_length) if f.use_position_ else None,
        strategy=f.strategy, seed=seed,
    )


def probe_epochs(f, panel: Panel, norm, schedule, seed0: int) -> tuple[int, dict | None]:
    """``(epochs, probe history or None)``; see ``epochs`` in RNNForecaster's docstring."""
    if f.epochs != "probe" or f.early_stopping or not schedule.small:
        return schedule.epochs, None
    data = plan_training(f, panel, norm, f.validation_size or int(f.horizon), seed0)
    if data.val is None:  # series too short to hold out a horizon: what "auto" would train
        return SMALL_DATA_EPOCHS, None
    lb = f.lookbacks_[0]
    # The probe's seed follows the members' so it never repeats one of them.
    probe = new_member(f, lb, seed0 + f.n_models, "probe", data.has_missing)
    history = train(f, probe, data, lb, seed0 + f.n_models, MAX_EPOCHS, restore_best=False)
    return int(np.argmin(history["val_loss"])) + 1, history


def progress(f, items):
    """``items``, with a progress bar over ensemble members when ``verbose >= 1``."""
    if f.verbose >= 1 and len(items) > 1:
        from tqdm.auto import tqdm

        return tqdm(items, desc="ensemble members", unit="model")
    return items


def enable_deterministic_ops() -> None:
    """Make TensorFlow's kernels deterministic (a process-wide switch, needed on GPUs; on CPU
    the kernels forecastkit uses already are)."""
    import tensorflow as tf

    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # very old TF, or already initialised differently
        pass


def seed_of(random_state) -> int:
    """An int seed from ``random_state`` (None draws one)."""
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)


def check_predictable(f, panel: Panel) -> None:
    """Values float32 can carry, and positive ones for a model fitted in log space."""
    check_float32_range(panel)
    if f.log_:
        check_log_space(panel, "the model was fitted in log space; refit with scaler='level'")


def serving_inputs(f, panel: Panel, series: slice | None = None) -> dict[str, np.ndarray]:
    """RNNForecaster's ``serving_inputs`` (see there).

    Raises
    ------
    MissingValuesError
        A series with nothing observed in the steps the network reads.
    """
    from forecastkit.data.encoding import start_ordinals
    from forecastkit.data.windowing import last_windows

    if series is not None:
        panel = panel.take(np.arange(panel.n_series)[series])
    history, mask = last_windows(panel, f.window_)
    blind = np.flatnonzero(mask.sum(axis=1) == 0)
    if len(blind):
        raise MissingValuesError(
            f"series {panel.ids[blind[0]]!r} has no observed value in its last {f.window_} "
            f"steps, all the network reads; fill them or drop the series"
        )
    inputs = {"history": history, "mask": mask}
    if f.use_position_:
        first = start_ordinals(panel) + panel.lengths
        inputs["position"] = (first % f.season_length).astype(np.int32)
    if f.covariate_layout_ is not None:
        inputs.update(covariate_inputs(f, panel))
    return inputs
