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


def _seasonal_reference(z: np.ndarray, mask: np.ndarray, m: int) -> np.ndarray:
    """A loop over the missing steps: the gap's length by walking to its ends; half a season
    or more, and its season position observed in the row: ``interp`` over that position's
    steps; else ``interp`` over all observed steps."""
    out = _reference(z, mask)
    steps = z.shape[1]
    for i in range(len(z)):
        for t in np.flatnonzero(mask[i] == 0):
            lo = t
            while lo > 0 and mask[i, lo - 1] == 0:
                lo -= 1
            hi = t
            while hi < steps - 1 and mask[i, hi + 1] == 0:
                hi += 1
            same = np.arange(t % m, steps, m)
            seen = same[mask[i, same] > 0]
            if hi - lo + 1 >= m / 2 and len(seen):
                out[i, t] = np.interp(t, seen, z[i, seen])
    return out


@pytest.mark.parametrize("m,steps", [(24, 150), (12, 72), (7, 40), (4, 17)])
def test_long_gaps_take_the_neighbouring_cycles(m, steps):
    rng = np.random.default_rng(m)
    z = rng.normal(size=(200, steps)).astype(np.float32)
    mask = (rng.random((200, steps)) > 0.1).astype(np.float32)
    for row in range(200):  # blocks of random length, some longer than half a season
        for _ in range(rng.integers(0, 3)):
            start, length = rng.integers(0, steps), rng.integers(1, 2 * m)
            mask[row, start:start + length] = 0.0
    mask[0] = 0.0
    mask[1, :-2] = 0.0  # only the last two steps observed: most positions never seen
    z_in = np.where(mask > 0, z, 1e6).astype(np.float32)
    out = keras.ops.convert_to_numpy(GapInterpolation(season_length=m)([z_in, mask]))
    want = _seasonal_reference(z, mask, m)
    assert np.abs(want - _reference(z, mask)).max() > 0.1  # long gaps are there
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)


def test_the_season_length_survives_a_keras_round_trip(tmp_path):
    z_in, m_in = keras.Input((8,)), keras.Input((8,))
    model = keras.Model([z_in, m_in], GapInterpolation(season_length=2)([z_in, m_in]))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    z = np.array([[1.0, 5.0, 0.0, 0.0, 0.0, 0.0, 3.0, 7.0]], np.float32)
    mask = np.array([[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]], np.float32)
    # Each position is interpolated along its own steps: 1 -> 3 at even, 5 -> 7 at odd steps.
    np.testing.assert_allclose(loaded.predict_on_batch([z, mask]),
                               [[1.0, 5.0, 5 / 3, 17 / 3, 7 / 3, 19 / 3, 3.0, 7.0]], rtol=1e-6)


@pytest.mark.parametrize("m,steps", [(1, 30), (24, 150), (12, 40)])
def test_one_plan_fills_every_array_that_shares_its_mask(m, steps):
    """gap_plan + apply_gap_plan, in a traced graph as the data pipeline runs them: each of two
    different arrays under one mask is filled as the loop reference fills it."""
    import tensorflow as tf

    from forecastkit.data.gap_filling import apply_gap_plan, gap_plan

    rng = np.random.default_rng(steps)
    a, b = rng.normal(size=(2, 50, steps)).astype(np.float32)
    mask = (rng.random((50, steps)) > 0.2).astype(np.float32)
    mask[:, 3:3 + m] = 0.0  # a long gap in every row

    @tf.function
    def both(a, b, mask):
        plan = gap_plan(mask, m, "float32")
        return apply_gap_plan(a, plan), apply_gap_plan(b, plan)

    hide = np.float32(1e6) * (1 - mask)  # a missing value is never read
    filled_a, filled_b = (x.numpy() for x in both(a + hide, b + hide, mask))
    for z, out in ((a, filled_a), (b, filled_b)):
        want = _seasonal_reference(z, mask, m) if m > 1 else _reference(z, mask)
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
