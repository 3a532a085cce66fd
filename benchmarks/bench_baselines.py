"""Wall time and accuracy of every classical baseline on M3 Monthly (1,428 series, h = 18).

For each baseline: fit + predict time on all series with ``n_jobs`` processes, and sMAPE, MASE
and OWA on the official test set beside the published figures (README_competition.md). ETS and
ARIMA are slow in statsmodels, so by default they run on a seeded random sample of series (their
time is also given scaled to 1,428 series, and Naive2/Theta are scored on the same sample so the
accuracy columns compare like with like).

Usage::

    python benchmarks/bench_baselines.py --n-jobs 2 --slow-sample 150
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

import forecastkit as fk
from forecastkit.exceptions import ForecastkitWarning
from forecastkit.forecasters.baselines import BASELINES
from forecastkit.metrics import evaluate, summarize

PUBLISHED_SMAPE = {"naive2": 16.91, "theta": 13.85}  # M3 Monthly, N-BEATS paper Table 14
SLOW = ("ets", "arima")


def run(name: str, train, test, info, n_jobs: int) -> dict:
    cls = BASELINES[name]
    kwargs = {"season_length": info.season_length, "horizon": info.horizon}
    if "n_jobs" in cls().get_params():
        kwargs["n_jobs"] = n_jobs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ForecastkitWarning)
        start = time.perf_counter()
        model = cls(**kwargs).fit(train)
        pred = model.predict()
        seconds = time.perf_counter() - start
    per = evaluate(pred, test, train, info.season_length, metrics=("smape", "mase"))
    return {"seconds": seconds, "per_series": per, "fallbacks": len(model.fallback_ids_),
            "warnings": sum(issubclass(w.category, ForecastkitWarning) for w in caught)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--slow-sample", type=int, default=150,
                        help="series for ETS and ARIMA (0: all 1,428)")
    parser.add_argument("--models", default=",".join(BASELINES))
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args(argv)

    train, test, info = fk.datasets.load_m3("monthly")
    ids = train["unique_id"].unique()
    sample = ids
    if args.slow_sample:
        rng = np.random.default_rng(2026)
        sample = np.sort(rng.choice(ids, size=min(args.slow_sample, len(ids)), replace=False))
    tr_s, te_s = train[train.unique_id.isin(sample)], test[test.unique_id.isin(sample)]

    names = args.models.split(",")
    fast = ["naive2"] + [n for n in names if n not in SLOW and n != "naive2"]
    full = {n: run(n, train, test, info, args.n_jobs) for n in fast}
    slow = {n: run(n, tr_s, te_s, info, args.n_jobs) for n in names if n in SLOW}
    if slow:
        for n in ("naive2", "theta"):
            slow.setdefault(f"{n} (sample)", run(n, tr_s, te_s, info, args.n_jobs))

    rows = []
    for group, results in (("all", full), ("sample", slow)):
        base = results.get("naive2") or results.get("naive2 (sample)")
        for name, r in results.items():
            per = r["per_series"]
            s = summarize(per, naive2=base["per_series"])
            n = len(per)
            rows.append({
                "model": name, "series": n, "seconds": r["seconds"],
                "seconds_1428": r["seconds"] * len(ids) / n,
                "smape": s["smape"], "mase": s["mase"], "owa": s["owa"],
                "published_smape": PUBLISHED_SMAPE.get(name.split(" ")[0]) if group == "all"
                else None,
                "fallbacks": r["fallbacks"],
            })
    print(f"M3 Monthly, h=18, n_jobs={args.n_jobs}\n")
    print("| model | series | fit+predict s | s per 1,428 series | sMAPE | MASE | OWA "
          "| published sMAPE | fallbacks |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        pub = f"{r['published_smape']:.2f}" if r["published_smape"] else ""
        print(f"| {r['model']} | {r['series']} | {r['seconds']:.1f} | {r['seconds_1428']:.1f} | "
              f"{r['smape']:.2f} | {r['mase']:.3f} | {r['owa']:.3f} | {pub} | {r['fallbacks']} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
