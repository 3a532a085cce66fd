"""``ensemble_training="joint"``: the members trained side by side in one Keras model.

The reference is Keras itself: each member compiled alone and fitted with ``Model.fit`` on the
same stream of windows. The members share no weights, and Adam and ``clipnorm`` act weight by
weight, so the summed loss must move each member exactly as its own loss does.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import forecastkit as fk
from forecastkit.datasets import make_trend_seasonal
from forecastkit.forecasters import _rnn_setup as setup
from forecastkit.forecasters._joint_training import joint_model

PARAMS = dict(cell="lstm", units=(8,), lookback=(12, 8), horizon=4, season_length=12,
              epochs=2, batch_size=32, n_models=2, random_state=3)


def _panel():
    return make_trend_seasonal(n_series=6, length=(40, 60), season_length=12, seed=2)


@pytest.fixture(scope="module")
def joint():
    return fk.RNNForecaster(ensemble_training="joint", **PARAMS).fit(_panel())


def test_joint_members_take_the_steps_they_take_alone(joint):
    panel = joint.panel_
    data = setup.plan_training(joint, panel, setup.normalizer(joint), None, 3)
    for i, lb in enumerate(joint.lookbacks_):
        alone = setup.new_member(joint, lb, 3 + i, f"member_{i}")
        # the joint stream is shuffled from the forecaster's seed for every member (tf.data's
        # random ops read the global seed too)
        keras.utils.set_random_seed(3)
        fit = alone.fit(data.dataset(lb, 32, 3), epochs=2, shuffle=False, verbose=0)
        for w_joint, w_alone in zip(joint.members_[i].get_weights(), alone.get_weights(),
                                    strict=True):
            np.testing.assert_allclose(w_joint, w_alone, rtol=1e-4, atol=1e-5)
        # Keras averages a term of the summed loss over batches, the total over windows: the
        # last, smaller batch weighs differently, so the histories agree only roughly.
        np.testing.assert_allclose(joint.history_[i]["loss"], fit.history["loss"], rtol=0.1)


def test_joint_model_reads_each_members_view(joint):
    f = joint
    data = setup.plan_training(f, f.panel_, setup.normalizer(f), None, 3)
    batch = next(iter(data.stream(16, 0)))[0]
    model = joint_model(f.members_, f.lookbacks_, "direct", data.stream(16, 0).element_spec[0])
    out = model.predict_on_batch(batch)
    for i, lb in enumerate(f.lookbacks_):
        assert set(batch) == {"z", "mask"}  # integer time stamps: no seasonal position
        own = {"z": batch["z"][:, -lb:], "mask": batch["mask"][:, -lb:]}
        np.testing.assert_allclose(out[f"member_{i}"], f.members_[i].predict_on_batch(own),
                                   rtol=1e-5, atol=1e-6)


def test_unknown_ensemble_training_is_refused():
    with pytest.raises(ValueError, match="ensemble_training"):
        fk.RNNForecaster(ensemble_training="parallel", **PARAMS).fit(_panel())


def test_joint_recursive_distribution_head_on_gaps_with_early_stopping():
    df = _panel()
    df.loc[df.sample(frac=0.1, random_state=0).index, "y"] = np.nan  # NaN targets: masked loss
    f = fk.RNNForecaster(ensemble_training="joint", strategy="recursive",
                         distribution="student_t", early_stopping=True, patience=1,
                         **{**PARAMS, "epochs": 3}).fit(df)
    assert len(f.history_) == 2 and len(f.members_) == 2
    # one training, one stopping epoch: every member's history has the same length
    n_epochs = {len(h["loss"]) for h in f.history_} | {len(h["val_loss"]) for h in f.history_}
    assert len(n_epochs) == 1
    assert all(np.isfinite(h["loss"]).all() for h in f.history_)
    out = f.predict(quantiles=[0.1, 0.9])
    assert np.isfinite(out.select_dtypes("number").to_numpy()).all()
    assert (out["q0.1"] <= out["q0.9"]).all()


def test_building_the_training_state_before_tracing_changes_nothing(monkeypatch):
    """fit builds the optimizer's slots and the per-member loss trackers before Keras traces
    the train step (one trace, not two): a masked Student-t fit in one graph with early
    stopping has the same history and weights as with Keras' own deferred build."""
    from forecastkit.forecasters import _rnn_training

    df = _panel()
    df.loc[df.sample(frac=0.1, random_state=0).index, "y"] = np.nan
    kw = dict(ensemble_training="joint", distribution="student_t", early_stopping=True,
              patience=1, **PARAMS)
    built = fk.RNNForecaster(**kw).fit(df)
    monkeypatch.setattr(_rnn_training, "_build_before_tracing", lambda model, train: None)
    deferred = fk.RNNForecaster(**kw).fit(df)
    assert built.history_ == deferred.history_ and "val_loss" in built.history_[0]
    for a, b in zip(built.members_, deferred.members_, strict=True):
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)
