"""Served latency and throughput of an exported SavedModel beside ``forecaster.predict``.

An LSTM (64 units) RNNForecaster is trained quickly (``--epochs 1``) on M3 Monthly, exported with
``fk.export_saved_model`` and loaded back with plain ``tf.saved_model.load``. For the same
histories (the ends of M3 Monthly series) two paths are timed side by side, in interleaved
rounds so that load from other processes hits both alike:

* ``SavedModel serve_masked``: the signature a serving client calls, on prepared arrays;
* ``forecaster.predict_array(y=...)``: what a Python user calls, frame in (input checks,
  padding, the same Keras serving model).

Batch 1: p50 and p99 latency over ``--calls`` calls (one random series each). Batch 1,024:
throughput in series per second, the median of ``--rounds`` rounds.

Run: ``python benchmarks/bench_serving.py [--calls 1000] [--rounds 5] [--train-series 300]``
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--train-series", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args(argv)

    import tensorflow as tf

    import forecastkit as fk
    from forecastkit.data.frames import to_panel

    train, _, info = fk.datasets.load_m3("monthly")
    ids = train["unique_id"].unique()
    fit_ids = ids[: args.train_series]
    f = fk.RNNForecaster(cell="lstm", units=(64,), horizon=info.horizon,
                         season_length=info.season_length, n_models=1, epochs=args.epochs,
                         early_stopping=False, random_state=0)
    t0 = time.perf_counter()
    f.fit(train[train["unique_id"].isin(fit_ids)])
    fit_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        export_dir = fk.export_saved_model(f, tmp)
        served = tf.saved_model.load(str(export_dir))
    serve = served.signatures["serve_masked"]

    rng = np.random.default_rng(0)
    batch_ids = rng.choice(ids, size=min(args.batch, len(ids)), replace=False)
    big_df = train[train["unique_id"].isin(batch_ids)]
    big = f.serving_inputs(to_panel(big_df))
    singles = [train[train["unique_id"] == sid] for sid in rng.choice(ids, size=50)]
    single_inputs = [f.serving_inputs(to_panel(df)) for df in singles]

    def run_served(inputs):
        return serve(**{k: tf.constant(v) for k, v in inputs.items()})["forecast"].numpy()

    # Same forecasts from both paths (the benchmark compares like with like).
    np.testing.assert_allclose(run_served(big), f.predict_array(y=big_df)[:, :], rtol=1e-4)

    paths = {
        "SavedModel serve_masked": (run_served, lambda i: single_inputs[i], lambda: big),
        "forecaster.predict_array(y=frame)": (
            lambda df: f.predict_array(y=df), lambda i: singles[i], lambda: big_df),
    }
    for fn, one, many in paths.values():  # warm up (tracing, first-call costs)
        for i in range(3):
            fn(one(i))
        fn(many())

    lat = {name: [] for name in paths}
    for c in range(args.calls):
        for name, (fn, one, _) in paths.items():
            x = one(c % len(singles))
            t = time.perf_counter()
            fn(x)
            lat[name].append(time.perf_counter() - t)
    thr = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, (fn, _, many) in paths.items():
            x = many()
            t = time.perf_counter()
            fn(x)
            thr[name].append(len(batch_ids) / (time.perf_counter() - t))

    base = "forecaster.predict_array(y=frame)"
    p50_base = np.percentile(lat[base], 50)
    thr_base = np.median(thr[base])
    print(f"# Serving benchmark: LSTM 64 units, M3 Monthly (horizon {info.horizon}, history "
          f"window {big['history'].shape[1]}), fitted on {len(fit_ids)} series x "
          f"{args.epochs} epoch in {fit_s:.0f} s")
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"TensorFlow {tf.__version__}; {args.calls} calls at batch 1, {args.rounds} rounds at "
          f"batch {len(batch_ids)}; other processes share the CPU")
    print()
    print("| path | batch 1 p50 (ms) | batch 1 p99 (ms) | p50 vs predict | "
          f"batch {len(batch_ids)} (series/s) | throughput vs predict |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in paths:
        p50, p99 = np.percentile(lat[name], [50, 99]) * 1e3
        tput = np.median(thr[name])
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {p50 / 1e3 / p50_base:.2f}x | {tput:,.0f} | "
              f"{tput / thr_base:.2f}x |")


if __name__ == "__main__":
    main()
