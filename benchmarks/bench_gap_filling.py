"""Cost of filling gaps in the tf.data normaliser: finding the gaps once or twice per batch.

``WindowNormalizer(interpolate_gaps=True)`` (what a network fitted on data with NaN uses) fills
each window's gaps twice, the raw (log) window and then the deseasonalised one, under the same
mask. Finding a gap's neighbours sorts the mask (along the window and along each season
position); ``gap_plan`` does that once and ``apply_gap_plan`` applies it to both arrays. This times,
side by side in one process, in a traced graph (as the pipeline runs it) and eagerly:

- ``interpolate_gaps`` twice (the neighbours found twice: the normaliser before the plan);
- ``gap_plan`` once and ``apply_gap_plan`` twice (the normaliser now);
- the whole ``WindowNormalizer`` on the same windows with and without gaps (what the fill
  costs in the pipeline's normalising step),

and checks that the two ways give identical fills. Synthetic hourly windows with a daily season,
10 % of steps missing at random and one lost day in every fourth window.

Usage::

    python benchmarks/bench_gap_filling.py --batch 1024 --window 168 --season 24
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import tensorflow as tf

from forecastkit.data.gap_filling import apply_gap_plan, gap_plan, interpolate_gaps
from forecastkit.data.normalization import WindowNormalizer


def _windows(batch: int, window: int, m: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(window)
    x = (100 + 20 * np.sin(2 * np.pi * t / m)[None, :]
         + rng.normal(0, 2, (batch, window))).astype(np.float32)
    mask = (rng.random((batch, window)) > 0.1).astype(np.float32)
    start = rng.integers(0, window - m, batch)
    for row in range(0, batch, 4):
        mask[row, start[row]:start[row] + m] = 0.0
    return x, mask


def _median_of(func, repeats: int) -> float:
    func()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--window", type=int, default=168)
    parser.add_argument("--season", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    m = args.season
    x, mask = _windows(args.batch, args.window, m)
    x2 = x[:, ::-1].copy()  # a second array under the same mask (the deseasonalised window)

    @tf.function
    def twice(a, b, mask):
        return interpolate_gaps(a, mask, m), interpolate_gaps(b, mask, m)

    @tf.function
    def planned(a, b, mask):
        plan = gap_plan(mask, m, "float32")
        return apply_gap_plan(a, plan), apply_gap_plan(b, plan)

    def normaliser(gaps: bool):
        layer = WindowNormalizer(season_length=m, deseasonalize=True, horizon=48,
                                 interpolate_gaps=gaps)
        return tf.function(lambda h, k: layer([h, k]))

    same = all(np.array_equal(u.numpy(), v.numpy())
               for u, v in zip(twice(x, x2, mask), planned(x, x2, mask), strict=True))
    t_twice = _median_of(lambda: twice(x, x2, mask), args.repeats)
    t_plan = _median_of(lambda: planned(x, x2, mask), args.repeats)
    # Eagerly, op by op: nothing merges the two sorts of the same mask.
    t_twice_eager = _median_of(lambda: twice.python_function(x, x2, mask), args.repeats)
    t_plan_eager = _median_of(lambda: planned.python_function(x, x2, mask), args.repeats)
    with_gaps, without = normaliser(True), normaliser(False)
    ones = np.ones_like(mask)
    t_norm_gaps = _median_of(lambda: with_gaps(x, mask), args.repeats)
    t_norm_plain = _median_of(lambda: without(x, ones), args.repeats)
    print(f"batch {args.batch}, window {args.window}, season {m}, 10 % random gaps and a lost "
          f"day in every fourth window; median of {args.repeats} calls, "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'all'} intra-op "
          "threads\n")
    print("| step | ms per batch | ratio |")
    print("| --- | ---: | ---: |")
    for mode, t_old, t_new in (("tf.function", t_twice, t_plan),
                               ("eager", t_twice_eager, t_plan_eager)):
        print(f"| {mode}: interpolate_gaps twice (neighbours found twice) | "
              f"{1e3 * t_old:.2f} | 1.00 |")
        print(f"| {mode}: gap_plan once, apply_gap_plan twice | {1e3 * t_new:.2f} | "
              f"{t_new / t_old:.2f} |")
    print(f"| WindowNormalizer, complete windows | {1e3 * t_norm_plain:.2f} | 1.00 |")
    print(f"| WindowNormalizer, gappy windows (interpolate_gaps=True) | "
          f"{1e3 * t_norm_gaps:.2f} | {t_norm_gaps / t_norm_plain:.2f} |")
    print(f"\nthe two fills identical: {same}")


if __name__ == "__main__":
    main()
