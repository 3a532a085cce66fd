"""scikit-learn tuning of forecasters: RollingOriginCV folds and BaseForecaster.score, checked
against the backtest (a separate code path) and against metrics computed by hand."""

import doctest
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, cross_validate

import forecastkit as fk
from forecastkit.evaluation import ForecastScorer, RollingOriginCV, backtest, backtest_metrics
from forecastkit.exceptions import InvalidInputError, SeriesTooShortError


@pytest.fixture
def ragged_df(panel_df):
    """panel_df and a short series (too short for the first of 3 windows of horizon 6), the
    series interleaved (rows by time, then series): folds are row positions of that order."""
    short = pd.DataFrame({"unique_id": "short", "ds": np.arange(12), "y": np.arange(12.0) + 5})
    df = pd.concat([panel_df, short], ignore_index=True)
    return df.sort_values(["ds", "unique_id"], kind="stable").reset_index(drop=True)


def test_folds_are_the_backtest_windows(ragged_df):
    with pytest.warns(fk.exceptions.ForecastkitWarning, match="1 of 6 series"):
        cv = backtest(fk.baselines.Naive(), ragged_df, horizon=6, n_windows=3, n_jobs=1,
                      progress=False)
    folds = list(RollingOriginCV(horizon=6, n_windows=3).split(ragged_df))
    assert RollingOriginCV(horizon=6, n_windows=3).get_n_splits() == len(folds) == 3
    for w, (train, test) in enumerate(folds):
        assert not np.intersect1d(train, test).size
        rows = cv[cv.window == w]
        got = ragged_df.iloc[test].sort_values(["unique_id", "ds"]).reset_index(drop=True)
        expected = rows[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"])
        pd.testing.assert_frame_equal(got, expected.reset_index(drop=True), check_dtype=False)
        # Each series trains on everything up to its cutoff, nothing after.
        tr = ragged_df.iloc[train]
        for sid, cutoff in rows.groupby("unique_id").cutoff.first().items():
            whole = ragged_df[ragged_df.unique_id == sid]
            assert set(tr[tr.unique_id == sid].ds) == set(whole[whole.ds <= cutoff].ds)
        assert set(tr.unique_id) == set(rows.unique_id)
    # 12 points: 0 before window 1 and 6 before window 2, which alone has it.
    assert [("short" in set(ragged_df.iloc[test].unique_id)) for _, test in folds] == \
        [False, False, True]


def test_grid_search_scores_each_fold_as_the_backtest_does(panel_df):
    folds = RollingOriginCV(horizon=6, n_windows=2)
    scorer = ForecastScorer("mase", season_length=12)
    search = GridSearchCV(fk.baselines.SeasonalNaive(horizon=6), {"season_length": [1, 12]},
                          cv=folds, scoring=scorer).fit(panel_df)
    assert search.best_estimator_.panel_.n_series == panel_df.unique_id.nunique()  # refitted
    means = []
    for k, m in enumerate([1, 12]):
        cv = backtest(fk.baselines.SeasonalNaive(season_length=m), panel_df, horizon=6,
                      n_windows=2, n_jobs=1, progress=False)
        per = backtest_metrics(cv, panel_df, season_length=12)
        for w in range(2):
            expected = -per[per.window == w].mase.mean()
            assert search.cv_results_[f"split{w}_test_score"][k] == pytest.approx(expected)
        means.append(-per.groupby("window").mase.mean().mean())
    assert search.best_params_ == {"season_length": [1, 12][int(np.argmax(means))]}


def _by_hand(model, train, test, m):
    """Mean sMAPE and MASE of ``model`` fitted on ``train`` over ``test``, and Naive2's."""
    out = {"smape": [], "mase": [], "smape_n2": [], "mase_n2": []}
    h = test.groupby("unique_id").size().max()
    fc = model.predict(h)
    n2 = fk.baselines.Naive2(season_length=m).fit(train).predict(h)
    for sid, g in test.groupby("unique_id"):
        hist = train[train.unique_id == sid].sort_values("ds").y.to_numpy()
        g = g.sort_values("ds")
        for name, frame in (("", fc), ("_n2", n2)):
            p = frame[frame.unique_id == sid].set_index("ds").y_pred.loc[g.ds].to_numpy()
            out["smape" + name].append(np.mean(200 * np.abs(g.y - p) / (np.abs(g.y) + np.abs(p))))
            scale = np.mean(np.abs(hist[m:] - hist[:-m]))
            out["mase" + name].append(np.mean(np.abs(g.y.to_numpy() - p)) / scale)
    return {k: float(np.mean(v)) for k, v in out.items()}


def test_score_matches_metrics_computed_by_hand(panel_df):
    ends = panel_df.groupby("unique_id").ds.transform("max").to_numpy()
    train, test = panel_df[panel_df.ds <= ends - 8], panel_df[panel_df.ds > ends - 8]
    ends = test.groupby("unique_id").ds.transform("max").to_numpy()
    # A subset of the series, some with fewer steps, rows in any order.
    keep = test.unique_id.isin(test.unique_id.unique()[:3])
    test = test[keep & ~((test.unique_id == test.unique_id.iloc[0]) & (test.ds > ends - 3))]
    test = test.sample(frac=1.0, random_state=1)
    model = fk.baselines.Theta(season_length=12).fit(train)
    ref = _by_hand(model, train, test, 12)
    assert model.score(test) == pytest.approx(-ref["mase"])
    assert model.score(test, metric="smape") == pytest.approx(-ref["smape"])
    owa = 0.5 * (ref["smape"] / ref["smape_n2"] + ref["mase"] / ref["mase_n2"])
    assert model.score(test, metric="owa") == pytest.approx(-owa)
    assert ForecastScorer("owa")(model, test) == pytest.approx(-owa)
    assert pickle.loads(pickle.dumps(ForecastScorer("smape")))(model, test) == \
        pytest.approx(-ref["smape"])


def test_one_series_and_a_combination_take_their_season_length(monthly_series):
    train, test = monthly_series.iloc[:-6], monthly_series.iloc[-6:]
    comb = fk.forecasters.Combination([("t", fk.baselines.Theta(season_length=12, horizon=6)),
                                       ("n", fk.baselines.Naive(horizon=6))]).fit(train)
    theta = fk.baselines.Theta(season_length=12, horizon=6).fit(train)
    pred = comb.predict(6).to_numpy()
    hist = train.to_numpy()
    expected = np.mean(np.abs(test.to_numpy() - pred)) / np.mean(np.abs(hist[12:] - hist[:-12]))
    assert comb.score(test) == pytest.approx(-expected)  # season 12, from the Theta member
    # season_length=1 scales by the one-step naive error instead: another number.
    one = np.mean(np.abs(test.to_numpy() - pred)) / np.mean(np.abs(np.diff(hist)))
    assert comb.score(test, season_length=1) == pytest.approx(-one)
    assert np.isfinite(theta.score(test))
    res = cross_validate(fk.baselines.Theta(season_length=12, horizon=6), monthly_series,
                         cv=RollingOriginCV(horizon=6, n_windows=3))
    assert res["test_score"].shape == (3,) and np.isfinite(res["test_score"]).all()


def test_an_rnn_forecaster_is_tuned_by_grid_search(panel_df):
    net = fk.RNNForecaster(horizon=6, season_length=12, epochs=1, n_models=1, units=(8,),
                           random_state=0)
    search = GridSearchCV(net, {"lookback": [12, 24]}, cv=RollingOriginCV(horizon=6,
                          n_windows=2), scoring=ForecastScorer("smape")).fit(panel_df)
    assert search.best_params_["lookback"] in (12, 24)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.lookback == search.best_params_["lookback"]


def test_bad_input_to_score_and_split_is_named(panel_df):
    ends = panel_df.groupby("unique_id").ds.transform("max").to_numpy()
    train, test = panel_df[panel_df.ds <= ends - 4], panel_df[panel_df.ds > ends - 4]
    ends = test.groupby("unique_id").ds.transform("max").to_numpy()
    model = fk.baselines.Naive(horizon=4).fit(train)
    sid = test.unique_id.iloc[0]
    other = test.assign(unique_id=np.where(test.unique_id == sid, "nobody", test.unique_id))
    with pytest.raises(InvalidInputError, match="'nobody' of y was not in the data"):
        model.score(other)
    inside = pd.concat([train[train.unique_id == sid].tail(1), test])
    with pytest.raises(InvalidInputError, match=f"series {sid!r}: time stamp .* is not one"):
        model.score(inside)
    gap = test[~((test.unique_id == sid) & (test.ds == (ends - 2)))]
    gap = pd.concat([gap, test[test.unique_id == sid].assign(ds=lambda d: d.ds + 10).tail(1)])
    with pytest.raises(InvalidInputError, match=f"series {sid!r}: time stamp"):
        model.score(gap)
    with pytest.raises(InvalidInputError, match="non-finite"):
        model.score(test.assign(y=np.nan))
    with pytest.raises(InvalidInputError, match="metric must be one of"):
        model.score(test, metric="mape")
    with pytest.raises(InvalidInputError, match="no column"):
        model.score(test.drop(columns="y"))
    with pytest.raises(InvalidInputError, match="fitted on 5"):
        model.score(pd.Series([1.0], index=[1000]))
    # A series holding steps 3-4 only: a gap, whatever the other series hold.
    later = pd.concat([test[test.unique_id != sid], test[test.unique_id == sid].tail(2)])
    with pytest.raises(InvalidInputError, match=f"series {sid!r}: y holds 2 time stamps but"):
        model.score(later)
    with pytest.raises(InvalidInputError, match="repeats a time stamp"):
        model.score(pd.concat([test, test[test.unique_id == sid].head(1)]))
    short = pd.DataFrame({"unique_id": "tiny", "ds": np.arange(5), "y": np.ones(5)})
    with pytest.raises(SeriesTooShortError, match="'tiny'"):
        list(RollingOriginCV(horizon=4, n_windows=2).split(pd.concat([panel_df, short])))
    # 20 windows of 6: no series is long enough for the earliest, and an empty fold would
    # make GridSearchCV rank candidates on NaN.
    with pytest.raises(SeriesTooShortError, match="window 7 of 20 .* covers no series"):
        list(RollingOriginCV(horizon=6, n_windows=20).split(panel_df))
    with pytest.raises(InvalidInputError, match="bare array"):
        list(RollingOriginCV(horizon=4).split(np.ones((10, 3))))


def test_the_documented_example_runs():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(RollingOriginCV, "RollingOriginCV"):
        runner.run(test)
    assert runner.summarize(verbose=False).attempted >= 4
    assert runner.summarize(verbose=False).failed == 0
