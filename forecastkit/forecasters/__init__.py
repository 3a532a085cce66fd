"""Forecasters: the scikit-learn-style contract, the RNN forecaster and classical baselines."""

from forecastkit.forecasters.base import BaseForecaster, InvalidParameterError

__all__ = ["BaseForecaster", "InvalidParameterError"]
