"""RNNForecaster's parameter constraints (scikit-learn's validation) and identity defaults."""

from __future__ import annotations

from numbers import Integral, Real

from forecastkit._compat import Interval, StrOptions

__all__ = ["RNN_PARAMETER_CONSTRAINTS", "RNN_IDENTITY_DEFAULTS"]

_POSITIVE = Interval(Integral, 1, None, closed="left")

# Added after the committed studies' runs were stored; at these values they train as before.
# (Stored runs are resumed only when a forecaster's parameters match; a parameter at its
# identity default is left out of that comparison.)
RNN_IDENTITY_DEFAULTS = {"callbacks": None, "missing": "mask", "futr_exog": None,
                         "hist_exog": None, "stat_exog": None, "calendar": None,
                         "holidays": None, "ensemble_training": "sequential",
                         "floor": None, "floor_window": None, "batch_splits": 1}
RNN_PARAMETER_CONSTRAINTS = {
    "cell": [StrOptions({"lstm", "gru", "rnn"})],
    "units": [tuple, list, _POSITIVE],
    "bidirectional": ["boolean"],
    "lookback": [_POSITIVE, tuple, list, None],
    "horizon": [_POSITIVE],
    "season_length": [_POSITIVE],
    "strategy": [StrOptions({"direct", "recursive", "seq2seq"})],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "epochs": [_POSITIVE, StrOptions({"auto", "short", "probe"})],
    "batch_size": [_POSITIVE, StrOptions({"auto"})],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "clipnorm": [Interval(Real, 0, None, closed="neither"), None],
    "loss": [StrOptions({"mae", "mse", "huber", "quantile"})],
    "distribution": [StrOptions({"normal", "student_t"}), None],
    "quantile_levels": [tuple, list, None],
    "scaler": [StrOptions({"auto", "log", "level", "none"})],
    "season_position": [StrOptions({"auto"}), "boolean"],
    "deseasonalize": [StrOptions({"auto"}), "boolean"],
    "seasonal_window": [Interval(Integral, 2, None, closed="left"), None],
    "level_window": [_POSITIVE, None],
    "early_stopping": ["boolean"],
    "validation_size": [_POSITIVE, None],
    "patience": [_POSITIVE],
    "min_history": [_POSITIVE, None],
    "windows_per_epoch": [_POSITIVE, None],
    "max_windows": [_POSITIVE, None],
    "missing": [StrOptions({"mask", "interpolate", "raise"})],
    "n_models": [_POSITIVE],
    "ensemble_training": [StrOptions({"sequential", "joint"})],
    "batch_splits": [_POSITIVE, StrOptions({"auto"})],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, tuple, None],
    "futr_exog": [list, tuple, str, None],
    "hist_exog": [list, tuple, str, None],
    "stat_exog": [list, tuple, str, None],
    "calendar": [list, tuple, str, None],
    "holidays": [str, None],
    "floor": [Real, StrOptions({"recent_min"}), None],
    "floor_window": [_POSITIVE, None],
}
