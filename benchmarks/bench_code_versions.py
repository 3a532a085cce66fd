"""Fit time of one configuration under two versions of the code, alternating, in fresh processes.

Answers "did a change make fitting slower?" when a study's seconds moved between days: the
machine's speed drifts from run to run, so each version is fitted in turn, several times, on
the same data and the same machine, and the medians are compared. Each version is a folder
holding a copy of the tree (``git archive <commit> | tar -x -C <folder>``); every fit runs in
its own process with that folder first on ``PYTHONPATH``. The forecasts' sum is printed too:
the same value under both versions says the change did not touch what the network computes.

Run from the repository root::

    git archive ea93b1f | tar -x -C /tmp/old && git archive HEAD | tar -x -C /tmp/new
    python benchmarks/bench_code_versions.py /tmp/old /tmp/new --dataset m3-other \\
        --set '{"ensemble_training": "joint", "epochs": 10, "batch_size": 64}'
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

# One fit in the child process: prints "seconds forecast-sum" on its last line.
_CHILD = """
import json, os, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import forecastkit as fk
train, _, info = fk.datasets.load_dataset(sys.argv[1])
f = fk.RNNForecaster(horizon=info.horizon, season_length=info.season_length, random_state=0,
                     **json.loads(sys.argv[2]))
t0 = time.perf_counter()
f.fit(train)
pred = f.predict()
print(f"{time.perf_counter() - t0:.3f} {pred['y_pred'].sum():.6f}")
"""


def fit_once(tree: Path, dataset: str, params: str) -> tuple[float, str]:
    """Seconds of one fit + forecast under the code in ``tree``, and the forecasts' sum."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", _CHILD, dataset, params], env=env,
                         capture_output=True, text=True, check=True).stdout
    seconds, total = out.strip().splitlines()[-1].split()
    return float(seconds), total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees", nargs=2, type=Path, help="the two copies of the tree: old, new")
    ap.add_argument("--dataset", default="m3-other")
    ap.add_argument("--set", default="{}", help="JSON of RNNForecaster parameters")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    json.loads(args.set)  # a typo fails here, not in every child
    times: dict[Path, list[float]] = {t: [] for t in args.trees}
    sums: dict[Path, set[str]] = {t: set() for t in args.trees}
    for _ in range(args.repeats):
        for tree in args.trees:
            seconds, total = fit_once(tree, args.dataset, args.set)
            times[tree].append(seconds)
            sums[tree].add(total)
            print(f"{tree}: {seconds:.1f} s, forecast sum {total}", flush=True)
    old, new = (statistics.median(times[t]) for t in args.trees)
    print(f"median s: old {old:.1f}, new {new:.1f}, ratio new / old {new / old:.2f}; "
          f"same forecasts: {sums[args.trees[0]] == sums[args.trees[1]]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
