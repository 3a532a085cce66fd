"""Fault injection on a real stored backtest: every damaged or altered file is detected.

The store is a backtest of two baselines (``naive``, and ``Theta``, whose name is stored
hashed) over three synthetic series, two windows, the local models split into blocks of two
series: 8 unit files, 8 records and the manifest. Each case copies the clean store, does one
thing to it and runs the same backtest again, which must raise a PersistenceError naming the
file (or one of the two files, for a swap) instead of reusing anything.

============================  ==========  =========  ==========  =======================
fault                         manifest    unit       record      expected outcome
============================  ==========  =========  ==========  =======================
truncate to half              every file  every one  every one   PersistenceError
empty (0 bytes)               every file  every one  every one   PersistenceError
flip one byte                 every file  every one  every one   PersistenceError
edit a number                 horizon     y_pred     seconds,    PersistenceError
                                          x1000,     window
                                          NaN
reverse the rows              -           yes        -           PersistenceError
swap two files                -           2 models,  2 windows   PersistenceError
                                          2 blocks
move a unit and its record    -           onto another unit's    PersistenceError
                                          names (both files)
copy from another run         -           with its record        PersistenceError
  (other data, same models)                (same names)
edit a model's parameters     yes         -          -           PersistenceError
reformat (same content)       yes         -          -           reused, same forecasts
delete (a killed run)         -           yes        yes         that unit is redone
============================  ==========  =========  ==========  =======================

After any fault, ``fresh=True`` starts over and gives the uninterrupted run's forecasts.
"""

import gzip
import importlib
import io
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from forecastkit.datasets import make_trend_seasonal
from forecastkit.evaluation.backtest import backtest
from forecastkit.evaluation.store import ResultStore
from forecastkit.exceptions import PersistenceError
from forecastkit.forecasters.baselines import Naive, Theta

# The package exports the function under the module's name; take the module itself.
backtest_module = importlib.import_module("forecastkit.evaluation.backtest")
KW = dict(horizon=6, n_windows=2, n_jobs=1, progress=False)
UNITS = [(m, w, p) for m in ("naive", "Theta") for w in range(2) for p in range(2)]
_KEYS = [ResultStore.key(*u) for u in UNITS]
UNIT_FILES = [f"units/{k}.csv.gz" for k in _KEYS]
RECORDS = [f"records/{k}.json" for k in _KEYS]
FILES = ["manifest.json", *UNIT_FILES, *RECORDS]


def _data(seed=0):
    return make_trend_seasonal(n_series=3, length=48, season_length=12, seed=seed)


def _models():
    return {"naive": Naive(horizon=6),
            "Theta": Theta(season_length=12, horizon=6, n_jobs=1)}


def _run(out_dir, data=None, **kw):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backtest_module, "SERIES_PER_UNIT", 2)  # 3 series -> blocks 0 and 1
        return backtest(_models(), _data() if data is None else data, out_dir=out_dir,
                        **{**KW, **kw})


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The clean store and the forecasts of the same run without one."""
    out = tmp_path_factory.mktemp("clean")
    straight = _run(None)
    pd.testing.assert_frame_equal(_run(out), straight)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == sorted(FILES)
    return out, straight


@pytest.fixture
def store(clean, tmp_path):
    out = tmp_path / "store"
    shutil.copytree(clean[0], out)
    return out


def _refused(out, *names):
    """The rerun raises a PersistenceError that names one of ``names`` and says what to do."""
    with pytest.raises(PersistenceError) as info:
        _run(out)
    message = str(info.value)
    assert any(n.split("/")[-1] in message for n in names), message
    assert "fresh=True" in message
    return message


# ------------------------------------------------------------------ damage to any file


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("fault", ["truncate", "empty", "flip"])
def test_damaged_file_is_detected(store, clean, name, fault):
    file = store / name
    data = bytearray(file.read_bytes())
    if fault == "truncate":
        data = data[: len(data) // 2]
    elif fault == "empty":
        data = bytearray()
    else:
        data[len(data) // 2] ^= 0x01
    file.write_bytes(bytes(data))
    _refused(store, name)
    # Starting over recovers the uninterrupted run's forecasts.
    pd.testing.assert_frame_equal(_run(store, fresh=True), clean[1])


# ------------------------------------------------------------------ edits that keep a valid file


def _rewrite_unit(file, change):
    frame = change(pd.read_csv(file, compression="gzip"))
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(frame.to_csv(index=False).encode())
    file.write_bytes(buf.getvalue())


@pytest.mark.parametrize("unit", [UNIT_FILES[0], UNIT_FILES[-1]], ids=["naive", "Theta"])
@pytest.mark.parametrize(
    "change",
    [lambda f: f.assign(y_pred=f.y_pred * 1000), lambda f: f.assign(y_pred=np.nan),
     lambda f: f.iloc[::-1]],
    ids=["times-1000", "nan", "reversed-rows"],
)
def test_unit_edited_into_another_valid_file_is_detected(store, unit, change):
    _rewrite_unit(store / unit, change)
    _refused(store, unit)


def _edit_json(file, change):
    value = json.loads(file.read_text())
    change(value)
    file.write_text(json.dumps(value, indent=2))


@pytest.mark.parametrize(
    "name, change",
    [
        ("manifest.json", lambda m: m["config"].update(horizon=7)),
        ("manifest.json", lambda m: m["models"].update(naive="Naive(horizon=6, season=2)")),
        (RECORDS[0], lambda r: r.update(seconds=r["seconds"] * 2)),
        (RECORDS[0], lambda r: r.update(window=1)),
    ],
    ids=["manifest-horizon", "manifest-model", "record-seconds", "record-window"],
)
def test_json_edited_by_hand_is_detected(store, name, change):
    _edit_json(store / name, change)
    _refused(store, name)


# ------------------------------------------------------------------ files in the wrong place


@pytest.mark.parametrize(
    "a, b",
    [(0, 4), (0, 1), (0, 2)],  # (naive, Theta), two blocks, two windows
    ids=["two-models", "two-blocks", "two-windows"],
)
@pytest.mark.parametrize("kind", ["units", "records"])
def test_two_swapped_files_are_detected(store, kind, a, b):
    ext = "csv.gz" if kind == "units" else "json"
    fa, fb = (store / kind / f"{_KEYS[i]}.{ext}" for i in (a, b))
    da, db = fa.read_bytes(), fb.read_bytes()
    fa.write_bytes(db)
    fb.write_bytes(da)
    _refused(store, fa.name, fb.name)


def test_a_unit_moved_with_its_record_onto_another_unit_is_detected(store):
    src, dst = _KEYS[0], _KEYS[4]  # naive's unit pretends to be Theta's
    for kind, ext in (("units", "csv.gz"), ("records", "json")):
        shutil.copyfile(store / kind / f"{src}.{ext}", store / kind / f"{dst}.{ext}")
    _refused(store, f"{dst}.json")


def test_units_copied_from_another_run_are_detected(store, tmp_path):
    other = tmp_path / "other"
    _run(other, data=_data(seed=1))  # the same models and split over other data
    for kind in ("units", "records"):
        shutil.copytree(other / kind, store / kind, dirs_exist_ok=True)
    message = _refused(store, *FILES)
    assert "another configuration" in message


# ------------------------------------------------------------------ not faults


def test_a_reformatted_manifest_with_the_same_content_is_reused(store, clean):
    _edit_json(store / "manifest.json", lambda m: None)  # other whitespace, same content
    pd.testing.assert_frame_equal(_run(store), clean[1])


@pytest.mark.parametrize("deleted", [RECORDS[0], UNIT_FILES[0]], ids=["record", "unit"])
def test_a_deleted_unit_or_record_redoes_only_that_unit(store, clean, deleted):
    (store / deleted).unlink()
    others = [f for f in FILES if f not in (RECORDS[0], UNIT_FILES[0])]

    def stamps():
        return [((store / f).stat().st_ino, (store / f).stat().st_mtime_ns) for f in others]

    before = stamps()
    pd.testing.assert_frame_equal(_run(store), clean[1])
    assert (store / RECORDS[0]).is_file() and (store / UNIT_FILES[0]).is_file()
    assert stamps() == before  # nothing else was rewritten
    pd.testing.assert_frame_equal(_run(store), clean[1])  # and the redone unit checks out
