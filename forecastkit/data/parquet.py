"""Panels from Parquet files, read in record batches with pyarrow.

A large panel lives on disk as Parquet (one file, a folder of files, or a Hive-partitioned
dataset). :func:`read_parquet_panel` reads only the id, time and target columns, batch by
batch, keeping the series ids dictionary-encoded (an integer code a row, one string per
series) and the values as plain arrays, so memory is the series data itself: never a pandas
frame of object ids, never the other columns. The result is a :class:`Panel`, checked as
:func:`~forecastkit.data.to_panel` checks any frame; training then streams windows from it
(:func:`~forecastkit.data.window_dataset`) without materialising them.

Needs pyarrow: ``pip install "forecastkit[parquet]"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastkit._optional import optional_import
from forecastkit.data.frames import Panel, to_panel
from forecastkit.exceptions import EmptyDataError, InvalidInputError

__all__ = ["read_parquet_panel"]


def read_parquet_panel(
    path,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    series=None,
    batch_size: int = 1_000_000,
    allow_missing: bool = False,
) -> Panel:
    """Read a long panel ``id_col, time_col, target_col`` from Parquet.

    Parameters
    ----------
    path : str or Path
        A Parquet file, or a folder of them (a dataset, Hive partitions included).
    id_col, time_col, target_col : str
        The columns read; any others are never loaded.
    series : sequence, optional
        Only these series ids (pushed down to the Parquet reader: row groups without them are
        skipped).
    batch_size : int
        Rows per record batch read.
    allow_missing : bool
        Keep NaN targets (see :func:`~forecastkit.data.to_panel`).

    Returns
    -------
    Panel
        Series in order of first appearance in the files; each series' rows must be in time
        order (an unsorted series is named, as for a frame).

    Raises
    ------
    InvalidInputError
        The path does not exist, holds no Parquet data, or lacks a column (named).
    EmptyDataError
        No rows (or none of ``series``).
    ForecastkitError
        Whatever :func:`~forecastkit.data.to_panel` finds wrong, naming the series.
    """
    pa, ds, pc = _import_pyarrow()
    try:
        dataset = ds.dataset(str(path), format="parquet", partitioning="hive")
    except (FileNotFoundError, OSError) as err:
        raise InvalidInputError(f"cannot read Parquet data at {path!s}: {err}") from None
    columns = [id_col, time_col, target_col]
    missing = [c for c in columns if c not in dataset.schema.names]
    if missing:
        raise InvalidInputError(
            f"the Parquet data at {path!s} has no column(s) {missing}; its columns are "
            f"{dataset.schema.names}"
        )
    where = None if series is None else pc.field(id_col).isin(list(series))
    codes, times, values = [], [], []
    names: dict = {}  # series id -> code, in order of first appearance
    # Little read-ahead: the point is a bounded footprint, not the last bit of throughput.
    scan = dataset.to_batches(columns=columns, filter=where, batch_size=batch_size,
                              batch_readahead=1, fragment_readahead=1)
    for batch in scan:
        if batch.num_rows == 0:
            continue
        ids = batch.column(id_col)
        if not pa.types.is_dictionary(ids.type):
            ids = pc.dictionary_encode(ids)
        local = [names.setdefault(v, len(names)) for v in ids.dictionary.to_pylist()]
        codes.append(np.asarray(local, dtype=np.int64)[ids.indices.to_numpy()])
        times.append(batch.column(time_col))
        values.append(batch.column(target_col))
    if not codes:
        raise EmptyDataError(f"the Parquet data at {path!s} has no rows"
                             + (" for the series asked" if series is not None else ""))
    frame = pd.DataFrame({
        id_col: pd.Categorical.from_codes(np.concatenate(codes),
                                          categories=pd.Index(list(names), dtype=object)),
        # pyarrow -> pandas keeps the stamps' type (time zone included) and NaN for nulls
        time_col: pa.chunked_array(times).to_pandas(),
        target_col: pa.chunked_array(values).to_pandas(),
    })
    return to_panel(frame, id_col=id_col, time_col=time_col, target_col=target_col,
                    allow_missing=allow_missing)


def _import_pyarrow():
    return tuple(optional_import(name, "parquet", "reading Parquet")
                 for name in ("pyarrow", "pyarrow.dataset", "pyarrow.compute"))
