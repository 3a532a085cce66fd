"""RNNForecaster's fit with the batch in one loop against two (``batch_splits``).

The layers table (BENCHMARKS.md, "Recurrent layers") times one train step on a fixed batch;
this script times what a user runs: ``fit`` of the M3 Monthly LSTM (``make_model("lstm")``,
one member, a few epochs, the full data set), with ``batch_splits=1`` and ``"auto"``
alternating in one process, so that the machine's drift hits both alike. It prints each fit's
wall and CPU seconds, the medians and their ratio, and the largest relative difference between
the two fits' forecasts (float rounding: the same windows and steps).

Run from the repository root::

    python benchmarks/bench_batch_splits.py              # --repeats 3 --epochs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--set", default="m3-monthly")
    args = p.parse_args(argv)

    import numpy as np

    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.registry import make_model
    from forecastkit.layers.sequence import resolve_batch_splits

    train, _, info = load_dataset(args.set)
    print(f"# {args.set}: {train['unique_id'].nunique()} series; 'auto' is "
          f"{resolve_batch_splits('auto')} loops here; {os.cpu_count()} cores")
    walls: dict[str, list[float]] = {"1": [], "auto": []}
    cpus: dict[str, list[float]] = {"1": [], "auto": []}
    forecasts = {}
    for rep in range(args.repeats):
        for splits in ("1", "auto"):
            f = make_model("lstm", horizon=info.horizon, season_length=info.season_length,
                           seed=0, n_models=1, epochs=args.epochs,
                           batch_splits=1 if splits == "1" else "auto")
            wall, cpu = time.perf_counter(), time.process_time()
            f.fit(train)
            walls[splits].append(time.perf_counter() - wall)
            cpus[splits].append(time.process_time() - cpu)
            forecasts[splits] = f.predict_array()
            print(f"repeat {rep} batch_splits={splits}: fit {walls[splits][-1]:.1f} s wall, "
                  f"{cpus[splits][-1]:.1f} s CPU, final loss {f.history_[0]['loss'][-1]:.5f}",
                  flush=True)
    one, auto = statistics.median(walls["1"]), statistics.median(walls["auto"])
    cpu_one, cpu_auto = statistics.median(cpus["1"]), statistics.median(cpus["auto"])
    diff = np.max(np.abs(forecasts["auto"] - forecasts["1"]) / np.abs(forecasts["1"]))
    print("| batch_splits | fit s (median) | CPU s (median) |")
    print("| --- | ---: | ---: |")
    print(f"| 1 | {one:.1f} | {cpu_one:.1f} |")
    print(f"| auto | {auto:.1f} | {cpu_auto:.1f} |")
    print(f"| ratio auto / 1 | {auto / one:.2f} | {cpu_auto / cpu_one:.2f} |")
    print(f"largest relative difference of the forecasts: {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
