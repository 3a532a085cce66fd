"""Windowing throughput and memory: forecastkit vs keras.utils.timeseries_dataset_from_array.

Panel: ``--series`` series x ``--steps`` steps (default 1,000 x 1,000), lookback 48, horizon 12,
stride 1, batch 256: 941,000 windows an epoch. Each method runs in its own child process (so
its peak RSS is its own), one after the other in one run of this script, and iterates every
batch of one epoch:

* ``forecastkit make_dataset``: to_panel checks, per-series standard scaling, window index,
  seeded per-epoch shuffle, tf.gather batches, prefetch.
* ``keras timeseries_dataset_from_array``: the fair use for many series is one dataset per
  series (the utility knows nothing of series boundaries) over the same pre-scaled values, with
  ``sequence_length = lookback + horizon`` and a map that splits X/Y, concatenated; shuffled
  within each series by the utility's own ``shuffle=True, seed=`` (it cannot shuffle across
  series).
* ``sliding_windows`` per series: the zero-copy NumPy views (what a NumPy/sklearn user gets),
  and the same views copied into one (n_windows, 60) array (materialised, for comparison).

Throughput is windows / second over the epoch (dataset construction included, reported
apart). Peak memory is the child's peak RSS (``resource.getrusage``) minus its RSS after
imports and data generation, so it counts what the pipeline itself allocates.

Run: ``python benchmarks/bench_windowing.py`` (``--series 100`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LOOKBACK, HORIZON, BATCH = 48, 12, 256


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _panel_frame(n_series: int, n_steps: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.arange(n_steps)
    y = 10 + np.sin(2 * np.pi * t / 24)[None, :] + rng.normal(size=(n_series, n_steps)).cumsum(1)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"S{i:04d}" for i in range(n_series)], n_steps),
            "ds": np.tile(t, n_series),
            "y": y.ravel(),
        }
    )


def worker(method: str, n_series: int, n_steps: int) -> dict:
    import numpy as np
    import tensorflow as tf  # noqa: F401  (imported before the baseline RSS is taken)

    from forecastkit.data import SeriesScaler, make_dataset, sliding_windows, to_panel

    df = _panel_frame(n_series, n_steps)
    base = _rss_mb()
    t0 = time.perf_counter()
    if method == "ours":
        ds = make_dataset(df, LOOKBACK, HORIZON, batch_size=BATCH, seed=0)
    elif method.startswith("keras"):
        import keras

        panel = to_panel(df)  # the same checks and scaling as ours, so only windowing differs
        scaled = SeriesScaler("standard").fit(panel).transform_panel(panel, dtype=np.float32)
        shuffle = method == "keras_shuffled"
        parts = []
        for i in range(panel.n_series):
            x = scaled[panel.indptr[i] : panel.indptr[i + 1]]
            parts.append(
                keras.utils.timeseries_dataset_from_array(
                    x,
                    None,
                    sequence_length=LOOKBACK + HORIZON,
                    batch_size=BATCH,
                    shuffle=shuffle,
                    seed=i,
                )
            )
        # Concatenate as a balanced tree: a linear chain of 1,000 concatenates nests 1,000
        # iterators deep and would make Keras look slower than it needs to be.
        while len(parts) > 1:
            parts = [
                parts[j].concatenate(parts[j + 1]) if j + 1 < len(parts) else parts[j]
                for j in range(0, len(parts), 2)
            ]
        ds = parts[0]
        ds = ds.map(
            lambda w: (w[:, :LOOKBACK, None], w[:, LOOKBACK:]),
            num_parallel_calls=tf.data.AUTOTUNE,
        ).prefetch(tf.data.AUTOTUNE)
    else:
        panel = to_panel(df)
        scaled = SeriesScaler("standard").fit(panel).transform_panel(panel, dtype=np.float32)
    build = time.perf_counter() - t0

    t1 = time.perf_counter()
    n = 0
    if method in ("views", "materialised"):
        chunks = []
        for i in range(panel.n_series):
            X, Y = sliding_windows(scaled[panel.indptr[i] : panel.indptr[i + 1]], LOOKBACK, HORIZON)
            n += len(X)
            if method == "materialised":
                chunks.append(np.concatenate([X, Y], axis=1))
        if method == "materialised":
            full = np.concatenate(chunks)
            assert full.shape == (n, LOOKBACK + HORIZON)
    else:
        for x, y in ds:
            assert x.shape[1:] == (LOOKBACK, 1) and y.shape[1] == HORIZON
            n += int(x.shape[0])
    epoch = time.perf_counter() - t1
    return {
        "method": method,
        "windows": n,
        "build_s": build,
        "epoch_s": epoch,
        "windows_per_s": n / (build + epoch),
        "epoch_windows_per_s": n / epoch,
        "peak_mb": _peak_mb() - base,
    }


LABELS = {
    "ours": "forecastkit make_dataset (shuffled)",
    "keras_shuffled": "keras timeseries_dataset_from_array, per series, shuffled",
    "keras": "keras timeseries_dataset_from_array, per series, unshuffled",
    "views": "forecastkit sliding_windows (zero-copy views, per series)",
    "materialised": "sliding_windows copied into one array",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.series, args.steps)))
        return
    results = {}
    for method in ("ours", "keras_shuffled", "views", "materialised"):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", method, "--series", str(args.series),
             "--steps", str(args.steps)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        results[method] = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"done {method}", file=sys.stderr)
    ref = results["keras_shuffled"]["windows_per_s"]
    print(
        f"{args.series} series x {args.steps} steps, lookback {LOOKBACK}, horizon {HORIZON}, "
        f"batch {BATCH}, {results['ours']['windows']:,} windows; {os.cpu_count()} CPUs"
    )
    print()
    print("| pipeline | build s | epoch s | windows/s (build + epoch) | vs Keras (shuffled) "
          "| peak memory MB |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for method, r in results.items():
        print(
            f"| {LABELS[method]} | {r['build_s']:.2f} | {r['epoch_s']:.2f} | "
            f"{r['windows_per_s']:,.0f} | {r['windows_per_s'] / ref:.1f}x | {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
