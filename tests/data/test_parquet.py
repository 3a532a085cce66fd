"""read_parquet_panel: the panel a long frame gives, read from Parquet files in batches.

The reference is ``to_panel`` on the frame the files were written from (pandas writes them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.data import read_parquet_panel, to_panel
from forecastkit.datasets import make_trend_seasonal
from forecastkit.exceptions import (
    EmptyDataError,
    InvalidInputError,
    MissingValuesError,
    UnsortedTimestampError,
)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.times, b.times)
    assert (a.index_kind, a.freq, a.tz) == (b.index_kind, b.freq, b.tz)


@pytest.fixture
def frame():
    df = make_trend_seasonal(n_series=7, length=(20, 40), season_length=12, seed=0, freq="MS")
    return df.assign(price=np.arange(len(df)) * 1.5)  # a column the reader must skip


def test_a_file_read_in_small_batches_is_the_frames_panel(frame, tmp_path):
    frame.to_parquet(tmp_path / "panel.parquet", row_group_size=25)
    panel = read_parquet_panel(tmp_path / "panel.parquet", batch_size=17)
    _same(panel, to_panel(frame[["unique_id", "ds", "y"]]))
    forecast = fk.baselines.SeasonalNaive(season_length=12, horizon=3).fit(panel).predict()
    assert forecast["ds"].iloc[0] == frame["ds"].iloc[:frame["unique_id"].eq("S0000").sum()
                                                      ].max() + pd.offsets.MonthBegin(1)


def test_a_partitioned_folder_and_a_series_filter(frame, tmp_path):
    folder = tmp_path / "dataset"
    frame.assign(part=frame["unique_id"].str[-1].astype(int) % 3).to_parquet(
        folder, partition_cols=["part"])
    wanted = ["S0001", "S0004", "S0006"]
    panel = read_parquet_panel(folder, series=wanted)
    assert sorted(panel.ids) == wanted
    expected = to_panel(frame[frame["unique_id"].isin(wanted)][["unique_id", "ds", "y"]])
    order = [list(expected.ids).index(i) for i in panel.ids]
    _same(panel, expected.take(order))


def test_time_zones_integer_stamps_and_other_names_survive(tmp_path):
    ds = pd.date_range("2024-03-30", periods=48, freq="h", tz="Europe/Berlin")
    hourly = pd.DataFrame({"item": "a", "when": ds, "sales": np.arange(48.0)})
    hourly.to_parquet(tmp_path / "h.parquet")
    panel = read_parquet_panel(tmp_path / "h.parquet", id_col="item", time_col="when",
                               target_col="sales")
    _same(panel, to_panel(hourly, id_col="item", time_col="when", target_col="sales"))
    assert panel.tz == "Europe/Berlin"
    ints = pd.DataFrame({"unique_id": np.repeat(["x", "y"], 5), "ds": np.tile(np.arange(5), 2),
                         "y": np.arange(10, dtype=np.int64)})
    ints.to_parquet(tmp_path / "i.parquet")
    _same(read_parquet_panel(tmp_path / "i.parquet"), to_panel(ints))


def test_bad_files_and_bad_data_are_named(frame, tmp_path):
    with pytest.raises(InvalidInputError, match="cannot read Parquet"):
        read_parquet_panel(tmp_path / "nowhere.parquet")
    frame.drop(columns="y").to_parquet(tmp_path / "no_y.parquet")
    with pytest.raises(InvalidInputError, match=r"no column\(s\) \['y'\]"):
        read_parquet_panel(tmp_path / "no_y.parquet")
    frame.to_parquet(tmp_path / "ok.parquet")
    with pytest.raises(EmptyDataError, match="series asked"):
        read_parquet_panel(tmp_path / "ok.parquet", series=["nope"])
    gappy = frame.copy()
    gappy.loc[gappy.index[gappy["unique_id"] == "S0003"][4], "y"] = np.nan
    gappy.to_parquet(tmp_path / "gappy.parquet")
    with pytest.raises(MissingValuesError, match="S0003"):
        read_parquet_panel(tmp_path / "gappy.parquet")
    assert np.isnan(read_parquet_panel(tmp_path / "gappy.parquet", allow_missing=True).values
                    ).sum() == 1
    shuffled = frame.iloc[::-1]
    shuffled.to_parquet(tmp_path / "unsorted.parquet")
    with pytest.raises(UnsortedTimestampError, match="S0006"):
        read_parquet_panel(tmp_path / "unsorted.parquet")
