"""How training and forecasting cost grows with the number of series: 10k, 30k, 100k x 500.

Issue 19: "A synthetic panel of 100,000 series x 500 steps: one epoch of training and a
forecast of every series; windows per second and peak memory, at 10k, 30k and 100k series
(goal: linear time, flat memory beyond the series data)."

Each size runs in a fresh process (peak RSS is per process) that reads its panel from a
Parquet file with :func:`forecastkit.data.read_parquet_panel`, trains a small RNNForecaster for
one epoch over **every** window of every series (``windows_per_epoch=None``; 476 windows a
series) and forecasts every series. The network is small on purpose (8 LSTM units, lookback
24, horizon 6, batch 2,048, one member): what is measured is the data path and how it scales,
and a full epoch over 47.6 million windows must fit on two cores. Reported per size:

* ``fit_s``, ``windows_per_s``: the epoch (``fit`` with one epoch: planning, streaming,
  normalising and training every window once);
* ``predict_s``, ``series_per_s``: the forecast of every series;
* ``panel_mb``: the series data as the panel holds it (values and time stamps);
* ``peak_mb``: the process' peak resident memory over the whole run, and ``beyond_mb``: the
  peak less the resident memory once the panel was read (TensorFlow's runtime, the model, the
  stream's buffers and the forecasts).

Run from the repository root::

    python benchmarks/bench_scale.py                        # 10k, 30k, 100k (about 20 min)
    python benchmarks/bench_scale.py --sizes 2000,6000      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

LENGTH, LOOKBACK, HORIZON = 500, 24, 6
PARAMS = dict(units=(8,), lookback=LOOKBACK, horizon=HORIZON, season_length=1,
              min_history=LOOKBACK, epochs=1, batch_size=4096, n_models=1,
              windows_per_epoch=None, random_state=0)


def write(path: Path, n_series: int) -> None:
    """Hourly-like series (a daily cycle, a level per series, noise), written in row groups."""
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH)
    chunk = 10_000
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for start in range(0, n_series, chunk):
        n = min(chunk, n_series - start)
        level = rng.uniform(10, 100, (n, 1))
        values = level * (1 + 0.2 * np.sin(2 * np.pi * t / 24)[None, :]) \
            + rng.normal(0, 1, (n, LENGTH))
        table = pa.table({
            "unique_id": np.repeat(np.arange(start, start + n), LENGTH),
            "ds": np.tile(t, n),
            "y": values.ravel(),
        })
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def resident_mb(field: str = "VmRSS") -> float:
    """This process' resident memory (VmRSS) or its peak so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no /proc/self/status")


def one(path: str) -> dict:
    import forecastkit as fk
    from forecastkit.data import read_parquet_panel

    panel = read_parquet_panel(path)
    after_read = resident_mb()
    f = fk.RNNForecaster(**PARAMS)
    t0 = time.perf_counter()
    f.fit(panel)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    forecast = f.predict_array()
    predict_s = time.perf_counter() - t0
    n_windows = _windows(panel)
    assert np.isfinite(forecast).all() and forecast.shape == (panel.n_series, HORIZON)
    peak = resident_mb("VmHWM")
    return {"n_series": panel.n_series, "n_windows": n_windows, "fit_s": fit_s,
            "windows_per_s": n_windows / fit_s, "predict_s": predict_s,
            "series_per_s": panel.n_series / predict_s,
            "panel_mb": (panel.values.nbytes + panel.times.nbytes) / 2**20,
            "read_mb": after_read, "peak_mb": peak, "beyond_mb": peak - after_read,
            "loss": f.history_[0]["loss"][-1]}


def _windows(panel) -> int:
    """Full windows of ``LOOKBACK + HORIZON`` steps (min_history = lookback: no padded ones)."""
    return int(np.maximum(panel.lengths - LOOKBACK - HORIZON + 1, 0).sum())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,30000,100000")
    p.add_argument("--one", metavar="PATH", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(v) for v in args.sizes.split(",")):
            path = Path(tmp) / f"panel_{n}.parquet"
            write(path, n)
            out = subprocess.run([sys.executable, __file__, "--one", str(path)],
                                 capture_output=True, text=True,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            if out.returncode:
                sys.exit(out.stderr[-3000:])
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
            path.unlink()
    df = pd.DataFrame(rows).set_index("n_series")
    print(df.round(2).to_string())
    first = df.iloc[0]
    for n, row in df.iloc[1:].iterrows():
        k = n / df.index[0]
        print(f"{n} vs {df.index[0]} series ({k:.0f}x): fit time {row.fit_s / first.fit_s:.2f}x, "
              f"predict time {row.predict_s / first.predict_s:.2f}x, "
              f"panel {row.panel_mb / first.panel_mb:.2f}x, "
              f"memory beyond the panel {row.beyond_mb / first.beyond_mb:.2f}x")


if __name__ == "__main__":
    main()
