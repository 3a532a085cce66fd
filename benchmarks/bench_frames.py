"""``to_panel`` on a large long frame: the vectorised checks vs the per-series loop they replaced.

Panel: ``--series`` series x ``--steps`` steps (default 10,000 x 200: 2,000,000 rows) of a long
frame ``unique_id, ds, y``, grouped by series, with three kinds of time stamps:

* ``integer``: integer steps;
* ``daily``: a datetime column at a fixed-duration frequency (``"D"``);
* ``monthly``: month-start stamps, a calendar frequency, each series starting a month later than
  the one before (so series do not share their stamps);

and ``wide``: the daily panel pivoted to one column per series.

The reference is ``forecastkit/data/frames.py`` as it was before the vectorisation (``git show
<commit>:forecastkit/data/frames.py``, loaded as a module), which checked series one at a time
and called ``pd.infer_freq`` on each. Both produce the same panel (checked here). Each timing is
the best of ``--repeat`` runs in this process.

Run: ``python benchmarks/bench_frames.py`` (``--series 1000`` for a quick look).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
# The last commit with the per-series implementation of frames.py.
REFERENCE_COMMIT = "493e43d"


def _reference_module(commit: str):
    source = subprocess.run(
        ["git", "show", f"{commit}:forecastkit/data/frames.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "frames_reference.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("frames_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["frames_reference"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _frame(n_series: int, n_steps: int, kind: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    y = rng.normal(size=(n_series, n_steps)).cumsum(axis=1) + 100.0
    ids = np.repeat(np.array([f"s{i:05d}" for i in range(n_series)], dtype=object), n_steps)
    if kind == "integer":
        ds = np.tile(np.arange(n_steps), n_series)
    elif kind == "daily":
        ds = np.tile(pd.date_range("2000-01-01", periods=n_steps, freq="D").values, n_series)
    else:  # monthly, series i starts i months after 1990-01 (wrapping every 20 years)
        months = np.arange(n_series)[:, None] % 240 + np.arange(n_steps)[None, :]
        ds = (np.datetime64("1990-01", "M") + months).astype("datetime64[ns]").ravel()
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": y.ravel()})


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _same(a, b) -> bool:
    return (
        list(a.ids) == list(b.ids)
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.values, b.values)
        and np.array_equal(a.times, b.times)
        and a.freq == b.freq
        and a.step == b.step
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-commit", default=REFERENCE_COMMIT)
    args = parser.parse_args()

    from forecastkit.data.frames import to_panel

    reference = _reference_module(args.reference_commit)
    print(f"to_panel, {args.series:,} series x {args.steps} steps "
          f"({args.series * args.steps:,} rows), best of {args.repeat}")
    print(f"{'input':<10}{'per-series (s)':>16}{'vectorised (s)':>16}{'speed-up':>10}")
    for kind in ("integer", "daily", "monthly", "wide"):
        df = _frame(args.series, args.steps, "daily" if kind == "wide" else kind)
        if kind == "wide":
            df = df.pivot(index="ds", columns="unique_id", values="y")
        new, old = to_panel(df), reference.to_panel(df)
        if not _same(new, old):
            raise SystemExit(f"{kind}: the two implementations disagree")
        t_old = _best(lambda df=df: reference.to_panel(df), args.repeat)
        t_new = _best(lambda df=df: to_panel(df), args.repeat)
        print(f"{kind:<10}{t_old:>16.3f}{t_new:>16.3f}{t_old / t_new:>9.1f}x")


if __name__ == "__main__":
    main()
