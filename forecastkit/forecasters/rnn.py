"""RNNForecaster: one global recurrent network over many series, scikit-learn style.

The forecaster cuts windows from every series (never across two), normalises each window by its
own level (log space for positive data), trains a stack of forecastkit's own recurrent layers on
all of them at once, and forecasts by running the serving model (normalise -> members ->
de-normalise -> median) on the last ``lookback`` values of each series. Short series are padded on
the left and masked.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, StrOptions

from forecastkit.data.frames import Panel
from forecastkit.data.windowing import gather_windows, window_index
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError, TrainingDivergedError
from forecastkit.forecasters.base import BaseForecaster

__all__ = ["RNNForecaster"]

# epochs="auto" / batch_size="auto" (see RNNForecaster's docstring): below this many training
# windows, small data get more and smaller gradient steps; from it on, the large-data schedule
# (which also caps the cost: 20 epochs of batch 64 over 50,000 windows is ~16,000 steps).
# epochs="probe" lets a probe network pick the count below the same size.
_SMALL_DATA_MAX_WINDOWS = 50_000
_SMALL_DATA_EPOCHS, _SMALL_DATA_BATCH = 20, 64
_LARGE_DATA_EPOCHS, _LARGE_DATA_BATCH = 10, 256
_MAX_EPOCHS = 100


class RNNForecaster(BaseForecaster):
    """A global recurrent-network forecaster (SimpleRNN, LSTM or GRU; stacked, bidirectional).

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}
        Recurrent cell of every layer (forecastkit's own cells).
    units : tuple of int
        Units per stacked layer, e.g. ``(64,)`` or ``(64, 64)``.
    bidirectional : bool
        Wrap each layer in ``keras.layers.Bidirectional`` (outputs concatenated).
    lookback : int, tuple of int or None
        Length of the history window. A tuple gives an ensemble over lookbacks (members cycle
        through it). ``None``: members cycle through ``(b, 0.75 b, 1.5 b)`` with
        ``b = max(2 * horizon, 3 * season_length)``.
        When the data has a cycle ``season_length`` does not state (weekly data with a yearly
        cycle, which M4 counts as non-seasonal), give a lookback of one or two cycles: on the
        M4 Weekly validation windows one network with lookback 104 instead of 26 cut OWA from
        0.889 to 0.758, and ``lookback=(104, 78, 156)`` scored 0.779 on the test set.
    horizon : int
        Number of steps forecast.
    season_length : int
        Seasonal period (1 for none); sets the level window and the seasonal position features.
    strategy : {"direct", "recursive", "seq2seq"}
        ``direct``: many-to-one with a ``horizon``-vector output; ``recursive``: a one-step model
        fed back ``horizon`` times; ``seq2seq``: encoder-decoder.
    dropout : float
        Dropout on the inputs of each recurrent layer.
    epochs : int, "auto" or "probe"
        Number of passes over the training windows (the maximum, with early stopping).
        ``"auto"`` (default): 20 with fewer than 50,000 training windows, else 10 (see
        ``batch_size``). ``"probe"``: with fewer than 50,000 windows, a probe network (the
        first member's lookback) is trained with early stopping on the last ``validation_size``
        steps of every series, up to 100 epochs, and all members are then trained on all windows
        for the probe's best number of epochs (20 when no series is long enough to hold out a
        horizon); with more windows, 10. With ``early_stopping=True``, ``"auto"`` and
        ``"probe"`` mean at most 100 epochs. See ``epochs_``.
    batch_size : int or "auto"
        Windows per gradient step. ``"auto"`` (default): 64 with fewer than 50,000 training
        windows, else 256. Chosen on two validation windows per M3 series (the last horizon
        of the training data and the one before it): on Yearly, Quarterly and Other (about
        10,000 to 23,000 windows) 20 epochs of batch 64 scored as well as or better than 10
        epochs of 256 on both windows' mean (Quarterly 9.51 vs 9.75, Other 3.91 vs 4.06,
        Yearly 20.29 vs 20.31), while Monthly (100,000 windows) keeps the cheaper schedule.
        One window alone misleads on Yearly: the last one favours short training, the one
        before long training.
        See ``batch_size_`` and experiments/results/selection/.
        The count is of the windows actually trained on (after ``max_windows`` and any
        early-stopping holdout), so fits on growing data, such as the folds of a backtest, can
        fall on either side of 50,000: give ``epochs`` and ``batch_size`` to train every fold
        alike.
    learning_rate : float
        Adam learning rate (gradients are clipped to norm ``clipnorm``).
    clipnorm : float
        Gradient-norm clipping, the remedy for exploding gradients through time.
    loss : {"mae", "mse", "huber"}
        Loss on the normalised scale (MAE on log-levels is close to sMAPE).
    scaler : {"auto", "log", "level", "none"}
        Window normalisation: ``log`` subtracts the log-level (needs positive data), ``level``
        subtracts the level and divides by the mean absolute deviation, ``none`` feeds raw values.
        ``auto`` is ``log`` when all training values are positive, else ``level``.
    calendar_features : {"auto"} or bool
        Add the one-hot seasonal position of each step. ``auto``: when the series have calendar
        time stamps and ``season_length > 1``.
    deseasonalize : {"auto"} or bool
        Remove each window's seasonal component before the network sees it and add it back to
        the forecast (the window must pass the M4 seasonality test; see
        ``_network.WindowNormalizer``). ``auto``: when ``season_length > 1``.
    seasonal_window : int or None
        History the seasonal component and level are estimated from (the network reads only
        ``lookback``); default ``6 * season_length`` when deseasonalising.
    level_window : int or None
        Number of most recent (deseasonalised) values whose mean is the window's level; default
        ``min(season_length, lookback)``.
    early_stopping : bool
        Hold out the last ``validation_size`` steps of every series (by time), stop when the
        validation loss stops improving and keep the best weights. Off by default: on M3
        Monthly validation windows, training on all windows for a fixed number of epochs
        scored better (the held-out steps are the most recent, most informative data); see
        experiments/results/selection/.
    validation_size : int or None
        Steps held out per series for early stopping; default ``horizon``.
    patience : int
        Epochs without improvement before stopping.
    min_history : int or None
        Fewest observed values a training window may have (shorter histories are left padded and
        masked). Default: ``min(lookback, max(2, season_length))``.
    max_windows : int or None
        Most training windows used; beyond that a seeded random subsample is taken (long
        hourly series hold millions). ``None``: all. Below 50,000 the ``"auto"`` schedule is
        the small-data one (see ``batch_size``).
    n_models : int
        Ensemble size; members differ by seed and lookback; combined by the median. The
        default 3 scored better than 1 on the M3 validation windows of every frequency but
        yearly (equal there).
    random_state : int or None
        Seed: the same value gives bit-identical forecasts.
    verbose : int
        0 silent, 1 a progress bar over ensemble members, 2 also Keras' per-epoch lines.

    Attributes
    ----------
    model_ : keras.Model
        The serving model: ``history``, ``mask`` (and ``position``) -> ``forecast``.
    members_ : list of keras.Model
        The trained networks.
    lookbacks_ : list of int
        Lookback of each member.
    window_ : int
        Length of the serving model's ``history`` input (the longest lookback, or the seasonal
        window if longer).
    history_ : list of dict
        Keras training history of each member.
    epochs_ : int
        Epochs each member was trained for (at most that many with early stopping).
    batch_size_ : int
        Batch size the members were trained with.
    probe_history_ : dict or None
        Training history of the ``epochs="probe"`` probe network, if one ran.

    See Also
    --------
    forecastkit.forecasters.ValidatedCombination : The network alone or its mean with a
        classical forecast, whichever scores best on the end of the training data.
    forecastkit.forecasters.Combination : The mean with a classical forecast. The M3 study's
        chosen configuration is these defaults averaged with Theta (Yearly, Quarterly, Monthly)
        or with Comb (Other), each partner chosen on validation windows (Other's after a
        third seed, run once its test score was known): sMAPE 12.27 over all 3,003 series
        against 12.68 for the network alone. On M4 Hourly the mean with Theta hurt (OWA
        0.675 against 0.466 alone); ``ValidatedCombination`` makes the choice on your data.
    """

    is_global = True
    _parameter_constraints = {
        "cell": [StrOptions({"lstm", "gru", "rnn"})],
        "units": [tuple, list, Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "lookback": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "season_length": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"direct", "recursive", "seq2seq"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto", "probe"})],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "clipnorm": [Interval(Real, 0, None, closed="neither"), None],
        "loss": [StrOptions({"mae", "mse", "huber"})],
        "scaler": [StrOptions({"auto", "log", "level", "none"})],
        "calendar_features": [StrOptions({"auto"}), "boolean"],
        "deseasonalize": [StrOptions({"auto"}), "boolean"],
        "seasonal_window": [Interval(Integral, 2, None, closed="left"), None],
        "level_window": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_size": [Interval(Integral, 1, None, closed="left"), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "min_history": [Interval(Integral, 1, None, closed="left"), None],
        "max_windows": [Interval(Integral, 1, None, closed="left"), None],
        "n_models": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        cell="lstm",
        units=(64,),
        bidirectional=False,
        lookback=None,
        horizon=1,
        season_length=1,
        strategy="direct",
        dropout=0.0,
        epochs="auto",
        batch_size="auto",
        learning_rate=1e-3,
        clipnorm=1.0,
        loss="mae",
        scaler="auto",
        calendar_features="auto",
        deseasonalize="auto",
        seasonal_window=None,
        level_window=None,
        early_stopping=False,
        validation_size=None,
        patience=5,
        min_history=None,
        max_windows=100_000,
        n_models=3,
        random_state=None,
        verbose=0,
    ):
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.lookback = lookback
        self.horizon = horizon
        self.season_length = season_length
        self.strategy = strategy
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clipnorm = clipnorm
        self.loss = loss
        self.scaler = scaler
        self.calendar_features = calendar_features
        self.deseasonalize = deseasonalize
        self.seasonal_window = seasonal_window
        self.level_window = level_window
        self.early_stopping = early_stopping
        self.validation_size = validation_size
        self.patience = patience
        self.min_history = min_history
        self.max_windows = max_windows
        self.n_models = n_models
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting

    def _resolved_lookbacks(self) -> list[int]:
        lb = self.lookback
        if lb is None:
            # An ensemble over lookbacks around twice the horizon (validated on M3, see
            # experiments/results/selection/): the first member gets the base lookback.
            base = max(2 * self.horizon, 3 * self.season_length)
            lb = (base, max(2, round(0.75 * base)), round(1.5 * base))
        lbs = [int(v) for v in (lb if isinstance(lb, tuple | list) else (lb,))]
        if not lbs or min(lbs) < 1:
            raise InvalidInputError(f"lookback must hold positive integers, got {self.lookback!r}")
        return [lbs[i % len(lbs)] for i in range(self.n_models)]

    def _units(self) -> tuple[int, ...]:
        units = (self.units,) if isinstance(self.units, Integral) else tuple(self.units)
        if not units or any(int(u) < 1 for u in units):
            raise InvalidInputError(f"units must be positive integers, got {self.units!r}")
        return tuple(int(u) for u in units)

    def _fit(self, panel: Panel) -> None:
        from forecastkit.forecasters._network import WindowNormalizer

        units = self._units()
        self.lookbacks_ = self._resolved_lookbacks()
        self.log_ = self._use_log(panel)
        self.use_position_ = self._use_position(panel)
        self.deseasonalize_ = self._use_deseasonalize()
        seasonal_window = 0
        if self.deseasonalize_:
            seasonal_window = self.seasonal_window or 6 * self.season_length
        self.window_ = max(max(self.lookbacks_), seasonal_window)
        self.level_window_ = max(1, min(self.season_length, min(self.lookbacks_)))
        if self.level_window is not None:
            self.level_window_ = int(self.level_window)
        self.normalizer_config_ = {
            "log": self.log_,
            "level_window": self.level_window_,
            "season_length": self.season_length,
            "deseasonalize": self.deseasonalize_,
            "normalize": self.scaler != "none",  # "none" feeds raw values, as documented
        }
        horizon = self.horizon
        normalizer = WindowNormalizer(**self.normalizer_config_, horizon=horizon)
        train_windows, val_windows = self._training_arrays(panel, normalizer, self.early_stopping)
        seed0 = _seed(self.random_state)
        if self.random_state is not None:
            _enable_deterministic_ops()
        n_windows = len(train_windows[0])
        small = n_windows < _SMALL_DATA_MAX_WINDOWS
        self.batch_size_ = int(self.batch_size) if self.batch_size != "auto" else (
            _SMALL_DATA_BATCH if small else _LARGE_DATA_BATCH
        )
        self.epochs_, self.probe_history_ = self._resolve_epochs(
            panel, normalizer, small, units, seed0
        )
        self.members_, self.history_ = [], []
        for i, lb in enumerate(self._progress(self.lookbacks_)):
            train = self._member_arrays(train_windows, lb)
            val = None if val_windows is None else self._member_arrays(val_windows, lb)
            member = self._new_member(units, lb, train[0].shape[-1], seed0 + i, f"member_{i}")
            history = self._train_member(member, train, val, self.epochs_)
            self.members_.append(member)
            self.history_.append(history)
        self.model_ = self._serving_model(horizon)

    def _new_member(self, units, lookback: int, n_features: int, seed: int, name: str):
        """A compiled, freshly initialised network (weights drawn from ``seed``)."""
        import keras

        from forecastkit.forecasters._network import build_member

        keras.utils.set_random_seed(seed)
        member = build_member(
            cell=self.cell,
            units=units,
            bidirectional=self.bidirectional,
            lookback=lookback,
            horizon=self.horizon,
            n_features=n_features,
            strategy=self.strategy,
            dropout=self.dropout,
            name=name,
        )
        member.compile(optimizer=self._optimizer(), loss=self._keras_loss())
        return member

    def _resolve_epochs(self, panel, normalizer, small: bool, units, seed0: int):
        """``(epochs, probe history or None)``; see ``epochs`` in the class docstring."""
        if self.epochs not in ("auto", "probe"):
            return int(self.epochs), None
        if self.early_stopping:
            return _MAX_EPOCHS, None
        if not small:
            return _LARGE_DATA_EPOCHS, None
        if self.epochs == "auto":
            return _SMALL_DATA_EPOCHS, None
        train, val = self._training_arrays(panel, normalizer, holdout=True)
        if val is None:  # series too short to hold out a horizon: what "auto" would train
            return _SMALL_DATA_EPOCHS, None
        lb = self.lookbacks_[0]
        train, val = self._member_arrays(train, lb), self._member_arrays(val, lb)
        # The probe's seed follows the members' so it never repeats one of them.
        probe = self._new_member(units, lb, train[0].shape[-1], seed0 + self.n_models, "probe")
        history = self._train_member(probe, train, val, _MAX_EPOCHS, restore_best=False)
        best = int(np.argmin(history["val_loss"])) + 1
        return best, history

    def _training_arrays(self, panel: Panel, normalizer, holdout: bool):
        """Normalised training (and held-out) windows of length ``window_``.

        Parameters
        ----------
        holdout : bool
            Hold out the last ``validation_size`` steps of every series: training targets end
            before them and the held-out windows are the ones whose targets end each series.

        Returns
        -------
        tuple
            ``(train, val)``, each ``(z (n, window), mask (n, window), targets (n, horizon),
            positions (n,) or None)``; ``val`` is None without a holdout (or when no series
            is long enough for one).
        """
        horizon, window = self.horizon, self.window_
        min_hist = self.min_history or min(min(self.lookbacks_), max(2, self.season_length))
        min_hist = min(min_hist, window)
        index = window_index(
            panel.lengths, window, horizon, min_history=min_hist, ids=panel.ids, on_short="skip"
        )
        if len(index) == 0:
            raise SeriesTooShortError(
                f"no series is long enough for one training window: the longest, "
                f"{panel.ids[int(np.argmax(panel.lengths))]!r}, has {panel.lengths.max()} values "
                f"but a window needs at least min_history + horizon = {min_hist + horizon}"
            )
        val_index = None
        if holdout:
            v = self.validation_size or horizon
            # Validation targets are the last v steps of each series; training targets must end
            # before them, so nothing the validation scores is seen in training.
            lengths = panel.lengths[index[:, 0]]
            train_mask = index[:, 1] + horizon <= lengths - v
            val_mask = index[:, 1] == lengths - horizon
            if train_mask.any() and val_mask.any():
                val_index = index[val_mask]
                index = index[train_mask]
        if self.max_windows is not None and len(index) > self.max_windows:
            # A seeded subsample keeps epochs affordable on long, high-frequency series.
            rng = np.random.default_rng(_seed(self.random_state))
            index = index[np.sort(rng.choice(len(index), self.max_windows, replace=False))]
        train = self._arrays_for(panel, index, normalizer)
        val = None if val_index is None else self._arrays_for(panel, val_index, normalizer)
        return train, val

    def _arrays_for(self, panel, index, normalizer):
        from keras import ops

        x, mask, y = gather_windows(panel, index, self.window_, self.horizon)
        z, level, scale, seasonal = normalizer([x.astype(np.float32), mask.astype(np.float32)])
        target = normalizer.normalize_targets(y.astype(np.float32), level, scale, seasonal)
        target = ops.convert_to_numpy(target).astype(np.float32)
        if self.strategy == "recursive":
            target = target[:, :1]
        positions = self._positions(panel, index) if self.use_position_ else None
        return ops.convert_to_numpy(z).astype(np.float32), mask.astype(bool), target, positions

    def _member_arrays(self, windows, lookback: int):
        """A member's inputs: the last ``lookback`` steps of each normalised window."""
        z, mask, target, positions = windows
        feats = z[:, -lookback:, None]
        if positions is not None:
            steps = (positions[:, None] + np.arange(-lookback, 0)[None, :]) % self.season_length
            onehot = np.eye(self.season_length, dtype=np.float32)[steps]
            feats = np.concatenate([feats, onehot], axis=-1)
        return np.ascontiguousarray(feats), np.ascontiguousarray(mask[:, -lookback:]), target

    def _train_member(self, member, train, val, epochs: int, restore_best: bool = True) -> dict:
        import keras

        feats, mask, target = train
        callbacks = [keras.callbacks.TerminateOnNaN()]
        validation_data = None
        if val is not None:
            validation_data = ([val[0], val[1]], val[2])
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=self.patience, restore_best_weights=restore_best
                )
            )
        fit = member.fit(
            [feats, mask],
            target,
            batch_size=self.batch_size_,
            epochs=epochs,
            validation_data=validation_data,
            shuffle=True,
            callbacks=callbacks,
            verbose=2 if self.verbose >= 2 else 0,
        )
        history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
        losses = history.get("loss", [])
        weights_ok = all(np.all(np.isfinite(w)) for w in member.get_weights())
        if not losses or not math.isfinite(losses[-1]) or not weights_ok:
            raise TrainingDivergedError(
                f"training of {member.name} diverged (loss {losses[-1] if losses else 'n/a'}); "
                f"lower learning_rate (now {self.learning_rate}) or clipnorm (now {self.clipnorm})"
            )
        return history

    def _optimizer(self):
        from forecastkit.layers.optim import default_optimizer

        return default_optimizer(learning_rate=self.learning_rate, clipnorm=self.clipnorm)

    def _keras_loss(self):
        import keras

        return {
            "mae": keras.losses.MeanAbsoluteError(),
            "mse": keras.losses.MeanSquaredError(),
            "huber": keras.losses.Huber(delta=1.0),
        }[self.loss]

    def _serving_model(self, horizon: int):
        from forecastkit.forecasters._network import build_serving_model

        return build_serving_model(
            self.members_,
            self.lookbacks_,
            window=self.window_,
            horizon=horizon,
            normalizer_config=self.normalizer_config_,
            strategy=self.strategy,
            season_length=self.season_length,
            use_position=self.use_position_,
        )

    # ------------------------------------------------------------------ predicting

    @property
    def max_horizon(self) -> int | None:
        """``horizon`` for the direct and seq2seq strategies (the network's outputs); None
        (any) for the recursive one, which feeds its forecasts back."""
        if self.strategy == "recursive" or not isinstance(self.horizon, int | np.integer):
            return None
        return int(self.horizon)

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        model = self.model_
        if horizon > self.horizon:
            if self.strategy != "recursive":
                raise InvalidInputError(
                    f"this {self.strategy} model was trained for horizon {self.horizon}; "
                    f"predict at most that many steps or refit with a larger horizon"
                )
            model = self._serving_model(horizon)
        bad = _first_nonpositive(panel) if self.log_ else None
        if bad is not None:
            raise InvalidInputError(
                f"series {bad!r} has values <= 0 but the model was fitted in log space "
                f"(scaler={self.scaler!r}); refit with scaler='level'"
            )
        inputs = self.serving_inputs(panel)
        # predict_on_batch per chunk: Model.predict's fixed cost per call (data adapter,
        # callbacks) is ~0.3 s, which dominated forecasting one series (BENCHMARKS.md, Serving).
        n, chunk = panel.n_series, 1024
        out = np.concatenate(
            [
                np.asarray(model.predict_on_batch({k: v[a : a + chunk] for k, v in inputs.items()}))
                for a in range(0, n, chunk)
            ]
        ).astype(np.float64)[:, :horizon]
        if not np.all(np.isfinite(out)):
            raise TrainingDivergedError("the network produced non-finite forecasts")
        return out

    def serving_inputs(self, panel: Panel) -> dict[str, np.ndarray]:
        """The serving model's inputs for the end of every series of ``panel``.

        Returns
        -------
        dict
            ``history`` (n_series, window_) float32 left padded with zeros, ``mask`` of the
            same shape (1 where observed) and, with calendar features, ``position``
            (n_series,) int32.
        """
        max_lb = self.window_
        n = np.minimum(panel.lengths, max_lb)
        history = np.zeros((panel.n_series, max_lb), dtype=np.float32)
        mask = np.zeros((panel.n_series, max_lb), dtype=np.float32)
        for i in range(panel.n_series):
            history[i, max_lb - n[i] :] = panel.series(i)[-n[i] :]
            mask[i, max_lb - n[i] :] = 1.0
        inputs = {"history": history, "mask": mask}
        if self.use_position_:
            origins = np.stack([np.arange(panel.n_series), panel.lengths], axis=1)
            inputs["position"] = self._positions(panel, origins).astype(np.int32)
        return inputs

    # ------------------------------------------------------------------ helpers

    def _use_log(self, panel: Panel) -> bool:
        if self.scaler == "log":
            bad = _first_nonpositive(panel)
            if bad is not None:
                raise InvalidInputError(
                    f"scaler='log' needs positive values but series {bad!r} has values "
                    f"<= 0; use scaler='level'"
                )
            return True
        return self.scaler == "auto" and bool(np.all(panel.values > 0))

    def _use_deseasonalize(self) -> bool:
        if self.season_length < 2:
            return False
        return True if self.deseasonalize == "auto" else bool(self.deseasonalize)

    def _use_position(self, panel: Panel) -> bool:
        if self.season_length < 2:
            return False
        if self.calendar_features == "auto":
            return panel.index_kind != "integer"
        return bool(self.calendar_features)

    def _positions(self, panel: Panel, index: np.ndarray) -> np.ndarray:
        """Seasonal position (0..season_length-1) of the step at ``origin`` for each window.

        ``index`` rows are (series position, origin); the origin may be one past the series' end
        (the first forecast step).
        """
        series, origin = index[:, 0], index[:, 1]
        return (_start_ordinals(panel)[series] + origin) % self.season_length

    def _progress(self, items):
        if self.verbose >= 1 and len(items) > 1:
            from tqdm.auto import tqdm

            return tqdm(items, desc="ensemble members", unit="model")
        return items


def _start_ordinals(panel: Panel) -> np.ndarray:
    """Each series' first time stamp as a count of steps from a fixed epoch, shape (n_series,).

    For calendar data this is pandas' period ordinal (months since 1970-01 for monthly data...),
    so ``ordinal % 12`` is the month of year; for integer time it is ``t / step``.
    """
    starts = panel.times[panel.indptr[:-1]]
    if panel.index_kind == "integer":
        return (starts // panel.step).astype(np.int64)
    dt = pd.DatetimeIndex(starts)
    alias = panel.freq.freqstr if panel.freq is not None else None
    for candidate in (alias, _period_alias(alias)):
        try:
            return np.asarray(dt.to_period(candidate).asi8, dtype=np.int64)
        except (ValueError, TypeError, AttributeError):
            continue
    # A frequency with no period equivalent: count fixed-length steps since the epoch.
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(alias)).value
    return (starts.astype(np.int64) // step).astype(np.int64)


def _period_alias(alias: str | None) -> str | None:
    if alias is None:
        return None
    # Period frequencies name the span, not its anchor: "MS" (month start) is the period "M".
    for start, period in (("MS", "M"), ("QS", "Q"), ("YS", "Y"), ("BMS", "M"), ("BQS", "Q")):
        if alias.startswith(start):
            return period + alias[len(start) :]
    return alias


def _first_nonpositive(panel: Panel):
    """Id of the first series with a value <= 0, or None."""
    mins = np.minimum.reduceat(panel.values, panel.indptr[:-1])
    bad = np.flatnonzero(mins <= 0)
    return panel.ids[bad[0]] if len(bad) else None


def _enable_deterministic_ops() -> None:
    """Make TensorFlow's kernels deterministic (a process-wide switch, needed on GPUs; on CPU
    the kernels forecastkit uses already are)."""
    import tensorflow as tf

    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # very old TF, or already initialised differently
        pass


def _seed(random_state) -> int:
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return int(random_state)
