"""Missing values with RNNForecaster(missing="mask"), and the pieces that carry them.

References: hand-built windows (a naive loop over the series), Keras' own LSTM for the masking
semantics, NumPy for the window statistics and the masked losses, and the forecaster's own
``predict`` for the serving inputs.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.data.normalization import WindowNormalizer
from forecastkit.data.pipeline import window_dataset
from forecastkit.data.window_plan import WindowPlan
from forecastkit.datasets import make_trend_seasonal
from forecastkit.exceptions import MissingValuesError
from forecastkit.forecasters._heads import make_head

SMALL = dict(horizon=4, season_length=12, units=(8,), lookback=24, epochs=3, batch_size=32,
             n_models=1, random_state=0)


def _knock_out(df: pd.DataFrame, rate: float, seed: int) -> pd.DataFrame:
    """``rate`` of the values set to NaN at random, never a series' first or last value."""
    rng = np.random.default_rng(seed)
    y = df["y"].to_numpy().copy()
    inner = np.flatnonzero((df["unique_id"] == df["unique_id"].shift(1))
                           & (df["unique_id"] == df["unique_id"].shift(-1)))
    y[rng.choice(inner, int(rate * len(inner)), replace=False)] = np.nan
    return df.assign(y=y)


@pytest.fixture(scope="module")
def complete():
    return make_trend_seasonal(n_series=6, length=(60, 90), season_length=12, seed=4)


@pytest.fixture(scope="module")
def gappy(complete):
    return _knock_out(complete, 0.1, seed=1)


@pytest.fixture(scope="module")
def gappy_net(gappy):
    """One epoch on the gappy panel: the network three tests read (none changes it)."""
    return fk.RNNForecaster(**{**SMALL, "epochs": 1}).fit(gappy)


def test_training_windows_mask_and_zero_missing_values_as_a_naive_loop_cuts_them():
    values = np.array([1.0, 2.0, np.nan, 4.0, 5.0, np.nan, 7.0, 8.0, 9.0])
    frame = pd.DataFrame({"unique_id": "a", "ds": np.arange(9), "y": values})
    panel = to_panel(frame, allow_missing=True)
    lookback, horizon = 4, 2
    plan = WindowPlan.for_lengths(panel.lengths, lookback, horizon, 1, 1)
    ds = window_dataset(panel, plan, batch_size=64, shuffle=False)
    inputs, targets = next(iter(ds))
    hist, mask, targets = (inputs["history"].numpy(), inputs["mask"].numpy(),
                           targets.numpy())
    for row, origin in enumerate(range(1, 9 - horizon + 1)):  # first target at ``origin``
        window = np.full(lookback, np.nan)
        past = values[max(0, origin - lookback):origin]
        window[lookback - len(past):] = past
        observed = ~np.isnan(window)
        np.testing.assert_array_equal(mask[row], observed.astype(np.float32))
        np.testing.assert_array_equal(hist[row], np.where(observed, window, 0.0))
        np.testing.assert_array_equal(targets[row], values[origin:origin + horizon])


def test_a_masked_gap_is_skipped_as_left_padding_is():
    """A masked step keeps the state: [a, gap, b] reads as [padding, a, b], in our layers and
    in Keras' own LSTM (the reference), with the same weights."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 2)).astype(np.float32)
    gap = np.stack([a, np.zeros_like(a), b], axis=1)  # (3, 3, 2)
    padded = np.stack([np.zeros_like(a), a, b], axis=1)
    mask_gap = np.array([[True, False, True]] * 3)
    mask_pad = np.array([[False, True, True]] * 3)
    ours = fk.layers.LSTM(5)
    reference = keras.layers.LSTM(5)
    ours(gap, mask=mask_gap)
    reference(gap, mask=mask_gap)
    reference.set_weights(ours.get_weights())
    for layer in (ours, reference):
        np.testing.assert_allclose(layer(gap, mask=mask_gap).numpy(),
                                   layer(padded, mask=mask_pad).numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours(gap, mask=mask_gap).numpy(),
                               reference(gap, mask=mask_gap).numpy(), rtol=1e-5, atol=1e-6)


def _recurrent_layer(member):
    return next(layer for layer in member.layers if layer.weights and layer.name != "head")


def test_a_member_for_gappy_data_steps_through_gaps_reading_the_observed_indicator():
    """With ``observed_indicator`` a gap inside the history is a step like any other, read as
    (its value as it arrives, 0) beside (value, 1) elsewhere, and only the left padding is
    masked: the member equals Keras' own LSTM run on those two features with the padding
    mask, then its head. (The value at a gap is the normaliser's fill,
    ``tests/data/test_normalization.py``; the member does not fill it again.)"""
    from forecastkit.forecasters._network import build_member

    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 6)).astype(np.float32)
    mask = np.ones((4, 6), np.float32)
    mask[:, :2] = 0.0  # left padding
    mask[0, 3] = mask[1, 4] = mask[2, 5] = 0.0  # gaps (the last step of row 2); row 3 none
    padding = np.cumsum(mask, axis=1) > 0
    z *= padding  # the normaliser leaves zeros in the padding, a filled value in a gap
    member = build_member(cell="lstm", units=(5,), bidirectional=False, lookback=6, horizon=2,
                          strategy="direct", dropout=0.0, observed_indicator=True)
    ours = member({"z": z, "mask": mask}).numpy()
    reference = keras.layers.LSTM(5)
    feats = np.stack([z, mask], axis=-1).astype(np.float32)
    reference(feats, mask=padding)
    reference.set_weights(_recurrent_layer(member).get_weights())
    kernel, bias = member.get_layer("head").get_weights()
    expected = reference(feats, mask=padding).numpy() @ kernel + bias
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)
    # Skipping the gaps instead (the mask as the recurrent mask) reads the rows with gaps
    # differently, and the row without one alike.
    skipped = reference(feats, mask=mask > 0).numpy() @ kernel + bias
    assert np.abs(skipped[:3] - ours[:3]).max(axis=1).min() > 1e-4
    np.testing.assert_allclose(skipped[3], ours[3], rtol=1e-5, atol=1e-6)


def test_a_network_fitted_on_gappy_data_saves_and_serves_as_it_predicts(gappy, gappy_net,
                                                                        tmp_path):
    import tensorflow as tf

    net = gappy_net
    expected = net.predict_array()
    net.save(tmp_path / "m")
    np.testing.assert_array_equal(fk.load(tmp_path / "m").predict_array(), expected)
    served = tf.saved_model.load(str(fk.export_saved_model(net, tmp_path / "served")))
    inputs = net.serving_inputs(fk.data.to_panel(gappy, allow_missing=True))
    assert (inputs["mask"] == 0).sum() > (inputs["mask"].sum(axis=1) == 0).sum()  # gaps inside
    out = served.signatures["serve_masked"](**{k: tf.constant(v) for k, v in inputs.items()})
    np.testing.assert_allclose(out["forecast"].numpy(), expected, rtol=1e-5)


def test_a_network_fitted_on_gappy_data_reads_the_indicator_and_one_on_complete_data_not(
        gappy_net, complete):
    def n_features(net):
        return _recurrent_layer(net.members_[0]).get_weights()[0].shape[0]

    complete_net = fk.RNNForecaster(**{**SMALL, "epochs": 1}).fit(complete)
    # the same features (the value, and the seasonal position if read) plus the indicator
    assert n_features(gappy_net) == n_features(complete_net) + 1
    # window statistics from the windows interpolated across their gaps; as before without
    assert gappy_net.normalizer_config_["interpolate_gaps"] is True
    assert complete_net.normalizer_config_["interpolate_gaps"] is False


@pytest.mark.parametrize("log", [True, False])
def test_window_statistics_skip_missing_values(log):
    """Without interpolate_gaps (test_normalization.py has the option)."""
    rng = np.random.default_rng(3)
    history = rng.uniform(5, 15, size=(4, 10)).astype(np.float32)
    mask = np.ones_like(history)
    mask[0, [2, 8]] = 0  # inside the level window (the last 3 steps) and before it
    mask[1, -3:] = 0  # the whole level window missing: all observed values give the level
    mask[2, :4] = 0  # left padding
    norm = WindowNormalizer(log=log, level_window=3)
    z, level, scale, _ = (t.numpy() for t in norm([history * mask, mask]))
    x = np.log(history) if log else history.astype(np.float64)
    for i in range(4):
        observed = mask[i] > 0
        tail = observed[-3:]
        want = x[i, -3:][tail].mean() if tail.any() else x[i][observed].mean()
        assert level[i, 0] == pytest.approx(want, rel=1e-5)
        if not log:
            spread = np.abs(x[i][observed] - want).mean()
            assert scale[i, 0] == pytest.approx(spread, rel=1e-5)
        np.testing.assert_array_equal(z[i][~observed], 0.0)


@pytest.mark.parametrize("loss, distribution", [("mae", None), ("mse", None), ("huber", None),
                                                ("quantile", None), ("mae", "normal")])
def test_masked_losses_average_the_observed_steps_only(loss, distribution):
    head = make_head(loss, distribution, None)
    rng = np.random.default_rng(5)
    y = rng.normal(size=(6, 4)).astype(np.float32)
    shape = (6, 4) if head.kind == "point" else (6, 4, head.n_raw)
    params = rng.normal(size=shape).astype(np.float32)
    if head.kind == "normal":
        params[..., 1] = np.abs(params[..., 1]) + 0.5
    if head.kind == "quantile":
        params = np.sort(params, axis=-1)
    masked = head.masked_loss()
    # complete targets: the unmasked loss, window by window
    full = keras.ops.convert_to_numpy(masked(y, params))
    plain = head.loss()
    expected = keras.ops.convert_to_numpy(
        plain.call(y, params) if isinstance(plain, keras.losses.Loss) else plain(y, params))
    np.testing.assert_allclose(full, expected, rtol=1e-5, atol=1e-6)
    # missing targets: each window's mean over its observed steps (a naive loop)
    gappy = y.copy()
    gappy[0, 1] = gappy[2, :] = gappy[3, [0, 3]] = np.nan
    got = keras.ops.convert_to_numpy(masked(gappy, params))
    for i in range(6):
        steps = np.flatnonzero(~np.isnan(gappy[i]))
        if not len(steps):
            assert got[i] == 0.0
            continue
        one = keras.ops.convert_to_numpy(masked(y[i:i + 1, steps], params[i:i + 1, steps]))
        assert got[i] == pytest.approx(float(one[0]), rel=1e-5)


def test_fitting_with_masked_gaps_gives_finite_forecasts_and_losses(gappy, complete):
    f = fk.RNNForecaster(**SMALL).fit(gappy)
    assert f.n_filled_ == {}
    assert all(np.isfinite(h["loss"]).all() for h in f.history_)
    forecast = f.predict()
    assert np.isfinite(forecast["y_pred"]).all()
    # forecast times continue each series, as with complete data
    reference = fk.RNNForecaster(**SMALL).fit(complete).predict()
    pd.testing.assert_frame_equal(forecast[["unique_id", "ds"]], reference[["unique_id", "ds"]])
    # a gap at the very end of a history is masked too
    tail_gap = complete.copy()
    tail_gap.loc[tail_gap.groupby("unique_id").tail(1).index, "y"] = np.nan
    assert np.isfinite(f.predict_array(y=tail_gap)).all()


def test_masking_is_not_interpolation(gappy, gappy_net):
    one_epoch = {**SMALL, "epochs": 1}  # what is read differs from the first step on
    masked = gappy_net
    with pytest.warns(fk.exceptions.ForecastkitWarning, match="seasonal for runs of half a season"):
        filled = fk.RNNForecaster(**one_epoch, missing="interpolate").fit(gappy)
    assert sum(filled.n_filled_.values()) == int(gappy["y"].isna().sum())
    assert not np.allclose(masked.predict_array(), filled.predict_array())


def test_late_starters_are_trimmed_and_empty_or_blind_histories_are_named(complete):
    late = complete.copy()
    first = late.groupby("unique_id").head(10).index
    late.loc[first[first < late.index[late["unique_id"] == "S0001"][0] + 10], "y"] = np.nan
    f = fk.RNNForecaster(**SMALL).fit(late)
    assert f.panel_.lengths[0] == (complete["unique_id"] == "S0000").sum() - 10
    empty = complete.copy()
    empty.loc[empty["unique_id"] == "S0003", "y"] = np.nan
    with pytest.raises(MissingValuesError, match="'S0003' has no observed value"):
        fk.RNNForecaster(**SMALL).fit(empty)
    # observed once, then nothing for longer than the network reads
    blind = pd.DataFrame({"unique_id": "S0000", "ds": np.arange(f.window_ + 2),
                          "y": [5.0] + [np.nan] * (f.window_ + 1)})
    with pytest.raises(MissingValuesError, match="'S0000' has no observed value in its last"):
        f.predict(y=blind)


def test_missing_time_stamps_become_missing_values_unless_refused():
    from forecastkit.exceptions import FrequencyError

    daily = make_trend_seasonal(n_series=3, length=70, season_length=7, seed=2, freq="D")
    gappy = daily.drop(index=daily.index[[10, 11, 100]])  # S0000 loses two days, S0001 one
    with pytest.warns(fk.exceptions.ForecastkitWarning) as caught:
        theta = fk.baselines.Theta(season_length=7, horizon=3).fit(gappy)
    messages = " | ".join(str(w.message) for w in caught)
    assert "3 missing time stamp(s) in 2 series" in messages
    assert theta.n_filled_ == {"S0000": 2, "S0001": 1}
    expected = fk.baselines.Theta(season_length=7, horizon=3).fit(daily).predict()
    pd.testing.assert_series_equal(theta.predict()["ds"], expected["ds"])
    net = fk.RNNForecaster(**{**SMALL, "season_length": 7}).fit(gappy)
    assert net.n_filled_ == {} and np.isnan(net.panel_.values).sum() == 3
    with pytest.raises(FrequencyError, match="S0000"):
        fk.RNNForecaster(**SMALL, missing="raise").fit(gappy)
    off_grid = daily.copy()
    off_grid.loc[5, "ds"] += pd.Timedelta(hours=3)
    with pytest.raises(FrequencyError, match="S0000"):
        fk.baselines.Theta(season_length=7, horizon=3).fit(off_grid)
