"""Two MultiWorkerMirroredStrategy workers vs one process, on the same data.

Issue 19: "Two-worker MultiWorkerMirroredStrategy vs one process on the same data: time per
epoch and final loss (on 2 cores the speedup cannot show; report what it costs and that
results agree)."

The model is the library's LSTM for the set (``make_model("lstm")``, seed 0) with one member
and a fixed number of epochs (``--epochs``), fitted on each series' training data less its
last horizon and scored on that horizon (a validation window; the test split is not read).
It trains once in one process without a strategy, and once in two worker processes on this
machine (localhost ports, a ``TF_CONFIG`` each) under ``MultiWorkerMirroredStrategy``: every
global batch is split over the two workers and their gradients summed. Each run is a fresh
process (the workers two at once). Reported per run: seconds of each epoch (a callback's
clock), the epochs' mean loss and validation loss, fit seconds, and the forecasts' sMAPE on
the validation window; then the ratios and how far the two runs' forecasts are apart.

Run from the repository root::

    python benchmarks/bench_multi_worker.py                    # all of M3 Monthly, 3 epochs
    python benchmarks/bench_multi_worker.py --sample 200       # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))


def _data(args):
    from select_rnn import validation_split

    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.compare import sample_series

    train, _, info = load_dataset(args.set)
    if args.sample:
        (train,) = sample_series(args.sample, 0, train)
    fit_part, val_part = validation_split(train, info.horizon, 1)
    return fit_part, val_part, info


def _run(args) -> None:
    """One run: ``--role single`` (no strategy) or ``--role worker`` (one of two)."""
    import contextlib

    import keras
    import numpy as np
    import tensorflow as tf

    from forecastkit.evaluation.registry import make_model
    from forecastkit.metrics import smape

    strategy = tf.distribute.MultiWorkerMirroredStrategy() if args.role == "worker" else None

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    fit_part, val_part, info = _data(args)
    clock = EpochClock()
    model = make_model("lstm", horizon=info.horizon, season_length=info.season_length,
                       seed=args.seed, n_models=1, epochs=args.epochs, callbacks=[clock])
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    start = time.perf_counter()
    with scope:
        model.fit(fit_part)
    fit_s = time.perf_counter() - start
    forecasts = model.predict_array()
    actual = val_part.groupby("unique_id", sort=False)["y"].apply(np.asarray)
    truth = np.stack([actual[i] for i in model.panel_.ids])
    history = model.history_[0]
    out = {
        "role": args.role, "index": args.index, "fit_s": fit_s, "epoch_s": clock.seconds,
        "loss": history["loss"], "val_loss": history.get("val_loss", []),
        "smape": float(np.mean([smape(t, f) for t, f in zip(truth, forecasts, strict=True)])),
    }
    np.save(Path(args.out) / f"{args.role}{args.index}.npy", forecasts)
    (Path(args.out) / f"{args.role}{args.index}.json").write_text(json.dumps(out))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="m3-monthly")
    p.add_argument("--sample", type=int, default=None, help="series drawn at random (seed 0)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="/tmp/bench_multi_worker")
    p.add_argument("--role", choices=["single", "worker"], help=argparse.SUPPRESS)
    p.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.role:
        _run(args)
        return 0

    import numpy as np

    Path(args.out).mkdir(parents=True, exist_ok=True)
    common = [sys.executable, __file__, "--set", args.set, "--epochs", str(args.epochs),
              "--seed", str(args.seed), "--out", args.out]
    if args.sample:
        common += ["--sample", str(args.sample)]
    subprocess.run([*common, "--role", "single"], check=True,
                   env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    from forecastkit.forecasters._multi_worker import local_cluster

    workers = []
    try:  # a worker that failed leaves the other waiting in a collective: kill both
        for i, config in enumerate(local_cluster(2)):
            # The CPU, as the one-process run; TF_CONFIG names the worker's place.
            env = {**os.environ, "TF_CONFIG": config, "CUDA_VISIBLE_DEVICES": ""}
            workers.append(subprocess.Popen([*common, "--role", "worker", "--index", str(i)],
                                            env=env))
        while all(w.poll() is None for w in workers):
            time.sleep(1)
        if any(w.wait(timeout=600) for w in workers):
            raise SystemExit("a worker failed")
    finally:
        for w in workers:
            w.kill()
    runs = {name: json.loads((Path(args.out) / f"{name}.json").read_text())
            for name in ("single0", "worker0", "worker1")}
    single, chief = runs["single0"], runs["worker0"]
    print(f"{'run':<22}{'fit s':>8}{'epoch s (each)':>26}{'last loss':>11}"
          f"{'last val':>10}{'sMAPE':>8}")
    for name, r in runs.items():
        epochs = ", ".join(f"{s:.1f}" for s in r["epoch_s"])
        print(f"{name:<22}{r['fit_s']:>8.1f}{epochs:>26}{r['loss'][-1]:>11.5f}"
              f"{r['val_loss'][-1] if r['val_loss'] else float('nan'):>10.5f}{r['smape']:>8.3f}")
    mean_epoch = {k: float(np.mean(runs[k]["epoch_s"])) for k in ("single0", "worker0")}
    if args.epochs > 1:
        print(f"epoch time, two workers / one process: "
              f"{mean_epoch['worker0'] / mean_epoch['single0']:.2f} (first epoch excluded: "
              f"{np.mean(chief['epoch_s'][1:]) / np.mean(single['epoch_s'][1:]):.2f})")
    print(f"fit time ratio: {chief['fit_s'] / single['fit_s']:.2f}")
    print(f"final loss ratio: {chief['loss'][-1] / single['loss'][-1]:.4f}")
    a, b, c = (np.load(Path(args.out) / f"{n}.npy") for n in ("single0", "worker0", "worker1"))
    apart = np.abs(b - a) / np.abs(a)
    print(f"workers' forecasts identical: {bool(np.array_equal(b, c))}; two workers vs one "
          f"process, relative difference per value: median {np.median(apart):.1e}, "
          f"99th percentile {np.quantile(apart, 0.99):.1e}, largest {apart.max():.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
