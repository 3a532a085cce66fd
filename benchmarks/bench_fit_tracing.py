"""What building the training state before ``fit`` saves: one trace of the train step, not two.

Keras, outside a distribution strategy, creates the optimizer's slot variables (and a
multi-output model's loss trackers) inside the first trace of the train step; TensorFlow then
traces the step again. ``fit_network`` now builds them first
(``forecastkit.forecasters._rnn_training._build_before_tracing``). This script fits the same
forecasters both ways in one process, alternating, and reports the median fit time of each and
their ratio; the forecasts must be bit-identical (checked). The "deferred" rows stand in for the
old code by making that step a no-op.

Run from the repository root::

    python benchmarks/bench_fit_tracing.py              # 3 repeats of each case
    python benchmarks/bench_fit_tracing.py --repeats 1   # a quick look
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


def fit_seconds(panel, params) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    out = fk.RNNForecaster(random_state=0, **params).fit(panel).predict_array()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    built_first = _rnn_training._build_before_tracing
    rows = []
    for name, (data, params) in CASES.items():
        panel = fk.datasets.make_trend_seasonal(season_length=12, seed=1, **data)
        fit_seconds(panel, params)  # warm up: the first fit of a process imports and builds more
        times: dict[str, list[float]] = {"deferred": [], "built first": []}
        outputs = {}
        for _ in range(args.repeats):
            for way in times:  # alternate, so drift in the machine's load hits both alike
                _rnn_training._build_before_tracing = (
                    built_first if way == "built first" else (lambda model, train: None))
                secs, outputs[way] = fit_seconds(panel, params)
                times[way].append(secs)
        _rnn_training._build_before_tracing = built_first
        same = outputs["deferred"].tobytes() == outputs["built first"].tobytes()
        deferred, first = (statistics.median(times[w]) for w in ("deferred", "built first"))
        rows.append((name, deferred, first, first / deferred, same))
    print("| case | deferred (Keras' default) s | built first s | ratio | forecasts identical |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, deferred, first, ratio, same in rows:
        print(f"| {name} | {deferred:.2f} | {first:.2f} | {ratio:.2f} | {same} |")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
