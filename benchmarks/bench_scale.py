"""How training and forecasting cost grows with the number of series: 10k, 30k, 100k x 500.

Issue 19: "A synthetic panel of 100,000 series x 500 steps: one epoch of training and a
forecast of every series; windows per second and peak memory, at 10k, 30k and 100k series
(goal: linear time, flat memory beyond the series data)."

Each size runs in a fresh process (peak RSS is per process) for each way of ordering an epoch
(``--orders``): ``held``, a shuffled tensor of all window numbers (16 bytes a window), and
``streamed``, the numbers computed batch by batch by a keyed bijection, which
:func:`forecastkit.data.window_dataset` uses from 4.2 million windows on. The process reads its
panel from a Parquet file with :func:`forecastkit.data.read_parquet_panel`, trains a small
RNNForecaster for one epoch over **every** window of every series (``windows_per_epoch=None``;
471 windows a series) and forecasts every series. The network is small on purpose (8 LSTM
units, lookback 24, horizon 6, batch 4,096, one member): what is measured is the data path and
how it scales, and a full epoch over 47.1 million windows must fit on two cores. Reported per size:

* ``fit_s``, ``windows_per_s``: the epoch (``fit`` with one epoch: planning, streaming,
  normalising and training every window once);
* ``predict_s``, ``series_per_s``: the forecast of every series;
* ``panel_mb``: the series data as the panel holds it (values and time stamps);
* ``peak_mb``: the process' peak resident memory over the whole run, and ``beyond_mb``: the
  peak less the resident memory once the panel was read (TensorFlow's runtime, the model, the
  stream's buffers and the forecasts).

Run from the repository root::

    python benchmarks/bench_scale.py                        # 10k, 30k, 100k (about 40 min)
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


def one(path: str, order: str) -> dict:
    import forecastkit as fk
    from forecastkit.data import pipeline, read_parquet_panel

    # The epoch's order: held (a shuffled tensor of all window numbers) or streamed (computed
    # batch by batch), whatever the size; "auto" would stream from 4.2 million windows on.
    pipeline.STREAMED_ORDER_MIN_WINDOWS = {"held": 2**62, "streamed": 0}[order]

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
    return {"n_series": panel.n_series, "order": order, "n_windows": n_windows, "fit_s": fit_s,
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
    p.add_argument("--orders", default="held,streamed",
                   help="how the epoch's order is made, each in its own process: held and/or "
                        "streamed (default: %(default)s)")
    p.add_argument("--one", metavar="PATH", help=argparse.SUPPRESS)
    p.add_argument("--order", default="streamed", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.order)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(v) for v in args.sizes.split(",")):
            path = Path(tmp) / f"panel_{n}.parquet"
            write(path, n)
            for order in args.orders.split(","):
                out = subprocess.run([sys.executable, __file__, "--one", str(path),
                                      "--order", order], capture_output=True, text=True,
                                     env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
                if out.returncode:
                    sys.exit(out.stderr[-3000:])
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
            path.unlink()
    df = pd.DataFrame(rows)
    print(df.round(2).to_string(index=False))
    for order, part in df.groupby("order", sort=False):
        part = part.set_index("n_series")
        first = part.iloc[0]
        for n, row in part.iloc[1:].iterrows():
            k = n / part.index[0]
            print(f"{order}: {n} vs {part.index[0]} series ({k:.0f}x): fit time "
                  f"{row.fit_s / first.fit_s:.2f}x, predict time "
                  f"{row.predict_s / first.predict_s:.2f}x, panel "
                  f"{row.panel_mb / first.panel_mb:.2f}x, memory beyond the panel "
                  f"{row.beyond_mb / first.beyond_mb:.2f}x, added "
                  f"{row.beyond_mb - first.beyond_mb:.0f} MB")
    if df.order.nunique() > 1:
        both = df.pivot(index="n_series", columns="order", values=["fit_s", "beyond_mb"])
        for n, row in both.iterrows():
            print(f"{n} series: streamed/held fit time "
                  f"{row['fit_s', 'streamed'] / row['fit_s', 'held']:.2f}, memory beyond the "
                  f"panel {row['beyond_mb', 'streamed']:.0f} vs {row['beyond_mb', 'held']:.0f} MB")


if __name__ == "__main__":
    main()
