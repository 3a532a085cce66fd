"""Choose the conformal method of the probabilistic study on validation windows, per set.

For every series the last ``horizon`` points of the *training* part are held out (as
select_rnn.py does); the study's recommended configuration, ConformalIntervals around
lstm-validated with the study's number of windows and ``refit=False``, is fitted once on what
is left, and both methods' quantiles come from that one fit (they read the same stored errors
differently). Scored on the held-out points: ACD and MSIS of the 95% interval and OWA of the
median. The official test set is never touched.

Rule, fixed before any run: only methods whose median OWA is within 1% of the point
forecast's are eligible ("absolute" always is: its median is the point forecast); among them,
the lowest validation MSIS of those with ACD <= 0.02, or, if none reaches that, the lowest ACD.
Writes experiments/results/probabilistic-selection/<set>.json (read by probabilistic.py) and
<set>.csv (every score)::

    python experiments/select_conformal.py                      # all sets (about two
                                                                # lstm-validated fits per set)
    python experiments/select_conformal.py --sets m3-other --sample 40 --fast   # a check
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
from _common import command_line, load_set, parser  # noqa: E402
from _prob_report import GOAL_ACD, GOAL_OWA_RATIO, _rescored  # noqa: E402
from probabilistic import (  # noqa: E402
    LEVELS,
    RECOMMENDED,
    SELECTION,
    SETS,
    _make_fast,
    conformal_windows,
)
from select_rnn import validation_split  # noqa: E402

from forecastkit.evaluation.registry import make_model  # noqa: E402

METHODS = ("absolute", "signed")


def choose(metrics: pd.DataFrame) -> str:
    """The rule of the module docstring, on the validation metrics (rows: methods, "point")."""
    point_owa = metrics.loc["point", "owa"]
    eligible = [m for m in METHODS if m == "absolute"
                or metrics.loc[m, "owa"] <= GOAL_OWA_RATIO * point_owa]
    calibrated = [m for m in eligible if metrics.loc[m, "acd_95"] <= GOAL_ACD]
    if calibrated:
        return min(calibrated, key=lambda m: metrics.loc[m, "msis_95"])
    return min(eligible, key=lambda m: metrics.loc[m, "acd_95"])


def validate(name: str, args) -> tuple[pd.DataFrame, int]:
    """Validation metrics of each method, the point forecast and Naive2 on one set, and the
    number of series scored."""
    train, _test, info = load_set(name, args.sample, args.seed)
    fit_part, val_part = validation_split(train, info.horizon)
    fit_part = fit_part[fit_part["unique_id"].isin(set(val_part["unique_id"]))]
    build = {"horizon": info.horizon, "season_length": info.season_length, "seed": args.seed}
    model = make_model(RECOMMENDED, **build, method=METHODS[0],
                       n_windows=conformal_windows(fit_part, info.horizon))
    if args.fast:
        _make_fast(model)
    model.fit(fit_part)
    frames = []
    for method in METHODS:
        variant = copy.copy(model)  # same fit and errors, read by the other method
        variant.method = method
        frames.append(variant.predict(quantiles=list(LEVELS)).assign(model=method))
    frames.append(frames[0][["unique_id", "ds", "y_pred"]].assign(model="point"))
    naive2 = make_model("naive2", **build).fit(fit_part)
    frames.append(naive2.predict().assign(model="naive2"))
    cv = pd.concat(frames, ignore_index=True)
    cutoff = fit_part.groupby("unique_id")["ds"].max().rename("cutoff")
    cv = (cv.merge(val_part[["unique_id", "ds", "y"]], on=["unique_id", "ds"])
          .merge(cutoff, left_on="unique_id", right_index=True).assign(window=0))
    scored = _rescored(cv, fit_part, val_part, info.horizon, info.season_length, {})
    return scored.metrics, int(val_part["unique_id"].nunique())


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0], [RECOMMENDED], None)
    p.add_argument("--fast", action="store_true", help="single networks of 2 epochs (a check)")
    args = p.parse_args(argv)
    sets = args.sets.split(",") if args.sets else SETS
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        raise SystemExit(f"unknown set(s) {unknown}; choose from {', '.join(SETS)}")
    # A --fast choice says nothing about the real networks: kept apart from the study's.
    out = args.out or (SELECTION.with_name(SELECTION.name + "-fast") if args.fast else SELECTION)
    out.mkdir(parents=True, exist_ok=True)
    for name in sets:
        metrics, n = validate(name, args)
        method = choose(metrics)
        metrics.to_csv(out / f"{name}.csv", float_format="%.6g")
        cols = ["coverage_95", "acd_95", "msis_95", "pinball", "smape", "owa"]
        print(f"\n== {name} ({n} series): chose {method}\n{metrics[cols].to_string()}")
        (out / f"{name}.json").write_text(json.dumps({
            "method": method, "series": n, "command": command_line(), "fast": args.fast,
            "scores": metrics[cols].to_dict(orient="index"),
        }, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
