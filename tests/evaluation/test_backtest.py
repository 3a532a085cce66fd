import importlib
import warnings

import numpy as np
import pandas as pd
import pytest
from _dummies import GlobalMean, LastValue

import forecastkit as fk
from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.exceptions import ForecastkitWarning, InvalidInputError, SeriesTooShortError

# The module, not the function the package exports under the same name.
backtest_module = importlib.import_module("forecastkit.evaluation.backtest")


def _manual_naive(df, horizon, n_windows, step, min_train=1):
    """The backtest written as the plainest loop: cut, take the last value, repeat (leaving
    out a window with fewer than ``min_train`` training points)."""
    rows = []
    for sid, g in df.groupby("unique_id", sort=False):
        y, ds = g["y"].to_numpy(), g["ds"].to_numpy()
        for w in range(n_windows):
            end = len(y) - horizon - (n_windows - 1 - w) * step
            if end < min_train:
                continue
            for k in range(horizon):
                rows.append((sid, ds[end + k], ds[end - 1], y[end + k], y[end - 1], w))
    return pd.DataFrame(rows, columns=["unique_id", "ds", "cutoff", "y", "y_pred", "window"])


@pytest.mark.parametrize("step", [None, 2])
def test_matches_a_manual_loop_with_naive(panel_df, step):
    cv = backtest(fk.baselines.Naive(), panel_df, horizon=5, n_windows=3, step=step, n_jobs=1,
                  progress=False)
    expected = _manual_naive(panel_df, 5, 3, step or 5)
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "y_pred", "model", "window"]
    assert (cv["model"] == "Naive").all()
    got = cv.drop(columns="model").sort_values(["unique_id", "window", "ds"]).reset_index(drop=True)
    expected = expected.sort_values(["unique_id", "window", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # every row forecasts a time after its cutoff
    assert (cv["ds"] > cv["cutoff"]).all()


def test_refit_every_k_windows_reuses_the_global_model(panel_df):
    GlobalMean.FITS.clear()
    h, n_windows = 4, 4
    cv = backtest({"g": GlobalMean()}, panel_df, horizon=h, n_windows=n_windows, refit=2,
                  n_jobs=1, progress=False)
    first_len = panel_df.groupby("unique_id", sort=False).size().iloc[0]
    ends = [first_len - h - (n_windows - 1 - w) * h for w in range(n_windows)]
    assert sorted(GlobalMean.FITS) == [ends[0], ends[2]]  # fitted at windows 0 and 2 only
    # Window 1 forecasts from its own history with the weights fitted at window 0.
    ids = panel_df["unique_id"].unique()
    sid = ids[1]
    y_all = panel_df[panel_df.unique_id == sid].y.to_numpy()
    n = len(y_all)
    train0 = np.concatenate(
        [g.y.to_numpy()[: len(g) - h * n_windows]
         for _, g in panel_df.groupby("unique_id", sort=False)]
    )
    end1 = n - h - 2 * h
    expected = y_all[end1 - 1] + 1e-3 * train0.mean()
    got = cv[(cv.unique_id == sid) & (cv.window == 1)].y_pred.to_numpy()
    np.testing.assert_allclose(got, expected)


def test_refit_false_fits_once(panel_df):
    GlobalMean.FITS.clear()
    backtest({"g": GlobalMean()}, panel_df, horizon=3, n_windows=3, refit=False, n_jobs=1,
             progress=False)
    assert len(GlobalMean.FITS) == 1


def test_datetime_series_in_and_several_models(monthly_series):
    f = LastValue()
    cv = backtest({"last": f, "naive": fk.baselines.Naive()}, monthly_series, horizon=6,
                  n_windows=2, n_jobs=1, progress=False)
    assert not hasattr(f, "panel_")  # the passed object is left unfitted
    assert set(cv["model"]) == {"last", "naive"}
    assert pd.api.types.is_datetime64_any_dtype(cv["ds"])
    last = cv[cv.model == "last"]
    np.testing.assert_array_equal(last.y_pred.to_numpy(), cv[cv.model == "naive"].y_pred)
    cut = last[last.window == 0].cutoff.iloc[0]
    assert cut == monthly_series.index[-13]
    assert last[last.window == 0].y_pred.iloc[0] == monthly_series.iloc[-13]
    assert cv.attrs["seconds"].keys() == {"last", "naive"}


@pytest.mark.slow  # starting loky worker processes takes seconds
def test_loky_workers_give_the_same_result(panel_df):
    kw = dict(horizon=4, n_windows=2, progress=False)
    one = backtest({"g": GlobalMean(), "last": LastValue()}, panel_df, n_jobs=1, **kw)
    two = backtest({"g": GlobalMean(), "last": LastValue()}, panel_df, n_jobs=2, **kw)
    pd.testing.assert_frame_equal(one, two)


def test_progress_bar_is_shown(panel_df, capsys):
    backtest(LastValue(), panel_df, horizon=3, n_windows=2, n_jobs=1, progress=True)
    assert "backtest" in capsys.readouterr().err


def test_metrics_per_series_window_and_model(panel_df):
    m = 12
    cv = backtest(LastValue(), panel_df, horizon=6, n_windows=2, n_jobs=1, progress=False)
    per = backtest_metrics(cv, panel_df, season_length=m)
    assert len(per) == 2 * panel_df.unique_id.nunique()
    for row in per.itertuples():
        f = cv[(cv.unique_id == row.unique_id) & (cv.window == row.window)]
        y, p = f.y.to_numpy(), f.y_pred.to_numpy()
        hist = panel_df[(panel_df.unique_id == row.unique_id) & (panel_df.ds <= row.cutoff)].y
        hist = hist.to_numpy()
        smape = np.mean(200 * np.abs(y - p) / (np.abs(y) + np.abs(p)))
        mase = np.mean(np.abs(y - p)) / np.mean(np.abs(hist[m:] - hist[:-m]))
        assert row.smape == pytest.approx(smape)
        assert row.mase == pytest.approx(mase)
        assert row.mae == pytest.approx(np.mean(np.abs(y - p)))


def _with_short_series(panel_df, lengths):
    """``panel_df`` and one short series ``short-<k>`` of each length, after it."""
    short = [pd.DataFrame({"unique_id": f"short-{k}", "ds": np.arange(n),
                           "y": np.arange(n, dtype=float) + 1 + k})
             for k, n in enumerate(lengths)]
    return pd.concat([panel_df, *short], ignore_index=True)


def _sorted(frame):
    return (frame.drop(columns="model", errors="ignore")
            .sort_values(["unique_id", "window", "ds"]).reset_index(drop=True))


def test_a_series_too_short_for_the_last_window_is_named(panel_df):
    df = _with_short_series(panel_df, [5])
    with pytest.raises(SeriesTooShortError, match="'short-0' has 5 observations; its last"):
        backtest(LastValue(), df, horizon=4, n_windows=2, n_jobs=1, progress=False)


@pytest.mark.parametrize("step", [5, 2])
@pytest.mark.parametrize("refit", [True, 2])
def test_series_too_short_for_the_early_windows_are_scored_in_the_others(
    panel_df, step, refit, monkeypatch
):
    # Horizon 5, 3 windows: a series of 7 points supports window 2 only (2 training points),
    # one of 7 + step windows 1 and 2. Blocks of 2 series: the last block holds a short series
    # alone, so its first group of windows (refit=2: windows 0 and 1) is fitted at window 1.
    monkeypatch.setattr(backtest_module, "SERIES_PER_UNIT", 2)
    df = _with_short_series(panel_df, [7, 7 + step])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cv = backtest({"last": LastValue()}, df, horizon=5, n_windows=3, step=step,
                      refit=refit, n_jobs=1, progress=False)
    ours = [w for w in caught if issubclass(w.category, ForecastkitWarning)]
    assert len(ours) == 1
    assert "2 of 7 series are too short for all 3 windows" in str(ours[0].message)
    expected = _manual_naive(df, 5, 3, step, min_train=2)  # a scaled error needs two points
    pd.testing.assert_frame_equal(_sorted(cv), _sorted(expected), check_dtype=False)
    assert set(cv[cv.unique_id == "short-0"].window) == {2}
    assert set(cv[cv.unique_id == "short-1"].window) == {1, 2}
    per = backtest_metrics(cv, df, season_length=1)
    n_windows = per.groupby("unique_id")["n_windows"].first()
    assert n_windows["short-0"] == 1 and n_windows["short-1"] == 2
    assert (n_windows.drop(["short-0", "short-1"]) == 3).all()
    assert (per.groupby("unique_id").size() == n_windows).all()


def test_a_global_model_continues_series_that_join_in_later_windows(panel_df):
    GlobalMean.FITS.clear()
    h = 4
    df = _with_short_series(panel_df, [h + 3])  # supports the last window only
    with pytest.warns(ForecastkitWarning, match="1 of 6 series"):
        cv = backtest({"g": GlobalMean()}, df, horizon=h, n_windows=3, refit=False, n_jobs=1,
                      progress=False)
    first_len = panel_df.groupby("unique_id", sort=False).size().iloc[0]
    assert GlobalMean.FITS == [first_len - 3 * h]  # one fit, at window 0, without short-0
    train0 = np.concatenate([g.y.to_numpy()[: len(g) - 3 * h]
                             for _, g in panel_df.groupby("unique_id", sort=False)])
    short = cv[cv.unique_id == "short-0"]
    assert set(short.window) == {2}
    y_short = df[df.unique_id == "short-0"].y.to_numpy()
    np.testing.assert_allclose(short.y_pred, y_short[2] + 1e-3 * train0.mean())


def test_a_ragged_run_resumes_from_its_store(panel_df, tmp_path, monkeypatch):
    monkeypatch.setattr(backtest_module, "SERIES_PER_UNIT", 2)
    df = _with_short_series(panel_df, [7, 12])
    kwargs = dict(horizon=5, n_windows=3, n_jobs=1, progress=False, out_dir=tmp_path)
    with pytest.warns(ForecastkitWarning):
        first = backtest({"last": LastValue()}, df, **kwargs)
    # (block, windows covered): 3 full blocks x 3, and the last block (short-1) x 2; short-0
    # shares block 2 with a full series.
    assert len(list((tmp_path / "records").glob("*.json"))) == 3 * 3 + 2
    monkeypatch.setattr(backtest_module, "execute", _no_work)
    with pytest.warns(ForecastkitWarning):
        again = backtest({"last": LastValue()}, df, **kwargs)
    pd.testing.assert_frame_equal(_sorted(again), _sorted(first))


def _no_work(units, *args):
    assert not units, f"a resumed run ran {len(units)} unit(s) again"
    return iter(())


def test_bad_arguments(panel_df):
    with pytest.raises(InvalidInputError, match="not a forecastkit forecaster"):
        backtest({"x": object()}, panel_df, horizon=3, progress=False)
    with pytest.raises(InvalidInputError, match="refit"):
        backtest(LastValue(), panel_df, horizon=3, refit=0, progress=False)
    with pytest.raises(InvalidInputError, match="backend"):
        backtest(LastValue(), panel_df, horizon=3, backend="spark", progress=False)


def test_local_models_split_by_series_give_the_same_forecasts(panel_df, tmp_path,
                                                                  monkeypatch):
    kw = dict(horizon=4, n_windows=2, n_jobs=1, progress=False)
    models = {"last": LastValue(), "g": GlobalMean()}
    whole = backtest(models, panel_df, **kw)
    monkeypatch.setattr(backtest_module, "SERIES_PER_UNIT", 2)
    split = backtest(models, panel_df, out_dir=tmp_path, **kw)
    pd.testing.assert_frame_equal(whole, split)
    files = sorted(p.name for p in (tmp_path / "units").iterdir())
    # 5 series in blocks of 2 -> 3 blocks x 2 windows for the local model; the global one whole
    assert files == ["g__w000.csv.gz", "g__w001.csv.gz"] + [
        f"last__w{w:03d}_s{b:04d}.csv.gz" for w in range(2) for b in range(3)
    ]
    again = backtest(models, panel_df, out_dir=tmp_path, **kw)
    pd.testing.assert_frame_equal(whole, again)


def test_combinations_with_a_global_member_or_a_pooled_choice_are_not_split(panel_df, tmp_path,
                                                                           monkeypatch):
    from forecastkit.forecasters.combination import Combination
    from forecastkit.forecasters.validated import ValidatedCombination

    kw = dict(horizon=4, n_windows=1, n_jobs=1, progress=False)
    models = {
        "mixed": Combination([("g", GlobalMean(horizon=4)), ("last", LastValue(horizon=4))]),
        "local": Combination([("a", LastValue(horizon=4)), ("b", LastValue(horizon=4))]),
        "chosen": ValidatedCombination([("last", LastValue(horizon=4)),
                                        ("g", GlobalMean(horizon=4))]),
        # Local members only, yet the choice is scored over all series: still one unit.
        "local-choice": ValidatedCombination([("a", LastValue(horizon=4)),
                                              ("b", LastValue(horizon=4))]),
    }
    whole = backtest(models, panel_df, **kw)
    monkeypatch.setattr(backtest_module, "SERIES_PER_UNIT", 2)
    split = backtest(models, panel_df, out_dir=tmp_path, **kw)
    # GlobalMean's forecast depends on every series it was fitted with: a block would differ.
    pd.testing.assert_frame_equal(whole, split)
    files = sorted(p.name for p in (tmp_path / "units").iterdir())
    assert files == ["chosen__w000.csv.gz", "local-choice__w000.csv.gz"] + [
        f"local__w000_s{b:04d}.csv.gz" for b in range(3)
    ] + ["mixed__w000.csv.gz"]


def test_window_length_trains_on_the_last_points_only(panel_df):
    GlobalMean.FITS.clear()
    cv = backtest(GlobalMean(), panel_df, horizon=3, n_windows=2, window_length=10, n_jobs=1,
                  progress=False)
    assert GlobalMean.FITS == [10, 10]  # each window's first series, cut to 10 points
    expanding = backtest(LastValue(), panel_df, horizon=3, n_windows=2, n_jobs=1,
                         progress=False)
    sliding = backtest(LastValue(), panel_df, horizon=3, n_windows=2, window_length=10,
                       n_jobs=1, progress=False)
    # The last value before each cutoff is the same however long the training part is.
    pd.testing.assert_frame_equal(expanding, sliding)
    assert set(cv["window"]) == {0, 1}
