"""RNNForecaster's three ensemble members trained one after the other vs side by side.

Issue 19: "n_models=3 in one graph vs one after another on M3 Monthly: fit time ratio (goal
<= 0.5)", with equal accuracy on the M3 validation windows. Both forecasters are the library's
defaults for the set (``make_model("lstm")``, seed 0); the joint one adds
``ensemble_training="joint"``. They are fitted on each series' training data less its last
horizon and scored on that horizon (the validation window; the test split is not read), with
:func:`forecastkit.evaluation.compare` (OWA against Naive2). ``seconds`` is fit + forecast wall
time, one model at a time in this process (TensorFlow uses both cores).

Run from the repository root::

    python benchmarks/bench_joint_ensemble.py                       # all of M3 Monthly
    python benchmarks/bench_joint_ensemble.py --sample 100          # a quick look
    python benchmarks/bench_joint_ensemble.py --window 2            # the horizon before
    python benchmarks/bench_joint_ensemble.py --batch-splits auto   # and the batch in 2 loops
    python benchmarks/bench_joint_ensemble.py --fast --models naive2,sequential,joint,fast
    # the last: make_model("lstm-fast"), joint on epochs="short" at learning rate 3e-3

Each model in a fresh process of its own (a process that has fitted one network fits the next
more slowly), then the table from the store::

    python benchmarks/bench_joint_ensemble.py --models sequential --fresh
    python benchmarks/bench_joint_ensemble.py --models joint
    python benchmarks/bench_joint_ensemble.py

Writes ``metrics.csv`` and the stored forecasts under ``--out`` (an interrupted run resumes
there; ``--fresh`` starts over) and prints the table and the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))

from select_rnn import validation_split  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="m3-monthly")
    p.add_argument("--sample", type=int, default=None, help="series drawn at random (seed 0)")
    p.add_argument("--window", type=int, default=1, help="validation window (1: the last)")
    p.add_argument("--test", action="store_true",
                   help="fit on all the training data and score the official test split "
                        "(the M3 study's setting) instead of a validation window")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="/tmp/bench_joint_ensemble")
    p.add_argument("--fresh", action="store_true")
    p.add_argument("--models", default="naive2,sequential,joint",
                   help="fit only these (the others are read from --out's store)")
    p.add_argument("--batch-splits", default="1",
                   help="the networks' batch_splits ('auto': the batch in two loops on a "
                        "multi-core CPU); sequential-split and joint-split then join the table "
                        "with it, beside the default of one loop")
    p.add_argument("--fast", action="store_true",
                   help='add make_model("lstm-fast") as "fast" (name it in --models too)')
    args = p.parse_args(argv)

    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.compare import compare, sample_series
    from forecastkit.evaluation.registry import make_model

    train, test, info = load_dataset(args.set)  # the test split is read only with --test
    if args.sample:
        train, test = sample_series(args.sample, 0, train, test)
    if args.test:
        fit_part, val_part = train, test
    else:
        fit_part, val_part = validation_split(train, info.horizon, args.window)
    shape = dict(horizon=info.horizon, season_length=info.season_length, seed=args.seed)
    models = {
        "naive2": make_model("naive2", **shape),
        "sequential": make_model("lstm", **shape),
        "joint": make_model("lstm", ensemble_training="joint", **shape),
    }
    if args.batch_splits != "1":
        splits = args.batch_splits if args.batch_splits == "auto" else int(args.batch_splits)
        models["sequential-split"] = make_model("lstm", batch_splits=splits, **shape)
        models["joint-split"] = make_model("lstm", ensemble_training="joint",
                                           batch_splits=splits, **shape)
    if args.fast:
        models["fast"] = make_model("lstm-fast", **shape)
    wanted = args.models.split(",")
    if set(wanted) != set(models):
        # Fit the named models now; the store keeps the others' forecasts and seconds, so
        # each can be fitted in a fresh process of its own and the table made at the end.
        compare({k: models[k] for k in ["naive2", *wanted] if k in models}, fit_part,
                val_part, out_dir=args.out, n_jobs=1, progress=False, fresh=args.fresh,
                horizon=info.horizon, season_length=info.season_length, seed=args.seed)
        return 0
    result = compare(models, fit_part, val_part, out_dir=args.out, n_jobs=1, progress=False,
                     fresh=args.fresh, **{k: shape[k] for k in ("horizon", "season_length")},
                     seed=args.seed)
    table = result.metrics[["smape", "mase", "owa", "seconds"]]
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    seq, joint = table.loc["sequential"], table.loc["joint"]
    print(f"\nfit + forecast, joint / sequential: {joint['seconds'] / seq['seconds']:.2f}")
    print(f"OWA, joint / sequential: {joint['owa'] / seq['owa']:.3f}")
    for name in ("sequential-split", "joint-split", "fast"):
        if name in table.index:
            print(f"fit + forecast, {name} / sequential: "
                  f"{table.loc[name, 'seconds'] / seq['seconds']:.2f}; OWA ratio "
                  f"{table.loc[name, 'owa'] / seq['owa']:.3f}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    table.to_csv(Path(args.out) / "metrics.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
