"""Builder of stacked (and optionally bidirectional) recurrent layers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from forecastkit.exceptions import InvalidInputError
from forecastkit.layers.sequence import GRU, LSTM, SimpleRNN

__all__ = ["recurrent_stack"]

_LAYERS = {"rnn": SimpleRNN, "simple": SimpleRNN, "simple_rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def recurrent_stack(
    cell: str = "lstm",
    units: int | Sequence[int] = (64, 64),
    bidirectional: bool = False,
    merge_mode: str | None = "concat",
    return_sequences: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    **cell_kwargs: Any,
) -> list[keras.layers.Layer]:
    """Build a stack of recurrent layers, to apply in order.

    Every layer but the last returns full sequences, so the next one has a sequence to read; the
    last returns sequences only if ``return_sequences``. Keras masks flow through all of them.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}
        Cell type (``"simple"`` and ``"simple_rnn"`` are aliases of ``"rnn"``).
    units : int or sequence of int
        Hidden size of each layer, first to last.
    bidirectional : bool
        Wrap each layer in ``keras.layers.Bidirectional``.
    merge_mode : {"concat", "sum", "mul", "ave", None}
        How ``Bidirectional`` merges the two directions.
    return_sequences : bool
        Whether the last layer returns (batch, timesteps, units) instead of (batch, units).
    dropout, recurrent_dropout : float
        Dropout rates of every layer's cell.
    **cell_kwargs
        Further arguments of each sequence layer (cell arguments, ``fast``...).

    Returns
    -------
    list of keras.layers.Layer
        Use as ``for layer in stack: x = layer(x)`` in a functional model.

    Raises
    ------
    InvalidInputError
        Unknown cell or merge mode, no units, or a size that is not a positive integer (the
        cells check each size).
    """
    key = cell.lower() if isinstance(cell, str) else cell
    if key not in _LAYERS:
        raise InvalidInputError(f"cell must be one of 'rnn', 'lstm', 'gru'; got {cell!r}")
    if merge_mode not in _MERGE_MODES:
        raise InvalidInputError(f"merge_mode must be one of {_MERGE_MODES}; got {merge_mode!r}")
    sizes = [units] if isinstance(units, int) else list(units)
    if not sizes:
        raise InvalidInputError(f"units must name at least one layer size; got {units!r}")
    layer_class = _LAYERS[key]
    stack: list[keras.layers.Layer] = []
    for depth, size in enumerate(sizes):
        last = depth == len(sizes) - 1
        layer = layer_class(
            size,
            return_sequences=return_sequences or not last,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            **cell_kwargs,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, merge_mode=merge_mode)
        stack.append(layer)
    return stack
