"""Weigh M3 validation scores over the four sets, as the M3 average weighs its test scores.

Reads ``experiments/results/selection/m3-*.csv`` (written by ``select_rnn.py``) and, for each
named candidate, takes on every set the row of its network combined with that set's
``selected`` partner (``m3.SELECTED``: Theta, or Comb on Other), averages the sMAPE over the
chosen seeds and windows, and weights the sets by their number of series (645, 756, 1,428 and
174 of the 3,003). A candidate names one config for the sets below 50,000 training windows
(Yearly, Quarterly, Other) and one for Monthly, because the defaults' schedule differs there.

    python experiments/weigh_selection.py --candidates half=joint-ep10/joint-ep5,\\
        lr2=joint-ep10-lr2/joint-ep5-lr2 --seeds 0,1 --windows 1,2

A missing run is an error that names it: a mean over fewer runs than asked would not compare.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from m3 import SELECTED

from forecastkit.evaluation.report import markdown_table

RESULTS = Path(__file__).parent / "results" / "selection"
SERIES = {"m3-yearly": 645, "m3-quarterly": 756, "m3-monthly": 1428, "m3-other": 174}


def set_score(rows: pd.DataFrame, dataset: str, config: str, seeds: list[int],
              windows: list[int]) -> float:
    """Mean sMAPE of ``config`` with ``dataset``'s partner over every (seed, window) asked."""
    label = f"{config}+{SELECTED[dataset][1]}"
    picked = rows[rows["config"] == label]
    # Identical reruns of one (seed, window) are counted once.
    per_run = picked.groupby(["seed", "window"])["smape"].mean()
    wanted = pd.MultiIndex.from_product([seeds, windows], names=["seed", "window"])
    missing = [f"seed {s} window {w}" for s, w in wanted if (s, w) not in per_run.index]
    if missing:
        raise SystemExit(f"{dataset}: no {label} row for {', '.join(missing)}")
    return float(per_run.loc[wanted].mean())


def weigh(candidates: dict[str, tuple[str, str]], seeds: list[int],
          windows: list[int]) -> pd.DataFrame:
    """One row per candidate: each set's mean sMAPE and the series-weighted mean over sets."""
    out = []
    for name, (small, large) in candidates.items():
        row = {"candidate": name}
        for dataset in SERIES:
            rows = pd.read_csv(RESULTS / f"{dataset}.csv")
            config = large if dataset == "m3-monthly" else small
            row[dataset] = set_score(rows, dataset, config, seeds, windows)
        row["weighted"] = sum(row[d] * n for d, n in SERIES.items()) / sum(SERIES.values())
        out.append(row)
    return pd.DataFrame(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", required=True,
                    help="name=small-sets-config/monthly-config, comma-separated")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--windows", default="1,2")
    args = ap.parse_args(argv)
    candidates = {}
    for item in args.candidates.split(","):
        name, _, configs = item.partition("=")
        small, _, large = configs.partition("/")
        if not (name and small and large):
            ap.error(f"--candidates: {item!r} is not name=small-config/monthly-config")
        candidates[name] = (small, large)
    table = weigh(candidates, [int(s) for s in args.seeds.split(",")],
                  [int(w) for w in args.windows.split(",")])
    print(markdown_table(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
