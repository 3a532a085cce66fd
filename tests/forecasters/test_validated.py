"""ValidatedCombination: the choice and its scores against a hand-written holdout loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from forecastkit.evaluation.registry import make_model
from forecastkit.exceptions import ForecastkitError, InvalidInputError, SeriesTooShortError
from forecastkit.forecasters.base import BaseForecaster
from forecastkit.forecasters.baselines import Drift, Mean, Naive
from forecastkit.forecasters.combination import Combination
from forecastkit.forecasters.validated import ValidatedCombination

H = 6


def _members(horizon=H):
    return [
        ("naive", Naive(horizon=horizon)),
        ("drift", Drift(horizon=horizon)),
        ("mean", Mean(horizon=horizon)),
    ]


def _trend_panel(lengths=(40, 50, 60), noise=0.0, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for k, n in enumerate(lengths):
        t = np.arange(n, dtype=float)
        y = 50.0 + (k + 1) * 0.8 * t + noise * rng.standard_normal(n)
        frames.append(pd.DataFrame({"unique_id": f"s{k}", "ds": np.arange(n), "y": y}))
    return pd.concat(frames, ignore_index=True)


def _smape(a, p):
    return np.mean(200 * np.abs(a - p) / (np.abs(a) + np.abs(p)))


def _loop_scores(df, groups, windows, horizon=H):
    """The reference: per window and series, fit each member on the series cut before the window
    (one series at a time, numpy only), average each group's forecasts, then sMAPE."""
    fns = {
        "naive": lambda x: np.repeat(x[-1], horizon),
        "drift": lambda x: x[-1] + (x[-1] - x[0]) / (len(x) - 1) * np.arange(1, horizon + 1),
        "mean": lambda x: np.repeat(x.mean(), horizon),
    }
    out = {}
    for w in range(1, windows + 1):
        per_group = {g: [] for g in groups}
        for _, s in df.groupby("unique_id", sort=False):
            y = s["y"].to_numpy()
            cut = len(y) - w * horizon
            train, actual = y[:cut], y[cut : cut + horizon]
            for g in groups:
                pred = np.mean([fns[m](train) for m in g], axis=0)
                per_group[g].append(_smape(actual, pred))
        for g in groups:
            out[("+".join(g), w)] = float(np.mean(per_group[g]))
    return out


def test_scores_match_a_hand_written_holdout_loop_and_the_best_is_chosen():
    df = _trend_panel(noise=0.5)
    vc = ValidatedCombination(_members(), n_windows=2).fit(df)
    groups = [("naive",), ("naive", "drift"), ("naive", "mean")]
    expected = _loop_scores(df, groups, windows=2)
    got = {(r.candidate, r.window): r.score for r in vc.scores_.itertuples()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-10), key
    means = {g: np.mean([expected[("+".join(g), w)] for w in (1, 2)]) for g in groups}
    best = min(groups, key=lambda g: means[g])
    # On straight trends the mean of naive and drift halves naive's error; the mean with the
    # historical mean makes it worse.
    assert best == ("naive", "drift")
    assert vc.selected_ == best
    assert list(vc.mean_scores_.index) == ["naive", "naive+drift", "naive+mean"]
    assert (vc.scores_["n_series"] == 3).all()
    assert vc.left_out_ == {1: [], 2: []}


def test_forecast_is_the_chosen_combination_refitted_on_all_data():
    df = _trend_panel(noise=0.5)
    vc = ValidatedCombination(_members()).fit(df)
    direct = Combination([m for m in _members() if m[0] in vc.selected_]).fit(df).predict()
    pd.testing.assert_frame_equal(vc.predict(), direct)
    assert isinstance(vc.best_estimator_, Combination)


def test_single_member_choice_and_explicit_candidates():
    df = _trend_panel()
    # Exact straight lines: drift alone is perfect, so it must beat every mean.
    vc = ValidatedCombination(_members(), candidates=[["naive", "drift"], "drift", ["mean"]])
    vc.fit(df)
    assert vc.selected_ == ("drift",)
    assert vc.mean_scores_["drift"] == pytest.approx(0.0, abs=1e-9)
    assert isinstance(vc.best_estimator_, Drift)
    np.testing.assert_allclose(
        vc.predict_array(), clone(_members()[1][1]).fit(df).predict_array()
    )


def test_short_series_are_left_out_of_a_window_and_named():
    df = _trend_panel(lengths=(10, 40, 50))  # s0 has 10 points: window 2 needs 12 + 1
    vc = ValidatedCombination(_members(), n_windows=2).fit(df)
    assert vc.left_out_ == {1: [], 2: ["s0"]}
    n = vc.scores_.set_index(["candidate", "window"])["n_series"]
    assert n[("naive", 1)] == 3 and n[("naive", 2)] == 2
    # Still forecasts every series, the short one included.
    assert vc.predict()["unique_id"].nunique() == 3


def test_nothing_long_enough_to_validate_raises_naming_a_series():
    df = _trend_panel(lengths=(5, 6))
    with pytest.raises(SeriesTooShortError, match="needs 8 observations.*'s1', has 6"):
        ValidatedCombination(_members()).fit(df)


def _noise_panel(n=3, length=60, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.concat(
        [pd.DataFrame({"unique_id": f"s{k}", "ds": np.arange(length),
                       "y": 50.0 + 5.0 * rng.standard_normal(length)}) for k in range(n)],
        ignore_index=True,
    )


def test_new_history_keeps_the_choice():
    df = _trend_panel(noise=0.5)
    vc = ValidatedCombination(_members()).fit(df)
    assert vc.selected_ == ("naive", "drift")
    noise = _noise_panel()
    # Chosen afresh on the new data, the choice would differ (the mean helps on noise) ...
    assert ValidatedCombination(_members()).fit(noise).selected_ == ("naive", "mean")
    # ... but a fitted ValidatedCombination keeps its own, refitting its local members.
    new = vc.predict(y=noise)
    kept = Combination([m for m in _members() if m[0] in vc.selected_]).fit(noise).predict()
    pd.testing.assert_frame_equal(new, kept)


def test_ties_keep_the_first_candidate():
    df = _trend_panel(noise=0.5)
    twins = [("naive", Naive(horizon=H)), ("same", Naive(horizon=H)), ("drift", Drift(horizon=H))]
    vc = ValidatedCombination(twins, candidates=["same", "naive"]).fit(df)
    assert vc.mean_scores_["same"] == vc.mean_scores_["naive"]
    assert vc.selected_ == ("same",)


class _NaNForecaster(Naive):
    def _predict(self, panel, horizon):
        out = super()._predict(panel, horizon)
        out[1] = np.nan
        return out


def test_a_member_forecasting_nan_is_named_not_chosen():
    # Without the check the NaN would surface only as a non-finite score, member unnamed.
    members = [("naive", Naive(horizon=H)), ("bad", _NaNForecaster(horizon=H))]
    with pytest.raises(ForecastkitError, match="'bad' forecast non-finite values for series 's1'"):
        ValidatedCombination(members, candidates=["naive", "bad"]).fit(_trend_panel(noise=0.5))


def test_member_errors_name_the_member_and_window():
    members = [("naive", Naive(horizon=H)), ("drift", Drift(horizon=H, season_length=0))]
    with pytest.raises(ForecastkitError, match="fitting 'drift' on validation window 1"):
        ValidatedCombination(members).fit(_trend_panel())


def test_mase_leaves_out_a_constant_training_part():
    df = pd.concat([_trend_panel(noise=0.5),
                    pd.DataFrame({"unique_id": "flat", "ds": np.arange(40), "y": 7.0})],
                   ignore_index=True)
    vc = ValidatedCombination(_members(), metric="mase", season_length=1).fit(df)
    assert vc.left_out_ == {1: ["flat"]}
    assert np.isfinite(vc.mean_scores_).all() and vc.selected_ == ("naive", "drift")
    assert (vc.scores_["n_series"] == 3).all()


def test_mase_metric_matches_the_loop_scale():
    df = _trend_panel(noise=0.5)
    vc = ValidatedCombination(_members(), metric="mase", season_length=1).fit(df)
    # Reference for one cell: naive on window 1, MASE = MAE / in-sample naive MAE, per series.
    ref = []
    for _, s in df.groupby("unique_id", sort=False):
        y = s["y"].to_numpy()
        train, actual = y[:-H], y[-H:]
        ref.append(np.mean(np.abs(actual - train[-1])) / np.mean(np.abs(np.diff(train))))
    got = vc.scores_.set_index(["candidate", "window"])["score"][("naive", 1)]
    assert got == pytest.approx(np.mean(ref), rel=1e-10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"candidates": [["naive", "theta"]]}, "unknown: \\['theta'\\]"),
        ({"candidates": []}, "candidates is empty"),
        ({"candidates": [["naive", "naive"]]}, "distinct"),
        ({"candidates": ["naive", ["naive"]]}, "distinct"),
        ({"candidates": [["naive", "drift"], ["drift", "naive"]]}, "distinct groups"),
        ({"candidates": [3]}, "a name or a list of names"),
        ({"n_windows": 0}, "n_windows"),
        ({"metric": "mse"}, "metric"),
    ],
)
def test_bad_parameters_raise_forecastkit_errors(kwargs, message):
    with pytest.raises(ForecastkitError, match=message):
        ValidatedCombination(_members(), **kwargs).fit(_trend_panel())


def test_duplicate_names_and_missing_horizon():
    with pytest.raises(ForecastkitError, match="unique"):
        ValidatedCombination([("a", Naive(horizon=3)), ("a", Drift(horizon=3))]).fit(
            _trend_panel()
        )
    with pytest.raises(ForecastkitError, match="horizon"):
        ValidatedCombination([("a", Naive()), ("b", Drift())]).fit(_trend_panel())
    with pytest.raises(ForecastkitError, match="'\\+'"):
        ValidatedCombination([("a+b", Naive(horizon=3)), ("c", Drift(horizon=3))]).fit(
            _trend_panel()
        )
    with pytest.raises(ForecastkitError, match="pairs"):
        ValidatedCombination([Naive(horizon=3)]).fit(_trend_panel())


def test_numpy_integer_horizon_reaches_the_refit_and_the_save(tmp_path):
    from forecastkit import load

    vc = ValidatedCombination(_members(horizon=None), horizon=np.int64(H)).fit(_trend_panel())
    assert vc.predict_array().shape == (3, H)
    again = load(vc.save(tmp_path / "vc"))
    assert again.horizon == H and type(again.horizon) is int
    np.testing.assert_array_equal(again.predict_array(), vc.predict_array())


def test_a_member_that_cannot_be_saved_is_named_and_nothing_is_written(tmp_path):
    members = [("g", _GlobalSlope(horizon=H)), ("naive", Naive(horizon=H))]
    vc = ValidatedCombination(members, candidates=[["g", "naive"]]).fit(_trend_panel())
    with pytest.raises(ForecastkitError, match="member 'g'.*cannot be saved"):
        vc.save(tmp_path / "vc")
    assert not (tmp_path / "vc").exists()


def test_clone_and_registry_name():
    vc = ValidatedCombination(_members(), n_windows=2)
    assert clone(vc).get_params()["n_windows"] == 2
    built = make_model("lstm-validated", horizon=8, season_length=1, seed=3)
    assert isinstance(built, ValidatedCombination)
    assert [name for name, _ in built.estimators] == ["lstm", "theta", "comb"]
    assert built.estimators[0][1].random_state == 3
    assert built.horizon == 8


def test_fit_changes_no_parameter_and_pickles():
    import pickle

    import joblib

    vc = ValidatedCombination(_members(), n_windows=2)
    before = joblib.hash(vc.get_params())
    vc.fit(_trend_panel(noise=0.5))
    assert joblib.hash(vc.get_params()) == before
    assert [name for name, est in vc.estimators if hasattr(est, "panel_")] == []  # not fitted
    again = pickle.loads(pickle.dumps(vc))
    np.testing.assert_array_equal(again.predict_array(), vc.predict_array())


class _GlobalSlope(BaseForecaster):
    """A global model: one slope learned across all series, added to each history's last
    value. Records the series lengths of every fit."""

    is_global = True
    FITS: list[list[int]] = []

    def __init__(self, horizon=None):
        self.horizon = horizon

    def _fit(self, panel):
        _GlobalSlope.FITS.append([int(n) for n in panel.lengths])
        ends = panel.indptr[1:] - 1
        starts = panel.indptr[:-1]
        self.slope_ = float(np.mean(
            (panel.values[ends] - panel.values[starts]) / (panel.lengths - 1)
        ))

    def _predict(self, panel, horizon):
        last = panel.values[panel.indptr[1:] - 1]
        return last[:, None] + self.slope_ * np.arange(1, horizon + 1)[None, :]


def test_refit_false_keeps_the_window_fit_of_global_members():
    df = _trend_panel(noise=0.5)
    members = [("g", _GlobalSlope(horizon=H)), ("naive", Naive(horizon=H)),
               ("mean", Mean(horizon=H))]
    candidates = [["g", "naive"], ["mean"]]  # the mean is far off on trends: g+naive wins
    _GlobalSlope.FITS.clear()
    vc = ValidatedCombination(members, candidates=candidates, refit=False).fit(df)
    # The global member is trained once, on all but the last horizon of every series.
    assert _GlobalSlope.FITS == [[40 - H, 50 - H, 60 - H]]
    refitted = ValidatedCombination(members, candidates=candidates).fit(df)
    assert len(_GlobalSlope.FITS) == 3  # refit=True: a window fit and a fit on all the data
    pd.testing.assert_frame_equal(vc.scores_, refitted.scores_)
    assert vc.selected_ == refitted.selected_ == ("g", "naive")
    assert not hasattr(vc, "best_estimator_") and not hasattr(refitted, "members_")
    # Reference: the window fit continues the full histories; naive is fitted on all the data.
    cut = df[df.groupby("unique_id").cumcount(ascending=False) >= H]
    window_fit = _GlobalSlope(horizon=H).fit(cut)
    expected = (window_fit.predict_array(H, y=df) + Naive(horizon=H).fit(df).predict_array()) / 2
    np.testing.assert_allclose(vc.predict_array(), expected)
    assert not np.allclose(vc.predict_array(), refitted.predict_array())
    # New histories: the kept global fit continues them, the local member is refitted on them.
    new = df.assign(y=df["y"] * 2.0)
    expected_new = (window_fit.predict_array(H, y=new)
                    + Naive(horizon=H).fit(new).predict_array()) / 2
    np.testing.assert_allclose(vc.predict_array(y=new), expected_new)
    assert len(_GlobalSlope.FITS) == 4  # predicting fitted no global member again


class _BoundedSlope(_GlobalSlope):
    """A global model that, like a network fitted in log space, cannot forecast histories
    going below the smallest value it was trained on."""

    def _fit(self, panel):
        super()._fit(panel)
        self.min_ = float(panel.values.min())

    def _predict(self, panel, horizon):
        if panel.values.min() < self.min_:
            raise InvalidInputError(f"values below {self.min_} were not seen in training")
        return super()._predict(panel, horizon)


def test_refit_false_refits_a_kept_member_that_cannot_continue_the_full_histories():
    df = _trend_panel(noise=0.5)
    last = df.groupby("unique_id").cumcount(ascending=False) == 0
    df.loc[last & (df["unique_id"] == "s1"), "y"] = -5.0  # below anything window 1 trains on
    members = [("g", _BoundedSlope(horizon=H)), ("naive", Naive(horizon=H))]
    _GlobalSlope.FITS.clear()
    with pytest.warns(UserWarning, match="'g' as fitted on validation window 1 cannot"):
        vc = ValidatedCombination(members, candidates=[["g", "naive"]], refit=False).fit(df)
    assert [len(f) for f in _GlobalSlope.FITS] == [3, 3]  # window fit, then all the data
    assert _GlobalSlope.FITS[1] == [40, 50, 60]
    expected = ValidatedCombination(members, candidates=[["g", "naive"]]).fit(df)
    np.testing.assert_allclose(vc.predict_array(), expected.predict_array())


def test_a_fit_under_other_settings_leaves_nothing_of_the_last_one():
    df = _trend_panel(noise=0.5)
    members = [("g", _GlobalSlope(horizon=H)), ("naive", Naive(horizon=H))]
    vc = ValidatedCombination(members, refit=False).fit(df)
    assert hasattr(vc, "members_")
    vc.set_params(refit=True).fit(df)
    assert hasattr(vc, "best_estimator_") and not hasattr(vc, "members_")
    # A fit that fails leaves an unfitted object, not the last fit's forecasts.
    with pytest.raises(SeriesTooShortError):
        vc.fit(_trend_panel(lengths=(5, 6)))
    assert not hasattr(vc, "panel_") and not hasattr(vc, "best_estimator_")


@pytest.mark.parametrize("refit", [True, False])
def test_new_histories_are_continued_by_global_members_without_retraining(refit):
    df = _trend_panel(noise=0.5)
    members = [("g", _GlobalSlope(horizon=H)), ("naive", Naive(horizon=H))]
    vc = ValidatedCombination(members, candidates=[["g", "naive"]], refit=refit).fit(df)
    fits = len(_GlobalSlope.FITS)
    new = df.assign(y=df["y"] * 3.0)
    got = vc.predict_array(y=new)
    assert len(_GlobalSlope.FITS) == fits  # the network-like member was not trained again
    g = vc.best_estimator_.estimators_[0][1] if refit else vc.members_[0][1]
    expected = (g.predict_array(H, y=new) + Naive(horizon=H).fit(new).predict_array()) / 2
    np.testing.assert_allclose(got, expected)


def test_registry_builds_the_norefit_variant():
    f = make_model("lstm-validated-norefit", horizon=6, season_length=1)
    assert isinstance(f, ValidatedCombination) and f.refit is False
    assert [n for n, _ in f.estimators] == ["lstm", "theta", "comb"]
    assert make_model("lstm-validated", horizon=6, season_length=1).refit is True
