"""The private scikit-learn and Keras names forecastkit relies on, gathered in one place.

scikit-learn's parameter-constraint machinery (``sklearn.utils._param_validation``), its base
of composite estimators (``_BaseComposition``: nested ``get_params``/``set_params``) and Keras'
dropout-mask mixin for cells (``keras.src.layers.rnn.dropout_rnn_cell``) are not public API: a
release of either library may move them. Importing them only here keeps a future fix to one file.
Keras is imported lazily (``dropout_rnn_cell_class``) so that the NumPy parts of forecastkit load
without TensorFlow.
"""

from __future__ import annotations

from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints
from sklearn.utils._param_validation import (
    InvalidParameterError as SklearnInvalidParameterError,
)
from sklearn.utils.metaestimators import _BaseComposition as BaseComposition

__all__ = [
    "Interval",
    "StrOptions",
    "validate_parameter_constraints",
    "SklearnInvalidParameterError",
    "BaseComposition",
    "dropout_rnn_cell_class",
]


def dropout_rnn_cell_class():
    """Keras' ``DropoutRNNCell`` mixin (dropout masks drawn once per sequence, not per step)."""
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

    return DropoutRNNCell
