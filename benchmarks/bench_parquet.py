"""Peak memory and time of reading a panel from Parquet: read_parquet_panel vs pandas.

Both read the same file of ``N_SERIES`` series x ``LENGTH`` steps (string ids, integer time
stamps, float values) and one extra column (a price, which a forecast does not need) into a
:class:`~forecastkit.data.Panel`: ours reads the three columns in record batches with pyarrow
(ids dictionary-encoded); the reference is what a user would write without it,
``to_panel(pd.read_parquet(path))`` (all columns, object ids). Each way runs in a fresh process
(peak RSS is per process); the panel's own arrays are the floor either way.

Run from the repository root::

    python benchmarks/bench_parquet.py                 # 20,000 x 500 (10 million rows)
    python benchmarks/bench_parquet.py --series 100000 # 50 million rows, several GB
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

LENGTH = 500


def write(path: Path, n_series: int) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(LENGTH)
    values = 10 + np.sin(2 * np.pi * t / 24)[None, :] + rng.normal(0, 0.1, (n_series, LENGTH))
    pd.DataFrame({
        "unique_id": np.repeat([f"item_{i:07d}" for i in range(n_series)], LENGTH),
        "ds": np.tile(t, n_series),
        "y": values.ravel(),
        "price": rng.uniform(1, 5, n_series * LENGTH),
    }).to_parquet(path, row_group_size=1_000_000)


def peak_mb() -> float:
    """This process' peak resident memory (VmHWM: unlike ru_maxrss, not carried over from the
    parent that wrote the file)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(way: str, path: str) -> dict:
    from forecastkit.data import read_parquet_panel, to_panel

    before = peak_mb()
    t0 = time.perf_counter()
    if way == "ours":
        panel = read_parquet_panel(path)
    else:
        panel = to_panel(pd.read_parquet(path))
    seconds = time.perf_counter() - t0
    peak = peak_mb()
    data_mb = (panel.values.nbytes + panel.times.nbytes) / 2**20
    return {"way": way, "seconds": seconds, "peak_mb": peak,
            "growth_mb": peak - before, "panel_mb": data_mb,
            "n_series": panel.n_series, "n_obs": len(panel.values)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--series", type=int, default=20_000)
    p.add_argument("--one", nargs=2, metavar=("WAY", "PATH"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(*args.one)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.parquet"
        write(path, args.series)
        size = path.stat().st_size / 2**20
        rows = []
        for way in ("ours", "pandas"):
            out = subprocess.run([sys.executable, __file__, "--one", way, str(path)],
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    df = pd.DataFrame(rows).set_index("way")
    print(f"{args.series} series x {LENGTH} steps, file {size:.0f} MB")
    print(df.round(2).to_string())
    print(f"peak RSS ours / pandas: {df.loc['ours', 'peak_mb'] / df.loc['pandas', 'peak_mb']:.2f}"
          f"; time ours / pandas: {df.loc['ours', 'seconds'] / df.loc['pandas', 'seconds']:.2f}")


if __name__ == "__main__":
    main()
