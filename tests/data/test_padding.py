"""pad_sequences: against keras.utils.pad_sequences, and a masked LSTM ignores the padding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastkit.data import pad_sequences
from forecastkit.exceptions import EmptyDataError, InvalidInputError

keras = pytest.importorskip("keras")

seqs_st = st.lists(
    st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=12), min_size=1
)


@settings(max_examples=60, deadline=None)
@given(
    seqs=seqs_st,
    maxlen=st.one_of(st.none(), st.integers(1, 15)),
    side=st.sampled_from(["left", "right"]),
)
def test_matches_keras_pad_sequences(seqs, maxlen, side):
    X, mask = pad_sequences(seqs, maxlen=maxlen, side=side, value=-1.0, dtype=np.float64)
    # Keras' reference: "pre"/"post" padding; truncating "pre" keeps the most recent values.
    ref = keras.utils.pad_sequences(
        seqs,
        maxlen=maxlen,
        dtype="float64",
        padding="pre" if side == "left" else "post",
        truncating="pre",
        value=-1.0,
    )
    np.testing.assert_array_equal(X, ref)
    lengths = np.minimum([len(s) for s in seqs], X.shape[1])
    np.testing.assert_array_equal(mask.sum(axis=1), lengths)
    if side == "left":
        np.testing.assert_array_equal(X[:, -1], [s[-1] for s in seqs])  # newest value last


def test_multivariate_and_default_dtype():
    seqs = [np.ones((3, 2)), 2 * np.ones((5, 2))]
    X, mask = pad_sequences(seqs)
    assert X.shape == (2, 5, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[0, :2], 0)
    np.testing.assert_array_equal(mask[0], [False, False, True, True, True])


def test_bad_input():
    with pytest.raises(EmptyDataError, match="position 1"):
        pad_sequences([[1.0], []])
    with pytest.raises(EmptyDataError):
        pad_sequences([])
    with pytest.raises(InvalidInputError, match="side"):
        pad_sequences([[1.0]], side="top")
    with pytest.raises(InvalidInputError, match="position 1"):
        pad_sequences([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(InvalidInputError, match="maxlen"):
        pad_sequences([[1.0]], maxlen=0)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("use_masking_layer", [False, True])
def test_masked_lstm_gives_same_output_as_unpadded(side, use_masking_layer):
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=n).astype("float32") for n in (3, 7, 10)]
    # With an explicit mask, pad with garbage (5.0) so only the mask can make outputs agree;
    # a Masking layer reads the mask off the pad value, so that one pads with 0.
    pad_value = 0.0 if use_masking_layer else 5.0
    X, mask = pad_sequences(seqs, maxlen=10, side=side, value=pad_value)
    keras.utils.set_random_seed(0)
    lstm = keras.layers.LSTM(4)
    if use_masking_layer:
        # Masking derives the mask from the pad value (the padded value must not occur in data).
        inputs = keras.Input((10, 1))
        model = keras.Model(inputs, lstm(keras.layers.Masking(mask_value=0.0)(inputs)))
        padded_out = model(X[:, :, None]).numpy()
    else:
        padded_out = lstm(X[:, :, None], mask=mask).numpy()
    for i, s in enumerate(seqs):
        alone = lstm(s[None, :, None]).numpy()[0]
        np.testing.assert_allclose(padded_out[i], alone, rtol=1e-5, atol=1e-6)
    # And the mask matters: without it the padding changes the output. (Zeros *before* the data
    # are a fixed point of a fresh LSTM's zero state, so that one case cannot show it.)
    if not (use_masking_layer and side == "left"):
        unmasked = lstm(X[:, :, None]).numpy()
        assert not np.allclose(unmasked[0], padded_out[0], atol=1e-4)
