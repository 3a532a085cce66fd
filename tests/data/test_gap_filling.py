"""GapInterpolation against NumPy's ``interp`` (the reference), row by row."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from forecastkit.data.gap_filling import GapInterpolation


def _reference(z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = np.zeros_like(z)
    for i, (row, m) in enumerate(zip(z, mask, strict=True)):
        observed = np.flatnonzero(m)
        if len(observed):  # interp holds the end values beyond the first and last points
            out[i] = np.interp(np.arange(len(row)), observed, row[observed])
    return out


@pytest.mark.parametrize("p_missing", [0.1, 0.5, 0.9])
def test_gaps_are_interpolated_as_numpy_interp_does(p_missing):
    rng = np.random.default_rng(int(p_missing * 10))
    z = rng.normal(size=(300, 16)).astype(np.float32)
    mask = (rng.random((300, 16)) > p_missing).astype(np.float32)
    mask[0] = 0.0  # nothing observed: zeros
    mask[1, :7] = 0.0  # left padding: the first observed value
    mask[2, 9:] = 0.0  # missing to the end: carried forward
    z_in = np.where(mask > 0, z, 1e6).astype(np.float32)  # a missing value is never read
    out = keras.ops.convert_to_numpy(GapInterpolation()([z_in, mask]))
    np.testing.assert_allclose(out, _reference(z, mask), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out[mask > 0], z[mask > 0])
    assert np.all(out[0] == 0.0)


def test_the_layer_survives_a_keras_round_trip(tmp_path):
    z_in, m_in = keras.Input((5,)), keras.Input((5,))
    model = keras.Model([z_in, m_in], GapInterpolation()([z_in, m_in]))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    z = np.array([[1.0, 0.0, 0.0, 4.0, 0.0]], np.float32)
    mask = np.array([[1.0, 0.0, 0.0, 1.0, 0.0]], np.float32)
    np.testing.assert_allclose(loaded.predict_on_batch([z, mask]), [[1.0, 2.0, 3.0, 4.0, 4.0]])
