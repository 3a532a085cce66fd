"""RNNForecaster: one global recurrent network over many series, scikit-learn style.

The forecaster plans the windows of every series (never across two), streams them through
:func:`forecastkit.data.window_dataset` and the window normalisation of
:mod:`forecastkit.data.normalization` into a stack of forecastkit's own recurrent layers, and
forecasts by running the serving model (normalise -> members -> de-normalise -> median ->
floor) on the last values of each series. Short series are padded on the left and masked.
"""

from __future__ import annotations

import numpy as np

from forecastkit.data.frames import Panel
from forecastkit.exceptions import InvalidInputError, TrainingDivergedError
from forecastkit.forecasters._rnn_params import RNN_IDENTITY_DEFAULTS, RNN_PARAMETER_CONSTRAINTS
from forecastkit.forecasters._rnn_sampling import RNNProbabilisticMixin
from forecastkit.forecasters._rnn_saving import RNNSavingMixin

__all__ = ["RNNForecaster"]

class RNNForecaster(RNNSavingMixin, RNNProbabilisticMixin):
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
        ``b = max(2 * horizon, 3 * season_length)``. When the data has a cycle
        ``season_length`` does not state (weekly data with a yearly cycle), give a lookback of
        one or two cycles (experiments/results/selection/README.md, M4 Weekly).
    horizon : int
        Number of steps forecast.
    season_length : int
        Seasonal period (1 for none); sets the level window and the seasonal positions.
    strategy : {"direct", "recursive", "seq2seq"}
        ``direct``: many-to-one with a ``horizon``-vector output; ``recursive``: a one-step model
        fed back ``horizon`` times; ``seq2seq``: encoder-decoder.
    dropout : float
        Dropout on the inputs of each recurrent layer.
    epochs : int, "auto", "short" or "probe"
        Passes over the training windows (the maximum, with early stopping). ``"auto"``: 20
        with fewer than 50,000 windows an epoch, else 10. ``"short"``: 8, else 4, meant with
        ``learning_rate=3e-3`` and ``ensemble_training="joint"`` (``make_model("lstm-fast")``):
        a fraction of the cost, for data like M3's (experiments/results/selection/).
        ``"probe"``: below 50,000, a probe network (the first member's lookback) is trained
        with early stopping on the last ``validation_size`` steps of every series, up to 100
        epochs, and the members train for its best epoch count (20 when no series can hold
        out a horizon); above, 10. With ``early_stopping=True`` each of them means at most
        100. See ``epochs_``.
    batch_size : int or "auto"
        Windows per gradient step. ``"auto"``: 64 with fewer than 50,000 windows an epoch, else
        256; the two schedules were chosen on validation windows
        (experiments/results/selection/README.md). The count is of windows an epoch after
        ``max_windows``, ``windows_per_epoch`` and any early-stopping holdout, so folds of a
        backtest may fall on either side: give ``epochs`` and ``batch_size`` to train all alike.
    learning_rate : float
        Adam learning rate.
    clipnorm : float
        Gradient-norm clipping, the remedy for exploding gradients through time.
    loss : {"mae", "mse", "huber", "quantile"}
        Loss on the normalised scale (MAE on log-levels is close to sMAPE). ``"quantile"``: a
        multi-quantile head trained by the mean pinball loss over ``quantile_levels``; its
        quantiles never cross by construction (increments from the median are softplus'd) and
        its point forecast is the median.
    distribution : {None, "normal", "student_t"}
        A distribution head instead: the network emits each step's location and scale (and,
        for Student-t, one learned degrees of freedom per network) on the normalised scale and
        is trained by the negative log-likelihood (``loss`` stays at its default). Quantiles
        are exact (the inverse CDF); the point forecast is the median (the location).
    quantile_levels : tuple of float or None
        Levels the quantile head learns (0.5 is always added); default 0.01, 0.025, 0.05,
        0.1, ..., 0.9, 0.95, 0.975, 0.99. Other levels inside that range are interpolated.
    scaler : {"auto", "log", "level", "none"}
        Window normalisation: ``log`` subtracts the log-level (needs positive data), ``level``
        subtracts the level and divides by the mean absolute deviation, ``none`` feeds raw values.
        ``auto`` is ``log`` when all training values are positive, else ``level``. With
        ``level`` an effect (a holiday) moves a forecast by the same multiple of the window's
        spread whatever its level, so a series whose spread is wide beside its level can be
        forecast below zero; with ``log`` it takes the same share. When a few zeros alone (at
        most 1 % of the values) keep ``auto`` off ``log``, ``fit`` says so in a
        ForecastkitWarning; zeros that are not observations (a shutdown, an outage) belong as
        NaN.
    season_position : {"auto"} or bool
        Feed the one-hot seasonal position of each step (month of year for monthly data) beside
        its value. ``auto``: when the series have calendar time stamps and
        ``season_length > 1``. (Calendar covariates in general are
        :func:`forecastkit.data.calendar_features`.)
    deseasonalize : {"auto"} or bool
        Remove each window's seasonal component before the network sees it and add it back to
        the forecast (when the window passes the M4 seasonality test; see
        :mod:`forecastkit.data.normalization`). ``auto``: when ``season_length > 1``.
    seasonal_window : int or None
        History the seasonal component and level are estimated from (the network reads only
        ``lookback``); default ``6 * season_length`` when deseasonalising.
    level_window : int or None
        Number of most recent (deseasonalised) values whose mean is the window's level; default
        ``min(season_length, lookback)``.
    early_stopping : bool
        Hold out the last ``validation_size`` steps of every series (by time), stop when the
        validation loss stops improving and keep the best weights. Off by default: the held-out
        steps are the most recent, most informative data (experiments/results/selection/).
    validation_size : int or None
        Steps held out per series for early stopping; default ``horizon``.
    patience : int
        Epochs without improvement before stopping.
    min_history : int or None
        Fewest observed values a training window may have (shorter histories are left padded and
        masked). Default: ``min(lookback, max(2, season_length))``.
    windows_per_epoch : int or None
        Windows an epoch, drawn afresh at random every epoch from all windows (long hourly
        series hold millions: this bounds an epoch's cost, not memory, which never depends on
        the number of windows). ``None``: every window every epoch.
    max_windows : int or None
        Train on a fixed, seeded random subset of this many windows; ``None``: all of them.
    missing : {"mask", "interpolate", "raise"}
        Missing values (NaN) in the history, in ``fit`` and in ``predict(y=...)``. ``mask``:
        a missing target is left out of the loss; a network fitted on data with gaps takes
        each window's level, scale and seasonal component from the window filled across its
        gaps (in log space with the log scaler; skipping them instead would leak the season
        into the trend): a gap shorter than half a season linearly, a longer one (a lost
        day of hourly data) from the same season positions of the neighbouring cycles. It
        reads at a missing step the window filled again after deseasonalising, beside an
        observed indicator (0 there), and steps
        through it (only left padding is skipped), all inside the network and so in the
        SavedModel too. ``interpolate``: filled first, as the
        classical baselines do (seasonally with ``season_length > 1``; ``n_filled_`` counts
        them; one warning). ``raise``: a MissingValuesError naming the series. Leading NaN
        (a series that starts late) are dropped in every case; a series with nothing observed
        is an error.
    n_models : int
        Ensemble size; members differ by seed and lookback. Point forecasts are combined by the
        median over members; quantiles by averaging the members' quantile functions (the mean
        of their q-level forecasts, level by level); sample paths by pooling (path ``j`` comes
        from member ``j mod n_models``).
    ensemble_training : {"sequential", "joint"}
        How the ``n_models`` members train. ``sequential``: one after the other, each on its
        own shuffle of the windows and with its own early stopping. ``joint``: side by side in
        one Keras model, on one stream of windows (gathered and normalised once) with the sum
        of their losses and one optimizer step, so the per-step cost besides the arithmetic is
        paid once (see BENCHMARKS.md, "Ensemble members in one graph"); each member still takes
        the steps it would take alone on that stream (Adam and ``clipnorm`` act weight by
        weight), and early stopping watches the summed validation loss.
    batch_splits : int or "auto"
        The recurrent layers run each batch as this many independent loops, run at once
        (:class:`forecastkit.layers.LSTM`); ``"auto"``: two on a multi-core CPU, one on a GPU.
        The training differs from one loop by float rounding only; the fit's gain is measured
        in BENCHMARKS.md, "The batch in two loops".
    random_state : int or None
        Seed: the same value gives bit-identical forecasts.
    verbose : int
        0 silent, 1 a progress bar over ensemble members (trained one after another), 2 also
        Keras' progress bar through each epoch (one line per epoch when the output is not a
        terminal).
    callbacks : list of keras.callbacks.Callback or None
        Keras callbacks passed to every network's ``fit`` (the probe's and each member's, one
        after the other), e.g. ``keras.callbacks.TensorBoard(log_dir="logs")``: a TensorBoard
        callback writes each network under its own folder (``logs/member_0``,
        ``logs/probe``...), so the members show as separate runs (trained jointly, they are
        one run, ``logs/members``). They watch training; they are not saved with the model.
    futr_exog, hist_exog : list of str or None
        Columns of ``fit(X=...)`` that are future-known (needed over the horizon at
        ``predict``) and past-only. Neither given: every column of ``X`` is future-known. Past
        values of all of them are read beside the target at every history step; future-known
        values of the horizon join the network before its head (direct), feed the decoder
        step by step (seq2seq), or join each one-step forecast of the recursive loop, whose
        history then moves on with that step's values (recursive: future-known covariates
        only, since past-only ones have no values over the steps it feeds back).
        Each is standardised with its mean and standard deviation over all training rows, in
        the network (so in the SavedModel too). See :mod:`forecastkit.data.covariates`.
    stat_exog : list of str or None
        Columns of ``fit(static=...)`` to use (default all): numeric ones standardised over
        the series, categorical ones one-hot; they join the network before its head.
    calendar : list of str or None
        Calendar covariates made from the time stamps, future-known:
        ``"hour"``, ``"dayofweek"``, ``"month"``, ``"quarter"`` (one-hot), ``"dayofmonth"``,
        ``"dayofyear"``, ``"weekofyear"`` (sine and cosine).
    holidays : str or None
        Country code (``"US"``, ``"GB"``, ``"DE"``...): a 0/1 public-holiday covariate from the
        `holidays` package (extra ``forecastkit[holidays]``), future-known.
    floor : float, "recent_min" or None
        A lower bound on the forecasts, quantiles and sample paths, applied last in the serving
        graph (so by the SavedModel too) and compared in float32: a number (``0`` for counts),
        or ``"recent_min"``, each series' lowest observed value above zero in its last
        ``floor_window`` steps (none for a series without one). A network on normalised
        windows learns an effect as one move for every series, which can take a quiet series
        below anything it carried (experiments/results/covariates/floor/README.md). A
        recursive network feeds back its forecasts unbounded.
    floor_window : int or None
        Steps ``"recent_min"`` reads; default and at most ``window_`` (ignored otherwise).

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
    covariate_spec_ : forecastkit.data.covariates.CovariateSpec or None
        The covariates the network reads (None without).
    covariate_layout_ : dict or None
        Their column counts and scaling (see ``futr_exog``).
    floor_ : dict or None
        The bound the serving model applies (see ``floor``), fixed at fit.

    See Also
    --------
    forecastkit.forecasters.ValidatedCombination : The network alone or its mean with a
        classical forecast, whichever scores best on the end of the training data.
    forecastkit.forecasters.Combination : The mean with a classical forecast (the M3 study's
        chosen configuration; README, Results).
    """

    is_global = True
    supports_covariates = True
    _identity_defaults = RNN_IDENTITY_DEFAULTS
    _parameter_constraints = RNN_PARAMETER_CONSTRAINTS

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
        distribution=None,
        quantile_levels=None,
        scaler="auto",
        season_position="auto",
        deseasonalize="auto",
        seasonal_window=None,
        level_window=None,
        early_stopping=False,
        validation_size=None,
        patience=5,
        min_history=None,
        windows_per_epoch=100_000,
        max_windows=None,
        missing="mask",
        n_models=3,
        ensemble_training="sequential",
        batch_splits=1,
        random_state=None,
        verbose=0,
        callbacks=None,
        futr_exog=None,
        hist_exog=None,
        stat_exog=None,
        calendar=None,
        holidays=None,
        floor=None,
        floor_window=None,
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
        self.distribution = distribution
        self.quantile_levels = quantile_levels
        self.scaler = scaler
        self.season_position = season_position
        self.deseasonalize = deseasonalize
        self.seasonal_window = seasonal_window
        self.level_window = level_window
        self.early_stopping = early_stopping
        self.validation_size = validation_size
        self.patience = patience
        self.min_history = min_history
        self.windows_per_epoch = windows_per_epoch
        self.max_windows = max_windows
        self.missing = missing
        self.n_models = n_models
        self.ensemble_training = ensemble_training
        self.batch_splits = batch_splits
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.futr_exog = futr_exog
        self.hist_exog = hist_exog
        self.stat_exog = stat_exog
        self.calendar = calendar
        self.holidays = holidays
        self.floor = floor
        self.floor_window = floor_window

    # ------------------------------------------------------------------ fitting

    def _fit(self, panel: Panel) -> None:
        from forecastkit.forecasters._rnn_setup import fit

        fit(self, panel)

    def _serving_model(self, horizon: int, levels=None):
        from forecastkit.forecasters._serving import serving_model_of

        return serving_model_of(self, horizon, levels)

    # ------------------------------------------------------------------ predicting

    @property
    def max_horizon(self) -> int | None:
        """``horizon`` for the direct and seq2seq strategies (the network's outputs); None
        (any) for the recursive one, which feeds its forecasts back."""
        if self.strategy == "recursive" or not isinstance(self.horizon, int | np.integer):
            return None
        return int(self.horizon)

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        from forecastkit.forecasters._serving import serve_batch

        model = self.model_
        if horizon > self.horizon:
            self._check_horizon_reachable(horizon)
            model = self._serving_model(horizon)
        self._check_log_space(panel)
        # predict_on_batch per chunk: bounded memory, and Model.predict's fixed cost per call
        # (~0.3 s) dominated forecasting one series (BENCHMARKS.md, Serving).
        chunk, outputs = 1024, []
        for a in range(0, panel.n_series, chunk):
            inputs = self.serving_inputs(panel, slice(a, a + chunk))
            outputs.append(np.asarray(serve_batch(model, inputs)))
        out = np.concatenate(outputs).astype(np.float64)[:, :horizon]
        if not np.all(np.isfinite(out)):
            bad = panel.ids[int(np.flatnonzero(~np.isfinite(out).all(axis=1))[0])]
            raise TrainingDivergedError(f"the network produced non-finite forecasts for "
                                        f"series {bad!r}")
        return out

    def _covariate_horizon(self, horizon: int) -> int:
        # A direct or seq2seq network reads the future-known covariates of all its steps.
        return max(int(horizon), int(self.horizon))

    def _check_horizon_reachable(self, horizon: int) -> None:
        if horizon > self.horizon and self.strategy != "recursive":
            raise InvalidInputError(
                f"this {self.strategy} model was trained for horizon {self.horizon}; "
                f"predict at most that many steps or refit with a larger horizon"
            )

    def _check_log_space(self, panel: Panel) -> None:
        from forecastkit.forecasters._rnn_setup import check_predictable

        check_predictable(self, panel)

    def serving_request(self, y=None, X=None, static=None) -> dict[str, np.ndarray]:
        """What a client sends the exported SavedModel (``serve_masked``) to get the forecasts
        ``predict(y=y, X=X, static=static)`` returns: the inputs of :meth:`serving_inputs`,
        covariates included, for the training series (``y=None``) or new histories.
        """
        self._check_fitted()
        with self._covariates_request(X, static, int(self.horizon)):
            panel, _ = self._forecaster_for(y)
        return self.serving_inputs(panel)

    def serving_inputs(self, panel: Panel, series: slice | None = None) -> dict[str, np.ndarray]:
        """The serving model's inputs for the end of every series of ``panel``.

        Parameters
        ----------
        panel : Panel
        series : slice, optional
            Only these series (by position), for forecasting in bounded chunks.

        Returns
        -------
        dict
            ``history`` (n_series, window_) float32 left padded with zeros (and zero where
            missing), ``mask`` of the same shape (1 where observed) and, with seasonal
            positions, ``position`` (n_series,) int32: the seasonal position of the first
            forecast step.
        """
        from forecastkit.forecasters._rnn_setup import serving_inputs

        return serving_inputs(self, panel, series)
