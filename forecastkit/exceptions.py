"""Exception classes raised by forecastkit.

Every error that comes from bad user input derives from :class:`ForecastkitError`
(itself a ``ValueError``), and its message names the series and the problem, so a
user with ten thousand series can find the one that is wrong.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ForecastkitError",
    "InvalidInputError",
    "EmptyDataError",
    "MissingValuesError",
    "NonNumericError",
    "DuplicateTimestampError",
    "UnsortedTimestampError",
    "FrequencyError",
    "SeriesTooShortError",
    "TrainingDivergedError",
    "ExportError",
    "PersistenceError",
    "NotFittedError",  # noqa: F822  (made on first use, see __getattr__)
    "NotProbabilisticError",
    "CovariateError",
    "ForecastkitWarning",
]


class ForecastkitError(ValueError):
    """Base class of every error forecastkit raises for bad input or failed work."""


class InvalidInputError(ForecastkitError):
    """The input is not of a form forecastkit accepts (wrong type, missing columns...)."""


class EmptyDataError(ForecastkitError):
    """The input holds no observations, or a series holds none."""


class MissingValuesError(ForecastkitError):
    """A series holds NaN or infinite values."""


class NonNumericError(ForecastkitError):
    """A target column or series is not numeric."""


class DuplicateTimestampError(ForecastkitError):
    """A series has the same timestamp twice."""


class UnsortedTimestampError(ForecastkitError):
    """A series' timestamps are not increasing."""


class FrequencyError(ForecastkitError):
    """Timestamps are irregular, or series of one panel have different frequencies."""


class SeriesTooShortError(ForecastkitError):
    """A series is shorter than the model needs."""


class TrainingDivergedError(ForecastkitError, RuntimeError):
    """Training produced a non-finite loss or non-finite weights."""


class ExportError(ForecastkitError):
    """A model cannot be exported, or an exported model got bad input."""


class PersistenceError(ForecastkitError):
    """A saved estimator folder is missing, corrupted or not forecastkit's."""


class NotProbabilisticError(ForecastkitError):
    """Quantiles, intervals or sample paths were asked of a model that cannot give them."""


class CovariateError(ForecastkitError):
    """Covariates (``X``, ``static``, calendar or holidays) are absent, unknown, incomplete or
    inconsistent with the series; the message names the series and the column."""


class ForecastkitWarning(UserWarning):
    """Something the user should know about, but that did not stop the work (e.g. a fallback)."""


def _not_fitted_error() -> type:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    class NotFittedError(ForecastkitError, SklearnNotFittedError):
        """The forecaster is used before ``fit`` (or after a ``fit`` that failed).

        Both ``except forecastkit.ForecastkitError`` and scikit-learn's
        ``except sklearn.exceptions.NotFittedError`` catch it.
        """

    NotFittedError.__module__ = __name__
    NotFittedError.__qualname__ = "NotFittedError"
    return NotFittedError


def __getattr__(name: str) -> Any:
    # NotFittedError derives from scikit-learn's, whose import is slow: it is made on first
    # use, so that ``import forecastkit`` stays quick.
    if name == "NotFittedError":
        cls = _not_fitted_error()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'forecastkit.exceptions' has no attribute {name!r}")
