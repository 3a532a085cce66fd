"""Quickstart study: a sample of M3 Monthly, classical baselines against a recurrent network.

Run from the repository root::

    python experiments/quickstart.py

It prints the comparison table and writes experiments/results/quickstart/ (report.md, metrics,
plots). The recurrent model is included when forecastkit.forecasters.rnn imports (it needs
TensorFlow); otherwise the baselines run alone. Budget: under 10 minutes on 2 cores.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, command_line, reset, rnn_available  # noqa: E402

# ----------------------------------------------------------------------------- config
DATASET = "m3-monthly"
SAMPLE = 200  # series drawn at random with SEED
SEED = 0
# ETS and ARIMA are left out: with statsmodels they take seconds per series (see m3.py).
BASELINES = ["naive2", "snaive", "theta", "comb"]
RNN_MODELS = ["lstm"]  # added when RNNForecaster is importable
RNN_PARAMS: dict[str, dict] = {}  # e.g. {"lstm": {"epochs": 20}}; empty: the model's defaults
COMBINATIONS = {"lstm+theta": ["lstm", "theta"]}  # mean of the two forecasts
OUT = RESULTS / "quickstart"
PUBLISHED = [  # M3 Monthly, all 1,428 series (N-BEATS paper, Table 14); ours is a sample
    ("Naive2", 16.91, "Makridakis & Hibon (2000) via N-BEATS Table 14"),
    ("Theta", 13.85, "M3 winner"),
    ("N-BEATS", 13.11, "Oreshkin et al. (2020)"),
]
# ----------------------------------------------------------------------------- end of config


def main() -> int:
    import pandas as pd

    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.compare import compare, sample_series
    from forecastkit.evaluation.registry import make_models
    from forecastkit.evaluation.report import write_report

    started = time.perf_counter()
    train, test, info = load_dataset(DATASET)
    train, test = sample_series(SAMPLE, SEED, train, test)
    names = list(BASELINES)
    if rnn_available():
        names += RNN_MODELS
    else:
        print("RNNForecaster is not importable here: running the baselines only.")
    models = make_models(names, horizon=info.horizon, season_length=info.season_length,
                         seed=SEED, params=RNN_PARAMS)
    reset(OUT)  # the quickstart always runs afresh, so its report is this machine's
    published = pd.DataFrame(PUBLISHED, columns=["method", "sMAPE (all 1,428 series)", "source"])
    result = compare(
        models, train, test, horizon=info.horizon, season_length=info.season_length,
        out_dir=OUT, seed=SEED,
        combinations={k: v for k, v in COMBINATIONS.items()
                      if set(v) <= set(names) and k not in names},
    )
    report = write_report(
        result, OUT, published=published, command=command_line(),
        title=f"Quickstart: {SAMPLE} series of M3 Monthly (official test split)",
        notes=(f"{SAMPLE} of the {info.n_series} M3 Monthly series, drawn with seed {SEED}; "
               f"horizon {info.horizon}, season length {info.season_length}. The published "
               f"figures cover the whole set, so they are a guide, not a like-for-like row."),
    )
    print()
    print(result.table())
    print(f"\nTotal time: {time.perf_counter() - started:.0f} s")
    print(f"Report: {_relative(report)}")
    return 0


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


if __name__ == "__main__":
    sys.exit(main())
