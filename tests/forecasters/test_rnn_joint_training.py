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


def test_joint_differs_from_one_by_one_only_by_the_shuffle(joint):
    one_by_one = fk.RNNForecaster(**PARAMS).fit(_panel())
    # member 0 is shuffled from the same seed either way; member 1 from seed + 1 alone
    np.testing.assert_allclose(joint.members_[0].get_weights()[0],
                               one_by_one.members_[0].get_weights()[0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(joint.members_[1].get_weights()[0],
                           one_by_one.members_[1].get_weights()[0], atol=1e-5)
    a, b = joint.predict_array(), one_by_one.predict_array()
    assert np.all(np.isfinite(a))
    # same networks, same data: forecasts close, not equal
    assert np.max(np.abs(a - b) / np.abs(b)) < 0.2


def test_joint_early_stopping_and_histories_per_member():
    df = _panel()
    f = fk.RNNForecaster(ensemble_training="joint", early_stopping=True, patience=1,
                         **{**PARAMS, "epochs": 4, "n_models": 3}).fit(df)
    assert len(f.history_) == 3 and len(f.members_) == 3
    n_epochs = {len(h["loss"]) for h in f.history_} | {len(h["val_loss"]) for h in f.history_}
    assert len(n_epochs) == 1  # one training, one stopping epoch
    assert np.all(np.isfinite(f.predict_array()))


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


@pytest.mark.parametrize("extra", [dict(strategy="recursive", missing=True),
                                   dict(strategy="seq2seq", distribution="student_t")])
def test_joint_trains_every_strategy_and_head(extra):
    df = _panel()
    if extra.pop("missing", False):  # the masked loss: NaN targets left out
        df.loc[df.sample(frac=0.1, random_state=0).index, "y"] = np.nan
    f = fk.RNNForecaster(ensemble_training="joint", **{**PARAMS, **extra}).fit(df)
    assert all(np.isfinite(h["loss"]).all() for h in f.history_)
    out = f.predict(quantiles=[0.1, 0.9]) if "distribution" in extra else f.predict()
    assert np.isfinite(out.select_dtypes("number").to_numpy()).all()
