"""Forecasters: the scikit-learn-style contract, the RNN forecaster and classical baselines.

``RNNForecaster`` (TensorFlow) and the baselines (statsmodels) load lazily through
``forecastkit.RNNForecaster`` and ``forecastkit.baselines``.
"""

from forecastkit.forecasters.base import BaseForecaster, InvalidParameterError
from forecastkit.forecasters.combination import Combination
from forecastkit.forecasters.conformal import ConformalIntervals
from forecastkit.forecasters.validated import ValidatedCombination

__all__ = [
    "BaseForecaster",
    "Combination",
    "ConformalIntervals",
    "InvalidParameterError",
    "ValidatedCombination",
]
