"""Tuning study: an Optuna search over RNNForecaster's main parameters against its defaults.

Run from the repository root::

    python experiments/tuning.py                        # all of M3 Monthly: many hours
    python experiments/tuning.py --sample 300 --search-members 1   # what the report ran

The search (:func:`forecastkit.tune`, the space of :func:`forecastkit.evaluation.
rnn_search_space`: cell, units, lookback, learning rate, dropout) scores each trial by
rolling-origin MASE on validation windows cut from the end of the *training* data (two windows
of one horizon), with Optuna's TPE sampler and median pruning after the first window. The
test split is touched once, at the end: the defaults and the best parameters, each fitted on
all the training data, are scored by :func:`forecastkit.compare` (OWA against Naive2).
``--search-members 1`` trains one network per trial instead of the defaults' ensemble of
three (the search ranks parameters; the final model keeps ``n_models=3``), which makes 30
trials affordable on two cores. The study is resumable: Optuna's SQLite file and the
comparison's stored units live in the results folder.
Writes experiments/results/tuning/.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
from _common import RESULTS, command_line, compare_set, header, load_set, parser  # noqa: E402
from sklearn.base import clone  # noqa: E402

SET = "m3-monthly"


def main() -> None:
    p = parser(__doc__.splitlines()[0], ["lstm"], None)
    p.add_argument("--n-trials", type=int, default=30)
    p.add_argument("--n-windows", type=int, default=2,
                   help="validation windows at the end of the training data")
    p.add_argument("--search-members", type=int, default=None, metavar="K",
                   help="n_models of the networks trained during the search (default: the "
                        "forecaster's own, 3)")
    args = p.parse_args()
    import forecastkit as fk

    out = args.out or RESULTS / "tuning"
    out.mkdir(parents=True, exist_ok=True)
    train, test, info = load_set(SET, args.sample, args.seed)
    base = fk.RNNForecaster(horizon=info.horizon, season_length=info.season_length,
                            random_state=args.seed)
    searched = base if args.search_members is None else base.set_params(
        n_models=args.search_members)
    space = fk.evaluation.rnn_search_space(info.horizon, info.season_length)
    t0 = time.perf_counter()
    result = fk.tune(searched, train, space, n_trials=args.n_trials,
                     n_windows=args.n_windows, storage=out / "tuning.db", seed=args.seed,
                     refit=False, progress=not args.no_progress)
    search_seconds = time.perf_counter() - t0  # this session's part of a resumed study
    trials = result.trials()
    trials.to_csv(out / "trials.csv", index=False)
    defaults = fk.RNNForecaster(horizon=info.horizon, season_length=info.season_length,
                                random_state=args.seed)
    tuned = clone(defaults).set_params(**result.best_params)
    theta = fk.evaluation.make_model("theta", horizon=info.horizon,
                                     season_length=info.season_length)
    comparison = compare_set({"lstm-defaults": defaults, "lstm-tuned": tuned, "theta": theta},
                             train, test, info, args, out / "test")
    write(out, comparison, result, trials, search_seconds, info, args)


def write(out: Path, comparison, result, trials: pd.DataFrame, search_seconds: float, info,
          args) -> None:
    metrics = comparison.metrics
    states = trials["state"].value_counts().to_dict()
    trial_seconds = (trials["datetime_complete"] - trials["datetime_start"]).dt.total_seconds()
    best = {k: (list(v) if isinstance(v, tuple) else v) for k, v in result.best_params.items()}
    (out / "best_params.json").write_text(json.dumps(best, indent=1, default=str))
    n_series = comparison.forecasts["unique_id"].nunique()
    lines = [
        *header(f"Tuning study: a {len(trials)}-trial Optuna search vs RNNForecaster's defaults",
                command_line()),
        f"- Data: {SET}, {n_series} series"
        + (f" (a sample drawn with seed {args.seed})" if args.sample else "")
        + f", horizon {info.horizon}, season length {info.season_length}",
        f"- Search: {len(trials)} trials ({_counts(states)}) on {args.n_windows} rolling-origin "
        "windows at the end of the training data, "
        f"MASE; networks of {args.search_members or 3} member(s) per trial",
        f"- Search cost: {trial_seconds.sum():.0f} s of trials in all (this run: "
        f"{search_seconds:.0f} s); best validation MASE {result.best_error:.4f}",
        f"- Best parameters: `{best}`",
        "",
        "## Test split (official), each fitted once on all the training data",
        "",
        "OWA against Naive2; `seconds`: fit + forecast. Hyperparameters were chosen on the "
        "validation windows only.",
        "",
        comparison.table(),
        "",
        f"OWA tuned / defaults: {metrics.loc['lstm-tuned', 'owa']:.3f} / "
        f"{metrics.loc['lstm-defaults', 'owa']:.3f}.",
        "",
        "Files: `trials.csv` (every trial: parameters, validation MASE, state, times), "
        "`best_params.json`, `test/` (the comparison's stored forecasts).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(lines))


def _counts(states: dict) -> str:
    return ", ".join(f"{n} {state.lower()}" for state, n in states.items())


if __name__ == "__main__":
    main()
