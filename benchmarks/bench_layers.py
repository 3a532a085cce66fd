"""Train-step time of forecastkit's recurrent layers against Keras' built-in ones.

For each cell (SimpleRNN, LSTM, GRU), each case (batch 256 x 48 steps x 64 units, and 168 steps x
128 units; 1 input feature) and jit_compile off and on, a model ``Input -> layer -> Dense(1)`` is
trained with Adam on MSE, ours (default ``batch_splits="auto"``, and ``batch_splits=1``: one
loop) and the built-in side by side in one run. After warm-up, steps are
timed in interleaved rounds (ours, built-in, ours, ...) so that load from other processes hits
both alike; the table gives medians, the ratio ours / built-in (goal <= 1.0) and the achieved
GFLOP/s (matrix products of forward and backward pass) beside numpy's float32 matmul peak.
The ratio is given on wall time and on this process's CPU time (steadier when other processes
share the machine).

Run: ``python benchmarks/bench_layers.py [--steps 15] [--cells lstm,gru,rnn] [--cases 48x64]``;
``--batch-splits 2`` forces two loops for ours (also under XLA, where "auto" keeps one), and
``XLA_FLAGS`` in the environment reaches both models alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import forecastkit.layers as fkl  # noqa: E402

CELLS = {
    "rnn": (fkl.SimpleRNN, keras.layers.SimpleRNN, 1),
    "lstm": (fkl.LSTM, keras.layers.LSTM, 4),
    "gru": (fkl.GRU, keras.layers.GRU, 3),
}
CASES = {"48x64": (48, 64), "168x128": (168, 128)}
BATCH = 256
FEATURES = 1


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 matrix-multiply rate numpy reaches on this machine, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed_both(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time is less disturbed by other load."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def train_flops(steps: int, units: int, gates: int) -> float:
    """Matrix-product FLOPs of one train step: forward, and twice that for the backward pass."""
    forward = 2 * BATCH * steps * (FEATURES + units) * gates * units
    return 3 * forward


def make_model(layer_class, units: int, steps: int, jit: bool, **layer_kw) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps, FEATURES))
    outputs = keras.layers.Dense(1)(layer_class(units, **layer_kw)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit)
    return model


def bench_pair(cell: str, case: str, jit: bool, n_steps: int,
               batch_splits: int | str = "auto") -> dict[str, float]:
    ours_class, ref_class, gates = CELLS[cell]
    steps, units = CASES[case]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, steps, FEATURES)).astype("float32")
    y = rng.standard_normal((BATCH, 1)).astype("float32")
    models = {"ours": make_model(ours_class, units, steps, jit, batch_splits=batch_splits),
              "one_loop": make_model(ours_class, units, steps, jit, batch_splits=1),
              "keras": make_model(ref_class, units, steps, jit)}
    walls: dict[str, list[float]] = {name: [] for name in models}
    cpus: dict[str, list[float]] = {name: [] for name in models}
    for model in models.values():  # warm up: trace, compile, first allocations
        for _ in range(3):
            model.train_on_batch(x, y)
    for _ in range(n_steps):
        for name, model in models.items():
            wall, cpu = _timed_both(lambda m=model: m.train_on_batch(x, y))
            walls[name].append(wall)
            cpus[name].append(cpu)
    ours, ref = statistics.median(walls["ours"]), statistics.median(walls["keras"])
    cpu_ratio = statistics.median(cpus["ours"]) / statistics.median(cpus["keras"])
    flops = train_flops(steps, units, gates)
    one_loop = statistics.median(walls["one_loop"])
    return {"ours_ms": ours * 1e3, "keras_ms": ref * 1e3, "ratio": ours / ref,
            "one_loop_ms": one_loop * 1e3, "one_loop_ratio": one_loop / ref,
            "cpu_ratio": cpu_ratio,
            # CPU seconds per wall second of our step: about 1 when one core does the work
            "ours_cores": statistics.median(cpus["ours"]) / ours,
            "ours_gflops": flops / ours / 1e9, "keras_gflops": flops / ref / 1e9}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=15, help="timed train steps per model")
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--cases", default="48x64,168x128")
    parser.add_argument("--jit", default="off,on")
    parser.add_argument("--batch-splits", default="auto",
                        help='the "ours" model\'s batch_splits ("auto" or a number of loops)')
    args = parser.parse_args()
    splits = args.batch_splits if args.batch_splits == "auto" else int(args.batch_splits)
    # best of 10 products, before the runs (after them too: other load makes single figures low)
    peak = matmul_peak_gflops()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"keras {keras.__version__}, backend {keras.backend.backend()}; "
          f"numpy float32 matmul peak (2048x2048): {peak:.1f} GFLOP/s; ours: batch_splits="
          f"{splits!r}; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}", flush=True)
    print("| cell | timesteps x units | jit | ours ms | one loop ms | Keras ms | ratio (wall) "
          "| one loop ratio | ratio (CPU) | ours GFLOP/s | Keras GFLOP/s | % of peak (ours) "
          "| ours CPU s / wall s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in args.cases.split(","):
        for cell in args.cells.split(","):
            for jit in args.jit.split(","):
                r = bench_pair(cell, case, jit == "on", args.steps, splits)
                print(f"| {cell} | {case} | {jit} | {r['ours_ms']:.1f} | {r['one_loop_ms']:.1f} "
                      f"| {r['keras_ms']:.1f} | {r['ratio']:.2f} | {r['one_loop_ratio']:.2f} "
                      f"| {r['cpu_ratio']:.2f} | {r['ours_gflops']:.1f} "
                      f"| {r['keras_gflops']:.1f} "
                      f"| {100 * r['ours_gflops'] / peak:.0f}% | {r['ours_cores']:.2f} |",
                      flush=True)
    print(f"# numpy float32 matmul peak again after the runs: {matmul_peak_gflops():.1f} GFLOP/s")


if __name__ == "__main__":
    main()
