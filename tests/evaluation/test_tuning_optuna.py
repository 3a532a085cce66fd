"""fk.tune: Optuna search on rolling-origin windows, checked against scikit-learn's
cross_validate on the same folds (an independent path to the same errors)."""

import numpy as np
import optuna
import pytest
from sklearn.model_selection import cross_validate

import forecastkit as fk
from forecastkit.evaluation import ForecastScorer, RollingOriginCV, rnn_search_space, tune
from forecastkit.exceptions import ForecastkitError, InvalidInputError

CHOICES = [1, 2, 3, 4, 6, 12]


def _cv_error(estimator, df, metric="mase", season_length=12, n_windows=2):
    """Mean error over the folds, as scikit-learn's cross_validate computes it."""
    res = cross_validate(estimator, df, cv=RollingOriginCV(horizon=6, n_windows=n_windows),
                         scoring=ForecastScorer(metric, season_length=season_length))
    return -float(np.mean(res["test_score"]))


def test_every_trial_error_is_the_cross_validated_error(panel_df):
    sampler = optuna.samplers.GridSampler({"season_length": CHOICES})
    result = tune(fk.baselines.SeasonalNaive(horizon=6), panel_df, {"season_length": CHOICES},
                  n_trials=len(CHOICES), storage=None, sampler=sampler,
                  pruner=optuna.pruners.NopPruner(), season_length=12, progress=False)
    errors = {t.params["season_length"]: t.value for t in result.study.trials}
    assert sorted(errors) == CHOICES
    for m, error in errors.items():
        assert error == pytest.approx(_cv_error(fk.baselines.SeasonalNaive(season_length=m,
                                                                            horizon=6), panel_df))
    best = min(errors, key=errors.get)
    assert result.best_params == {"season_length": best}
    assert result.best_error == pytest.approx(errors[best])
    assert result.best_forecaster.season_length == best
    assert result.best_forecaster.panel_.n_series == panel_df.unique_id.nunique()  # all data
    assert len(result.trials()) == len(CHOICES)


def test_an_interrupted_search_resumes_from_its_sqlite_file(panel_df, tmp_path):
    store = tmp_path / "search.db"
    kwargs = dict(storage=store, season_length=12, progress=False, refit=False, seed=3)
    first = tune(fk.baselines.SeasonalNaive(horizon=6), panel_df, {"season_length": CHOICES},
                 n_trials=3, **kwargs)
    seen = [(t.params, t.value) for t in first.study.trials]
    again = tune(fk.baselines.SeasonalNaive(horizon=6), panel_df, {"season_length": CHOICES},
                 n_trials=5, **kwargs)
    assert again.study.study_name == first.study.study_name
    assert len(again.study.trials) == 5
    assert [(t.params, t.value) for t in again.study.trials[:3]] == seen  # kept, not rerun
    # The resumed sampler is seeded anew: it does not replay the first run's draws.
    assert [t.params for t in again.study.trials[3:]] != [p for p, _ in seen[:2]]
    done = tune(fk.baselines.SeasonalNaive(horizon=6), panel_df, {"season_length": CHOICES},
                n_trials=5, **kwargs)
    assert len(done.study.trials) == 5  # nothing left to run
    # Another metric is another search: a new study in the same file.
    other = tune(fk.baselines.SeasonalNaive(horizon=6), panel_df, {"season_length": CHOICES},
                 n_trials=1, metric="smape", **kwargs)
    assert other.study.study_name != first.study.study_name
    assert len(other.study.trials) == 1


def test_bad_trials_are_pruned_after_their_first_windows(panel_df):
    # Every choice is tried twice (a grid of duplicates): the median pruner, after two
    # startup trials, stops those worse than the median at the first window.
    sampler = optuna.samplers.GridSampler({"season_length": CHOICES * 2})
    result = tune(fk.baselines.SeasonalNaive(horizon=6), panel_df, {"season_length": CHOICES},
                  n_trials=12, n_windows=3, storage=None, sampler=sampler, progress=False,
                  pruner=optuna.pruners.MedianPruner(n_startup_trials=2), season_length=12,
                  refit=False)
    pruned = [t for t in result.study.trials if t.state.name == "PRUNED"]
    assert pruned
    for t in pruned:
        assert len(t.intermediate_values) < 3  # stopped before the last window
        # Optuna's rule: the trial's best running mean so far is worse than the median of
        # the completed trials' at that window.
        step = max(t.intermediate_values)
        earlier = [u.intermediate_values[step] for u in result.study.trials
                   if u.number < t.number and u.state.name == "COMPLETE"]
        assert min(t.intermediate_values.values()) > np.median(earlier)


def test_a_choice_of_estimators_is_copied_and_failed_trials_are_recorded(panel_df):
    naive, theta = fk.baselines.Naive(horizon=6), fk.baselines.Theta(season_length=12, horizon=6)
    space = {"estimators": [[("naive", naive)], [("theta", theta)], [("bad", "not a model")]]}
    sampler = optuna.samplers.GridSampler({"estimators": [repr(c) for c in space["estimators"]]})
    result = tune(fk.forecasters.Combination([("naive", naive)]), panel_df, space, n_trials=3,
                  horizon=6, storage=None, sampler=sampler, progress=False,
                  pruner=optuna.pruners.NopPruner(), season_length=12)
    states = sorted(t.state.name for t in result.study.trials)
    assert states == ["COMPLETE", "COMPLETE", "FAIL"]
    failed = next(t for t in result.study.trials if t.state.name == "FAIL")
    assert "not a model" in failed.user_attrs["error"] or "bad" in failed.user_attrs["error"]
    assert not hasattr(naive, "panel_") and not hasattr(theta, "panel_")  # never fitted
    errors = {t.params["estimators"]: t.value for t in result.study.trials if t.value}
    expected = {repr(c): _cv_error(fk.forecasters.Combination(c), panel_df)
                for c in space["estimators"][:2]}
    assert errors == pytest.approx(expected)
    assert result.best_params["estimators"] is space["estimators"][
        int(np.argmin([expected[repr(c)] for c in space["estimators"][:2]]))]


def test_every_trial_failing_and_bad_arguments_are_clear(panel_df):
    with pytest.raises(ForecastkitError, match="every trial .* failed; the first"):
        tune(fk.forecasters.Combination([("n", fk.baselines.Naive())]), panel_df,
             {"estimators": [[("bad", "not a model")]]}, n_trials=1, horizon=6, storage=None,
             progress=False)
    with pytest.raises(InvalidInputError, match="has no parameter 'season'"):
        tune(fk.baselines.Naive(horizon=6), panel_df, {"season": [1]}, storage=None)
    with pytest.raises(InvalidInputError, match="needs a horizon"):
        tune(fk.baselines.Naive(), panel_df, {"season_length": [1]}, storage=None)
    with pytest.raises(InvalidInputError, match="metric must be"):
        tune(fk.baselines.Naive(horizon=6), panel_df, {"season_length": [1]}, metric="mae",
             storage=None)
    with pytest.raises(InvalidInputError, match="no choices"):
        tune(fk.baselines.Naive(horizon=6), panel_df, {"season_length": []}, storage=None)
    with pytest.raises(InvalidInputError, match="must be a list of choices or an optuna"):
        tune(fk.baselines.Naive(horizon=6), panel_df, {"season_length": (1, 12)}, storage=None)
    with pytest.raises(fk.exceptions.SeriesTooShortError, match="window 7 of 20 .* covers no"):
        tune(fk.baselines.Naive(horizon=6), panel_df, {"season_length": [1]}, n_windows=20,
             storage=None)


def test_the_rnn_search_space_tunes_an_rnn_forecaster(panel_df):
    space = rnn_search_space(horizon=6, season_length=12)
    net = fk.RNNForecaster(horizon=6, season_length=12, epochs=1, n_models=1, random_state=0)
    assert set(space) <= set(net.get_params())
    result = tune(net, panel_df, space, n_trials=1, n_windows=1, storage=None, progress=False,
                  metric="smape", refit=False)
    (trial,) = result.study.trials
    assert trial.state.name == "COMPLETE" and np.isfinite(trial.value)
    assert result.best_params["units"] in space["units"]
    assert 3e-4 <= result.best_params["learning_rate"] <= 3e-3
