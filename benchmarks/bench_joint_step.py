"""Where the train step of an ensemble in one graph goes: its arithmetic or its overhead.

Issue 19 asks that ``ensemble_training="joint"`` fit the three members of the M3 Monthly LSTM
in at most half the time of fitting them one after the other. One graph can only save what a
member's step costs besides its arithmetic (dispatch, the loss and optimizer bookkeeping, the
window stream), so this script measures the two parts on one batch, with no stream:

- ``alone``: each member's own compiled model, one ``train_on_batch`` each (the sum is the cost
  of a step of three members trained one after the other);
- ``joint``: the three members in one model (:func:`joint_model`), one ``train_on_batch``;
- ``summed lookback``: one member network whose lookback is the sum of the three (the same
  number of LSTM steps as the three members together: their arithmetic, paid once).

The members are the library's own (``make_model("lstm")`` for M3 Monthly: lookbacks 36, 27
and 54, 64 units, batch 256), fitted for one epoch on M3 Monthly to have their
normaliser and stream; the batch is a real normalised batch of that stream. Steps are timed in
interleaved rounds (alone, joint, summed, alone, ...) after warm-up; the table gives medians.

Run from the repository root::

    python benchmarks/bench_joint_step.py            # --rounds 30 --sample 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--sample", type=int, default=None,
                   help="M3 Monthly series drawn at random (seed 0; default all, whose "
                        "schedule is the study's batch of 256)")
    p.add_argument("--inter-op", type=int, default=None,
                   help="TensorFlow's inter-op threads (1: independent ops one at a time)")
    args = p.parse_args(argv)

    import numpy as np
    import tensorflow as tf

    if args.inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)

    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.compare import sample_series
    from forecastkit.evaluation.registry import make_model
    from forecastkit.forecasters import _rnn_setup as setup
    from forecastkit.forecasters._joint_training import joint_model
    from forecastkit.forecasters._network import member_inputs, member_targets

    train, _, info = load_dataset("m3-monthly")
    if args.sample:
        (train,) = sample_series(args.sample, 0, train)
    f = make_model("lstm", horizon=info.horizon, season_length=info.season_length, seed=0)
    f.set_params(epochs=1, n_models=3)
    f.fit(train)
    lookbacks = list(f.lookbacks_)
    data = setup.plan_training(f, f.panel_, setup.normalizer(f), None, 0)
    batch_size = f.batch_size_
    stream = data.stream(batch_size, 0)
    inputs, y = next(iter(stream))
    window = int(inputs["z"].shape[1])

    from forecastkit.layers.optim import default_optimizer

    members = [setup.new_member(f, lb, i, f"member_{i}") for i, lb in enumerate(lookbacks)]
    alone = [(m, member_inputs(inputs, lb, f.strategy), member_targets(y, f.strategy))
             for m, lb in zip(members, lookbacks, strict=True)]
    # The joint model as train_jointly builds it: fresh members, one optimizer, summed loss.
    side_by_side = [setup.new_member(f, lb, i, f"joint_{i}") for i, lb in enumerate(lookbacks)]
    joint = joint_model(side_by_side, lookbacks, f.strategy, stream.element_spec[0])
    joint.compile(optimizer=default_optimizer(learning_rate=f.learning_rate,
                                              clipnorm=f.clipnorm),
                  loss={m.name: m.loss for m in side_by_side})
    joint_y = {m.name: member_targets(y, f.strategy) for m in side_by_side}
    # One network stepping through as many LSTM steps as the three members together: the
    # members' arithmetic in one loop. Its input repeats the window's values (their content
    # does not change the cost).
    summed = sum(lookbacks)
    big = setup.new_member(f, summed, 9, "summed")
    reps = -(-summed // window)
    big_x = {**member_inputs(inputs, window, f.strategy),
             **{k: np.tile(np.asarray(inputs[k]), (1, reps))[:, -summed:]
                for k in ("z", "mask")}}
    big_y = member_targets(y, f.strategy)

    cases = {
        "alone (three members, summed)": lambda: [m.train_on_batch(x, t) for m, x, t in alone],
        "joint (one model)": lambda: joint.train_on_batch(inputs, joint_y),
        f"one member of lookback {summed}": lambda: big.train_on_batch(big_x, big_y),
    }
    for fn in cases.values():  # build, trace, warm up
        for _ in range(3):
            fn()
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            times[name].append(_timed(fn))
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    ref = med["alone (three members, summed)"]
    print(f"lookbacks {lookbacks}, batch {batch_size}, window {window}, "
          f"{args.rounds} interleaved rounds, medians")
    print("| step | ms | ratio to alone |")
    print("| --- | ---: | ---: |")
    for name, ms in med.items():
        print(f"| {name} | {ms:.1f} | {ms / ref:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
