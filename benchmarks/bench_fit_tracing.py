"""What two changes to ``fit``'s overhead save, each against the code before it.

``--change tracing`` (the default): one trace of the train step, not two. Keras, outside a
distribution strategy, creates the optimizer's slot variables (and a multi-output model's loss
trackers) inside the first trace of the train step; TensorFlow then traces the step again.
``fit_network`` now builds them first
(``forecastkit.forecasters._rnn_training._build_before_tracing``). This script fits the same
forecasters both ways in one process, alternating, and reports the median fit time of each and
their ratio; the forecasts must be bit-identical (checked). The "deferred" rows stand in for the
old code by making that step a no-op.

``--change iterators``: one iterator of the training stream for the whole fit, and a cached
validation stream (``_rnn_training.keras_streams``), against Keras' new iterators every epoch
(the "before" rows pass the streams to Keras unchanged). Its cases add an early-stopping fit,
where the validation stream is read every epoch.

Run from the repository root::

    python benchmarks/bench_fit_tracing.py              # 3 repeats of each case
    python benchmarks/bench_fit_tracing.py --repeats 1   # a quick look
    python benchmarks/bench_fit_tracing.py --change iterators
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import forecastkit as fk  # noqa: E402
from forecastkit.forecasters import _rnn_training  # noqa: E402

CASES = {
    # name: (panel, RNNForecaster parameters)
    "tiny LSTM, 1 member (a unit test's fit)": (
        dict(n_series=4, length=(40, 60)),
        dict(cell="lstm", units=(8,), lookback=12, horizon=6, epochs=2, batch_size=32,
             n_models=1)),
    "defaults, 3 members one after another (30 monthly-like series)": (
        dict(n_series=30, length=(100, 140)),
        dict(horizon=18, season_length=12)),
    "defaults, 3 members in one graph (same data)": (
        dict(n_series=30, length=(100, 140)),
        dict(horizon=18, season_length=12, ensemble_training="joint")),
}


EARLY_STOPPING_CASE = {
    "tiny LSTM, 2 members, early stopping (a unit test's fit)": (
        dict(n_series=4, length=(40, 60)),
        dict(cell="lstm", units=(8,), lookback=12, horizon=6, epochs=6, batch_size=32,
             n_models=2, early_stopping=True, patience=10)),
}


def _patches():
    """For each change: (attribute of ``_rnn_training``, the code before, the code now,
    names of the two ways)."""
    return {
        "tracing": ("_build_before_tracing", lambda model, train: None,
                    _rnn_training._build_before_tracing, ("deferred", "built first")),
        "iterators": ("keras_streams", lambda train, validation: (train, None, validation),
                      _rnn_training.keras_streams, ("new every epoch", "one for the fit")),
    }


def fit_seconds(panel, params) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fk.RNNForecaster(random_state=0, **params).fit(panel).predict_array()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--change", choices=("tracing", "iterators"), default="tracing")
    args = ap.parse_args(argv)
    attribute, before, now, ways = _patches()[args.change]
    cases = CASES if args.change == "tracing" else {**CASES, **EARLY_STOPPING_CASE}
    rows = []
    for name, (data, params) in cases.items():
        panel = fk.datasets.make_trend_seasonal(season_length=12, seed=1, **data)
        fit_seconds(panel, params)  # warm up: the first fit of a process imports and builds more
        times: dict[str, list[float]] = {way: [] for way in ways}
        outputs = {}
        for _ in range(args.repeats):
            for way in ways:  # alternate, so drift in the machine's load hits both alike
                setattr(_rnn_training, attribute, now if way == ways[1] else before)
                secs, outputs[way] = fit_seconds(panel, params)
                times[way].append(secs)
        setattr(_rnn_training, attribute, now)
        same = outputs[ways[0]].tobytes() == outputs[ways[1]].tobytes()
        old, new = (statistics.median(times[w]) for w in ways)
        rows.append((name, old, new, new / old, same))
    print(f"| case | {ways[0]} s | {ways[1]} s | ratio | forecasts identical |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, old, new, ratio, same in rows:
        print(f"| {name} | {old:.2f} | {new:.2f} | {ratio:.2f} | {same} |")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
