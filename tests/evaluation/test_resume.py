"""A backtest killed part-way resumes from its out_dir, skips finished units and loses nothing."""

import hashlib
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from _dummies import GlobalMean, LastValue

from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation.backtest import backtest
from forecastkit.exceptions import PersistenceError

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from _dummies import GlobalMean
    from forecastkit.datasets import make_trend_seasonal
    from forecastkit.evaluation.backtest import backtest

    df = make_trend_seasonal(n_series=4, length=60, season_length=12, seed=3)
    models = {{"a": GlobalMean(delay={delay}), "b": GlobalMean(horizon=5, delay={delay})}}
    cv = backtest(models, df, horizon=5, n_windows=3, n_jobs=1, out_dir=sys.argv[1],
                  progress=False)
    cv.to_csv(sys.argv[2], index=False)
    """
)


def _units_done(out_dir: Path) -> int:
    try:
        return len(list((out_dir / "records").glob("*.json")))
    except OSError:
        return 0


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_work(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(tests=str(Path(__file__).parent), delay=1.0))
    out_dir, result = tmp_path / "run", tmp_path / "result.csv"
    env = {**os.environ, "FK_FIT_LOG": str(tmp_path / "fits1.log")}
    proc = subprocess.Popen([sys.executable, str(script), str(out_dir), str(result)], env=env)
    deadline = time.time() + 120
    while _units_done(out_dir) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()  # SIGKILL: no cleanup code runs, as in a crash or a lost machine
    proc.wait()
    done_before = _units_done(out_dir)
    assert 2 <= done_before < 6, "the run should have been killed part-way"
    assert not result.exists()

    env["FK_FIT_LOG"] = str(tmp_path / "fits2.log")
    subprocess.run([sys.executable, str(script), str(out_dir), str(result)], env=env,
                   check=True, timeout=120)
    refits = (tmp_path / "fits2.log").read_text().split()
    assert len(refits) == 6 - done_before  # finished units were skipped
    resumed = pd.read_csv(result)

    # The same backtest, uninterrupted (the delay only slows the fit; it changes no number).
    df = make_trend_seasonal(n_series=4, length=60, season_length=12, seed=3)
    models = {"a": GlobalMean(delay=1.0), "b": GlobalMean(horizon=5, delay=1.0)}
    models = {k: m.set_params(delay=0.0) for k, m in models.items()}
    straight = backtest(models, df, horizon=5, n_windows=3, n_jobs=1, progress=False)
    pd.testing.assert_frame_equal(resumed, straight, check_dtype=False)


def test_rerun_skips_everything_and_returns_the_same_frame(panel_df, tmp_path):
    kw = dict(horizon=4, n_windows=2, n_jobs=1, out_dir=tmp_path, progress=False)
    first = backtest({"g": GlobalMean()}, panel_df, **kw)
    GlobalMean.FITS.clear()
    again = backtest({"g": GlobalMean()}, panel_df, **kw)
    assert GlobalMean.FITS == []
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs["seconds"] == first.attrs["seconds"]
    # A model added later runs alone; the finished one is reused.
    both = backtest({"g": GlobalMean(), "last": LastValue()}, panel_df, **kw)
    assert GlobalMean.FITS == []
    pd.testing.assert_frame_equal(both[both.model == "g"].reset_index(drop=True), first)


def test_a_different_run_in_the_same_folder_is_refused(panel_df, tmp_path):
    backtest(LastValue(), panel_df, horizon=4, n_windows=2, n_jobs=1, out_dir=tmp_path,
             progress=False)
    with pytest.raises(PersistenceError, match="horizon"):
        backtest(LastValue(), panel_df, horizon=3, n_windows=2, n_jobs=1, out_dir=tmp_path,
                 progress=False)
    changed = panel_df.assign(y=panel_df.y + 1)
    with pytest.raises(PersistenceError, match="data"):
        backtest(LastValue(), changed, horizon=4, n_windows=2, n_jobs=1, out_dir=tmp_path,
                 progress=False)
    with pytest.raises(PersistenceError, match="other parameters"):
        backtest({"LastValue": LastValue(horizon=4)}, panel_df, horizon=4, n_windows=2,
                 n_jobs=1, out_dir=tmp_path, progress=False)


def test_no_temporary_files_are_left(panel_df, tmp_path):
    backtest(LastValue(), panel_df, horizon=4, n_windows=3, n_jobs=1, out_dir=tmp_path,
             progress=False)
    names = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    # "LastValue" is not a plain lowercase name, so its files carry a hash of it.
    key = f"lastvalue+{hashlib.sha256(b'LastValue').hexdigest()[:16]}"
    assert names == ["manifest.json"] + [f"records/{key}__w{w:03d}.json" for w in range(3)] + [
        f"units/{key}__w{w:03d}.csv.gz" for w in range(3)
    ]


def test_combinations_differing_deep_inside_are_told_apart(panel_df, tmp_path):
    from forecastkit.forecasters.baselines import Naive, SeasonalNaive
    from forecastkit.forecasters.combination import Combination

    def comb(last_season):
        members = [(f"member_{i}_with_a_long_name", Naive(horizon=4, season_length=i + 1))
                   for i in range(12)]
        middle = [("middle", SeasonalNaive(horizon=4, season_length=last_season))]
        inner = Combination(members[:6] + middle + members[6:], horizon=4)
        return Combination([("inner", inner), ("naive", Naive(horizon=4))])

    # scikit-learn elides the middle of a long repr (here the inner combination's, inside the
    # outer one's parameter list), so the two read the same there...
    assert repr(comb(2)) == repr(comb(3))
    backtest({"c": comb(2)}, panel_df, horizon=4, n_windows=2, n_jobs=1, out_dir=tmp_path,
             progress=False)
    # ...but a rerun with the other one must not reuse the first one's forecasts.
    with pytest.raises(PersistenceError, match="other parameters"):
        backtest({"c": comb(3)}, panel_df, horizon=4, n_windows=2, n_jobs=1,
                 out_dir=tmp_path, progress=False)


def test_forgetting_one_model_reruns_it_with_new_parameters_and_keeps_the_others(panel_df,
                                                                                 tmp_path):
    from forecastkit.evaluation.store import ResultStore

    first = backtest({"a": GlobalMean(), "b": LastValue()}, panel_df, horizon=4, n_windows=2,
                     n_jobs=1, out_dir=tmp_path, progress=False)
    kept = sorted(p.name for p in (tmp_path / "units").iterdir() if p.name.startswith("b__"))
    stamps = {name: (tmp_path / "units" / name).stat().st_mtime_ns for name in kept}
    with pytest.raises(PersistenceError, match="model 'a' with other parameters"):
        backtest({"a": GlobalMean(horizon=4), "b": LastValue()}, panel_df, horizon=4,
                 n_windows=2, n_jobs=1, out_dir=tmp_path, progress=False)
    assert ResultStore(tmp_path).forget("a") == 2  # its two windows
    assert not any(p.name.startswith("a__") for p in (tmp_path / "units").iterdir())
    again = backtest({"a": GlobalMean(horizon=4), "b": LastValue()}, panel_df, horizon=4,
                     n_windows=2, n_jobs=1, out_dir=tmp_path, progress=False)
    # b's units were reused untouched; a's were computed anew (same forecasts: same model)
    assert {n: (tmp_path / "units" / n).stat().st_mtime_ns for n in kept} == stamps
    pd.testing.assert_frame_equal(again, first)
