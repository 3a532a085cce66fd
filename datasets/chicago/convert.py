"""One-off conversion of modeldata's ``Chicago`` data to the CSV files of this folder.

Not part of forecastkit and never run at import: it needs ``rdata`` (and pandas) in a throwaway
environment, and the Debian package ``r-cran-modeldata`` 1.1.0-1 unpacked (no R needed)::

    cd /tmp && apt-get download r-cran-modeldata
    dpkg-deb -x r-cran-modeldata_1.1.0-1_all.deb /tmp/modeldata
    python3 -m venv /tmp/rd && /tmp/rd/bin/pip install rdata pandas
    /tmp/rd/bin/python datasets/chicago/convert.py \
        /tmp/modeldata/usr/lib/R/site-library/modeldata/data datasets/chicago

R's lazy-load database: ``Rdata.rdx`` is a gzip-compressed serialized R list whose
``variables`` maps each object's name to its (offset, length) in ``Rdata.rdb``; each chunk there
is a 4-byte big-endian uncompressed length, one type byte (``Z``: raw LZMA2 stream, as this
package's ``LazyDataCompression: xz`` gives) and the compressed serialized object.

The station columns of ``Chicago`` (``Austin`` .. ``California``, ``Clark_Lake`` among them)
are, as modeldata's help page says, 14-day lags: the value in the row of date d is that
station's ridership on d - 14. This script re-dates them to the day the rides happened
(d - 14) and adds the last 14 days of Clark/Lake from the ``ridership`` column (same-day
Clark/Lake ridership; it equals the ``Clark_Lake`` column 14 rows later exactly, checked below).
"""

from __future__ import annotations

import gzip
import lzma
import struct
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import rdata

LAG_DAYS = 14
GAMES = [
    f"{team}_{side}"
    for team in ("Blackhawks", "Bulls", "Bears", "WhiteSox", "Cubs")
    for side in ("Away", "Home")
]
WEATHER = [
    "temp_min", "temp", "temp_max", "temp_change", "dew", "humidity", "pressure",
    "pressure_change", "wind", "wind_max", "gust", "gust_max", "percip", "percip_max",
    "weather_rain", "weather_snow", "weather_cloud", "weather_storm",
]


def read_lazy_object(data_dir: Path, name: str) -> object:
    """One object of an R package's lazy-load data database, converted by ``rdata``."""
    index = rdata.parser.parse_data(gzip.decompress((data_dir / "Rdata.rdx").read_bytes()))
    offset, length = (int(x) for x in rdata.conversion.convert(index)["variables"][name])
    chunk = (data_dir / "Rdata.rdb").read_bytes()[offset : offset + length]
    (size,) = struct.unpack(">I", chunk[:4])
    kind = chunk[4:5]
    if kind != b"Z":
        raise ValueError(f"unexpected compression type {kind!r} (this script reads xz only)")
    decoder = lzma.LZMADecompressor(
        format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 64 << 20}]
    )
    raw = decoder.decompress(chunk[5:])
    if len(raw) != size:
        raise ValueError(f"decompressed {len(raw)} bytes, the header says {size}")
    return rdata.conversion.convert(rdata.parser.parse_data(raw))


def main(data_dir: Path, out_dir: Path) -> None:
    chicago = read_lazy_object(data_dir, "Chicago")
    stations = [str(s) for s in read_lazy_object(data_dir, "stations")]
    assert isinstance(chicago, pd.DataFrame)
    expected = ["ridership", *stations, *WEATHER, *GAMES, "date"]
    assert list(chicago.columns) == expected, list(chicago.columns)
    assert len(stations) == 20 and "Clark_Lake" in stations
    assert len(chicago) == 5698, len(chicago)
    date = pd.to_datetime(chicago["date"].to_numpy(), unit="D")  # R Date: days since 1970-01-01
    assert (np.diff(date.to_numpy()) == np.timedelta64(1, "D")).all(), "dates not daily"
    assert str(date[0].date()) == "2001-01-22" and str(date[-1].date()) == "2016-08-28"
    # The station columns are 14-day lags: Clark_Lake on row t + 14 is ridership on row t.
    ridership = chicago["ridership"].to_numpy()
    lagged = chicago["Clark_Lake"].to_numpy()
    assert np.array_equal(lagged[LAG_DAYS:], ridership[:-LAG_DAYS])

    frames = []
    for station in stations:
        frame = pd.DataFrame(
            {"unique_id": station, "ds": date - pd.Timedelta(days=LAG_DAYS),
             "y": chicago[station].to_numpy()}
        )
        if station == "Clark_Lake":  # its last 14 days exist only as same-day ridership
            tail = pd.DataFrame(
                {"unique_id": station, "ds": date[-LAG_DAYS:], "y": ridership[-LAG_DAYS:]}
            )
            frame = pd.concat([frame, tail], ignore_index=True)
        frames.append(frame)
    long = pd.concat(frames, ignore_index=True)
    long["ds"] = long["ds"].dt.strftime("%Y-%m-%d")
    covariates = chicago[WEATHER + GAMES].copy()
    for column in GAMES:
        assert set(covariates[column].unique()) <= {0.0, 1.0}, column
        covariates[column] = covariates[column].astype(np.int64)
    covariates.insert(0, "ds", date.strftime("%Y-%m-%d"))

    print("NaN in Chicago:", int(chicago.isna().sum().sum()))
    print("series:", long.groupby("unique_id", sort=False)["ds"].agg(["size", "min", "max"]))
    # pandas writes floats as their shortest round-trip repr (full precision); mtime=0 keeps
    # the gzip bytes reproducible.
    for frame, name in ((long, "ridership.csv.gz"), (covariates, "covariates.csv.gz")):
        with gzip.GzipFile(out_dir / name, "wb", mtime=0) as handle:
            handle.write(frame.to_csv(index=False).encode())


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
