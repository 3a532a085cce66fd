"""Padding variable-length histories to one length, with a mask Keras layers consume.

Series of a panel have different lengths, and a batch needs one. :func:`pad_sequences` pads on
the **left** by default: the zeros go before the history, so the newest observation sits at the
last time step, which is where a many-to-one RNN reads its output. The boolean mask it returns
(True = observed) is what ``keras.layers.LSTM(...)(x, mask=mask)`` and the other recurrent layers
take: a masked step leaves the state unchanged, so a padded series gives the same output as the
unpadded one, on either side.

``keras.utils.pad_sequences`` does the padding but returns no mask and defaults to int32; this
one returns the mask, keeps floats, truncates the *oldest* values, and pads all sequences with
one vectorised scatter.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from forecastkit.exceptions import EmptyDataError, InvalidInputError

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    side: Literal["left", "right"] = "left",
    value: float = 0.0,
    dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Pad (or truncate) sequences to one length and return them with their mask.

    Parameters
    ----------
    sequences : sequence of array-like, each of shape (length_i,) or (length_i, features)
        The histories (e.g. the last values of each series). All must have the same number of
        features.
    maxlen : int, optional
        Output length; default the longest sequence. Longer sequences keep their last
        ``maxlen`` values (the most recent), whatever ``side`` is.
    side : {"left", "right"}
        Where the padding goes: ``"left"`` (before the data, the default; see the module
        docstring for why) or ``"right"`` (after it).
    value : float
        Fill value of padded steps.
    dtype : numpy dtype
        Dtype of the padded array.

    Returns
    -------
    X : ndarray of shape (n, maxlen) or (n, maxlen, features)
        Padded sequences.
    mask : ndarray of shape (n, maxlen), bool
        True at observed steps, False at padding.
    """
    if side not in ("left", "right"):
        raise InvalidInputError(f"side must be 'left' or 'right', got {side!r}")
    arrays = [np.asarray(s) for s in sequences]
    if not arrays:
        raise EmptyDataError("no sequences to pad")
    tail = arrays[0].shape[1:]
    for i, a in enumerate(arrays):
        if a.ndim not in (1, 2) or a.shape[1:] != tail:
            raise InvalidInputError(
                f"sequence at position {i} has shape {a.shape}; expected (length,) or "
                f"(length, features) like the first one {arrays[0].shape}"
            )
        if len(a) == 0:
            raise EmptyDataError(f"sequence at position {i} is empty")
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    maxlen = int(lengths.max()) if maxlen is None else maxlen
    if isinstance(maxlen, bool) or not isinstance(maxlen, int | np.integer) or maxlen < 1:
        raise InvalidInputError(f"maxlen must be a positive integer, got {maxlen!r}")
    kept = np.minimum(lengths, maxlen)
    # Keep the most recent `kept` values of each sequence.
    flat = np.concatenate([a[len(a) - k :] for a, k in zip(arrays, kept, strict=True)])
    n = len(arrays)
    steps = np.arange(maxlen)
    if side == "left":
        mask = steps[None, :] >= (maxlen - kept)[:, None]
    else:
        mask = steps[None, :] < kept[:, None]
    X = np.full((n, maxlen, *tail), value, dtype=dtype)
    # Row-major order of True cells in `mask` is exactly the order of `flat`.
    X[mask] = flat.astype(dtype, copy=False)
    return X, mask
