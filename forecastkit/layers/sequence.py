"""Sequence layers: a forecastkit cell run over a whole sequence, with the fast path.

``SimpleRNN``, ``LSTM`` and ``GRU`` are ``keras.layers.RNN`` subclasses, so ``return_sequences``,
``return_state``, ``go_backwards``, ``stateful``, masking, ``keras.layers.Bidirectional`` and
``.keras`` serialization behave as for Keras' own layers. They differ in two ways:

* the cell's arguments are documented once, on the cell, and read back through ``layer.cell``
  (``layer.cell.units``), instead of ~60 forwarding properties;
* with the TensorFlow backend the loop is the fused one of :mod:`forecastkit.layers._fastpath`
  (``fast="auto"`` or ``True``); ``fast=False`` runs Keras' generic cell-by-cell loop, which is
  the reference and the fallback on other backends.
"""

from __future__ import annotations

import inspect
from numbers import Integral
from typing import Any

import keras

from forecastkit.exceptions import InvalidInputError
from forecastkit.layers.cells import GRUCell, LSTMCell, SimpleRNNCell, _RecurrentCell

__all__ = ["SimpleRNN", "LSTM", "GRU"]

_FAST_CHOICES = ("auto", True, False)

# ``batch_splits="auto"`` on a CPU: two loops, measured 1.3-1.9x faster than one for the LSTM
# and GRU train steps on two cores (BENCHMARKS.md, "Recurrent layers"); four were slower.
AUTO_CPU_BATCH_SPLITS = 2


def resolve_batch_splits(batch_splits: int | str) -> int:
    """The number of loops ``batch_splits`` asks for here, called while the layer is traced.

    "auto": one where a GPU is visible (its kernels want the whole batch) or under XLA (which
    runs the loops one after the other: measured slower split), else
    :data:`AUTO_CPU_BATCH_SPLITS`, or one on a single core.
    """
    if batch_splits != "auto":
        return int(batch_splits)
    import os

    import tensorflow as tf

    from forecastkit.layers._fastpath import in_xla_context

    if tf.config.list_logical_devices("GPU") or in_xla_context():
        return 1
    return min(AUTO_CPU_BATCH_SPLITS, os.cpu_count() or 1)


def check_batch_splits(batch_splits: Any) -> int | str:
    """``batch_splits`` as given, or InvalidInputError when it is not "auto" or an int >= 1."""
    if batch_splits == "auto":
        return "auto"
    if isinstance(batch_splits, bool) or not isinstance(batch_splits, Integral) or batch_splits < 1:
        raise InvalidInputError(
            f"batch_splits must be 'auto' or an integer >= 1, got {batch_splits!r}"
        )
    return int(batch_splits)


def _cell_arg_names(cell_class: type) -> frozenset[str]:
    """Keyword arguments that belong to the cell rather than to the layer."""
    names: set[str] = set()
    for klass in (cell_class, _RecurrentCell):
        params = inspect.signature(klass).parameters
        names.update(n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD)
    return frozenset(names - {"units"})


class _SequenceLayer(keras.layers.RNN):
    """Shared body of the three sequence layers (see their docstrings)."""

    cell_class: type = _RecurrentCell
    kind = ""

    def __init__(
        self,
        units: int,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        fast: bool | str = "auto",
        batch_splits: int | str = "auto",
        **kwargs: Any,
    ) -> None:
        batch_splits = check_batch_splits(batch_splits)
        if fast not in _FAST_CHOICES:
            raise InvalidInputError(f"fast must be one of {_FAST_CHOICES}, got {fast!r}")
        cell_names = _cell_arg_names(self.cell_class)
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in cell_names}
        cell = self.cell_class(
            units,
            name=f"{self.kind}_cell",
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            **cell_kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            **kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.fast = fast
        self.batch_splits = batch_splits
        if fast is True and not self._fast_available():
            raise InvalidInputError(
                "fast=True needs the TensorFlow backend and unroll=False; "
                f"backend is {keras.backend.backend()!r}, unroll={unroll}. Use fast='auto'."
            )

    def _fast_available(self) -> bool:
        return keras.backend.backend() == "tensorflow" and not self.unroll

    def inner_loop(
        self, sequences: Any, initial_state: Any, mask: Any, training: bool = False
    ) -> tuple[Any, Any, Any]:
        if not self.fast or not self._fast_available():
            return super().inner_loop(sequences, initial_state, mask, training=training)
        # imported here: the fused loop needs TensorFlow, other backends never reach this line
        from forecastkit.layers._fastpath import fused_rnn

        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        return fused_rnn(
            self.kind,
            self.cell,
            sequences,
            list(initial_state),
            mask,
            training=bool(training),
            go_backwards=self.go_backwards,
            return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask,
            batch_splits=resolve_batch_splits(self.batch_splits),
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {**config, **cell_config, "fast": self.fast, "batch_splits": self.batch_splits}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> _SequenceLayer:
        return cls(**config)


_LAYER_DOC = """{title}

Runs :class:`~forecastkit.layers.{cell}` over a sequence.

Parameters
----------
units : int
    Size of the hidden state.
return_sequences : bool
    Return the output of every step, (batch, timesteps, units), instead of the last,
    (batch, units).
return_state : bool
    Also return the final state(s), each (batch, units).
go_backwards : bool
    Process the sequence from its end (outputs are then in processing order, as in Keras).
stateful, unroll, zero_output_for_mask
    As in ``keras.layers.RNN``.
fast : {{"auto", True, False}}
    Use the fused TensorFlow loop ("auto": whenever the backend is TensorFlow and ``unroll`` is
    False). ``False`` runs Keras' generic per-cell loop.
batch_splits : "auto" or int >= 1
    Fast path only: run the batch as this many independent loops over groups of rows, which
    TensorFlow runs at once (the rows never interact, so the outputs are the same up to float
    rounding in the weight gradients' sums). "auto": 2 on a CPU with two or more cores (one
    loop of small matrix products keeps about one core busy), 1 where a GPU is visible or
    under XLA (``jit_compile=True``).
**kwargs
    Arguments of :class:`~forecastkit.layers.{cell}` (``activation``, initializers,
    regularizers, ``dropout``...), read back as ``layer.cell.<name>``; the rest go to
    ``keras.layers.Layer`` (``name``, ``dtype``...).

Raises
------
InvalidInputError
    ``fast`` or ``batch_splits`` is not one of its choices, or ``fast=True`` where the fused
    loop cannot run; a cell argument out of range (see the cell).

Notes
-----
Call arguments: ``sequences`` (batch, timesteps, features); ``mask`` bool (batch, timesteps),
False on padding (or from ``keras.layers.Masking``); ``initial_state``; ``training``.
"""


@keras.saving.register_keras_serializable(package="forecastkit")
class SimpleRNN(_SequenceLayer):
    __doc__ = _LAYER_DOC.format(title="Fully connected recurrent layer.", cell="SimpleRNNCell")
    cell_class = SimpleRNNCell
    kind = "simple_rnn"


@keras.saving.register_keras_serializable(package="forecastkit")
class LSTM(_SequenceLayer):
    __doc__ = _LAYER_DOC.format(title="Long short-term memory layer.", cell="LSTMCell")
    cell_class = LSTMCell
    kind = "lstm"


@keras.saving.register_keras_serializable(package="forecastkit")
class GRU(_SequenceLayer):
    __doc__ = _LAYER_DOC.format(title="Gated recurrent unit layer.", cell="GRUCell")
    cell_class = GRUCell
    kind = "gru"
