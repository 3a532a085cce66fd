"""The backtest store: one file per model name, checked on every reuse, and a way to start over."""

import gzip
import io

import numpy as np
import pandas as pd
import pytest
from _dummies import GlobalMean, LastValue

from forecastkit.evaluation.backtest import backtest
from forecastkit.evaluation.store import ResultStore, encode_model_name
from forecastkit.exceptions import PersistenceError

KW = dict(horizon=4, n_windows=2, n_jobs=1, progress=False)


def test_model_names_that_slugged_alike_keep_their_own_forecasts(panel_df, tmp_path):
    # "a+b" and "a_b" once shared units/a_b__w000.csv.gz: a resumed run handed one model the
    # other's forecasts.
    models = {"a+b": LastValue(), "a_b": GlobalMean(), "A_B": LastValue(horizon=4)}
    straight = backtest(models, panel_df, **KW)
    first = backtest(models, panel_df, out_dir=tmp_path, **KW)
    GlobalMean.FITS.clear()
    resumed = backtest(models, panel_df, out_dir=tmp_path, **KW)
    assert GlobalMean.FITS == []  # everything was reused...
    pd.testing.assert_frame_equal(first, straight)
    pd.testing.assert_frame_equal(resumed, straight)  # ...and each model got its own
    assert not np.allclose(straight.loc[straight.model == "a+b", "y_pred"],
                           straight.loc[straight.model == "a_b", "y_pred"])
    assert len(list((tmp_path / "units").glob("*.csv.gz"))) == 3 * 2


@pytest.mark.parametrize(
    "names",
    [("a+b", "a_b"), ("a/b", "a_b"), ("Theta", "theta"), ("a b", "a_b", "a  b"),
     ("x" * 80, "x" * 81), ("..", "_", ".hidden", ""), ("lstm+theta", "lstm_theta", "lstm-theta")],
)
def test_distinct_names_get_distinct_file_names_on_any_file_system(names):
    keys = [encode_model_name(n) for n in names]
    # Distinct even where the file system ignores case; plain names are kept as they are.
    assert len({k.lower() for k in keys}) == len(names)
    for name, key in zip(names, keys, strict=True):
        assert len(key) <= 64 and "/" not in key and not key.startswith(".")
        assert (key == name) == ("+" not in key)


def _edit_unit(file, change):
    frame = pd.read_csv(file, compression="gzip")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(change(frame).to_csv(index=False).encode())
    file.write_bytes(buf.getvalue())


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(y_pred=f.y_pred * 1000),
        lambda f: f.assign(y_pred=np.nan),
        lambda f: f.iloc[::-1],
    ],
    ids=["times-1000", "nan", "reversed-rows"],
)
def test_a_unit_edited_by_hand_is_refused_not_reused(panel_df, tmp_path, change):
    backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)
    unit = ResultStore(tmp_path).unit_file("last", 1)
    _edit_unit(unit, change)  # a valid gzip CSV, only its numbers differ
    with pytest.raises(PersistenceError, match=r"last__w001\.csv\.gz.*changed.*fresh=True"):
        backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_a_truncated_or_empty_unit_is_a_forecastkit_error(panel_df, tmp_path, damage):
    backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)
    unit = ResultStore(tmp_path).unit_file("last", 0)
    data = unit.read_bytes()
    unit.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"")
    # Not EOFError, gzip.BadGzipFile or pandas' EmptyDataError.
    with pytest.raises(PersistenceError, match=r"last__w000\.csv\.gz"):
        backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)


def test_fresh_starts_over_and_keeps_other_files(panel_df, tmp_path):
    straight = backtest({"last": LastValue()}, panel_df, **KW)
    backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)
    (tmp_path / "report.md").write_text("kept")
    ResultStore(tmp_path).unit_file("last", 0).write_bytes(b"garbage")
    with pytest.raises(PersistenceError):
        backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)
    again = backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, fresh=True, **KW)
    pd.testing.assert_frame_equal(again, straight)
    assert (tmp_path / "report.md").read_text() == "kept"
    # A changed configuration is refused unless the run starts over.
    with pytest.raises(PersistenceError, match="horizon"):
        backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **{**KW, "horizon": 3})
    backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, fresh=True,
             **{**KW, "horizon": 3})


def test_a_run_killed_between_unit_and_record_redoes_that_unit(panel_df, tmp_path):
    straight = backtest({"g": GlobalMean()}, panel_df, **KW)
    backtest({"g": GlobalMean()}, panel_df, out_dir=tmp_path, **KW)
    store = ResultStore(tmp_path)
    store.record_file("g", 1).unlink()  # the unit was written, its record was not
    GlobalMean.FITS.clear()
    again = backtest({"g": GlobalMean()}, panel_df, out_dir=tmp_path, **KW)
    assert len(GlobalMean.FITS) == 1
    pd.testing.assert_frame_equal(again, straight)


def test_an_unwritable_out_dir_is_a_persistence_error(panel_df, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(PersistenceError, match="cannot create the backtest folder"):
        backtest(LastValue(), panel_df, out_dir=tmp_path / "file" / "run", **KW)


def test_seconds_come_back_from_the_records(panel_df, tmp_path):
    first = backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)
    store = ResultStore(tmp_path)
    assert store.n_done == 2
    again = backtest({"last": LastValue()}, panel_df, out_dir=tmp_path, **KW)
    assert again.attrs["seconds"] == first.attrs["seconds"]


@pytest.mark.parametrize("n_jobs", [0, 1.5, True])
def test_a_bad_n_jobs_is_refused_before_the_store_is_touched(panel_df, tmp_path, n_jobs):
    from forecastkit.exceptions import InvalidInputError

    with pytest.raises(InvalidInputError, match="n_jobs must be a positive number"):
        backtest(LastValue(), panel_df, out_dir=tmp_path / "run", **{**KW, "n_jobs": n_jobs})
    assert not (tmp_path / "run").exists()
