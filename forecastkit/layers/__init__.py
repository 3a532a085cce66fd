"""Keras recurrent layers: cells written from their equations, sequence layers with a fused fast
path, the stack builder and the forecasters' default optimizer.

>>> import forecastkit as fk
>>> stack = fk.layers.recurrent_stack(cell="gru", units=(32, 16), bidirectional=True)
"""

from __future__ import annotations

from forecastkit.layers.cells import GRUCell, LSTMCell, SimpleRNNCell
from forecastkit.layers.optim import default_optimizer
from forecastkit.layers.sequence import GRU, LSTM, SimpleRNN
from forecastkit.layers.stack import recurrent_stack

__all__ = [
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "recurrent_stack",
    "default_optimizer",
]
