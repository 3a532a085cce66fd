"""Missing-data robustness: training values knocked out, filled and forecast; OWA vs complete.

Run from the repository root::

    python experiments/missing_data.py                 # M3 Monthly and M4 Hourly, minutes
    python experiments/missing_data.py --models theta,snaive --sets m3-monthly

For each set, 5 %, 10 % and 20 % of every series' training values are knocked out (seeded),
either at random or in blocks (a quarter of monthly data, a day of hourly data at a time),
filled by :func:`forecastkit.data.fill_missing` (``linear``, ``seasonal`` and ``auto``: seasonal
for a run of half a season or more, linear for a shorter one), or, for a model
with a ``missing`` parameter (the networks), also given as they are with ``missing="mask"``;
each model is fitted and scored on the official test split. MASE is scaled by the complete
training data and OWA is against Naive2 on the complete data, so a change is the model's alone.
The report gives OWA and its ratio to the complete data's. ``--append`` adds a run's rows to the
stored ``metrics.csv`` (replacing those of the same set and model); the costly network runs are
done apart, in a folder of their own, with only the methods they need (the complete data always
runs, as the reference, unless ``--complete-from`` reads it from a study that ran it)::

    python experiments/missing_data.py --models lstm --sets m3-monthly --rates 0.1 \
        --patterns random --methods mask --out experiments/results/missing_data/lstm-m3
    python experiments/missing_data.py --models lstm --sets m4-hourly --rates 0.1 \
        --patterns random --methods mask --complete-from experiments/results/m4 \
        --out experiments/results/missing_data/lstm-m4-hourly

Writes experiments/results/missing_data/.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import RESULTS, command_line, header, load_set, parser  # noqa: E402

SETS = ["m3-monthly", "m4-hourly"]
# Blocks lost at once: a quarter of monthly data, a day of hourly data.
BLOCK = {"m3-monthly": 3, "m4-hourly": 24}
RATES = (0.05, 0.10, 0.20)
PATTERNS = ("random", "blocks")
METHODS = ("linear", "seasonal", "auto", "mask")
DEFAULT_MODELS = ["theta", "snaive"]


def knock_out(train: pd.DataFrame, rate: float, pattern: str, block: int,
              seed: int) -> pd.DataFrame:
    """``train`` with ``rate`` of each series' values set to NaN: single values at random, or
    blocks of ``block`` consecutive steps at random starts (every position equally likely to
    be hit: a block may start before the series and is cut to it; the block that would pass
    ``rate`` is cut short). The last value of a series is kept, so every series still ends
    with an observation."""
    rng = np.random.default_rng(seed)
    y = train["y"].to_numpy(dtype=np.float64).copy()
    ids = train["unique_id"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        n = b - a - 1  # never the last value
        want = min(int(round(rate * (b - a))), n)
        if pattern == "random":
            hit = rng.choice(n, size=want, replace=False)
        else:
            hit = np.zeros(0, dtype=np.int64)
            while len(hit) < want:
                start = int(rng.integers(-(block - 1), n))
                new = np.setdiff1d(np.arange(max(start, 0), min(start + block, n)), hit)
                hit = np.union1d(hit, new[: want - len(hit)])
        y[a + hit] = np.nan
    return train.assign(y=y)


def score(model_name: str, filled: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame,
          info, naive2: pd.DataFrame, seed: int, mask: bool = False) -> dict:
    """sMAPE, MASE (scaled by the complete ``train``) and OWA against ``naive2``'s per-series
    metrics on the complete data."""
    from forecastkit.evaluation.registry import make_model
    from forecastkit.metrics import evaluate, summarize

    model = make_model(model_name, horizon=info.horizon, season_length=info.season_length,
                       seed=seed)
    if mask:  # the data goes in with its NaN, which the network masks
        model.set_params(missing="mask")
    t0 = time.perf_counter()
    forecast = model.fit(filled).predict(info.horizon)
    seconds = time.perf_counter() - t0
    per = evaluate(forecast, test, train, info.season_length)
    row = summarize(per, naive2).to_dict()
    return {"smape": row["smape"], "mase": row["mase"], "owa": row["owa"], "seconds": seconds}


def run_set(name: str, models: list[str], args) -> pd.DataFrame:
    from forecastkit.data import fill_missing
    from forecastkit.evaluation.registry import make_model
    from forecastkit.metrics import evaluate

    train, test, info = load_set(name, args.sample, args.seed)
    naive2 = make_model("naive2", horizon=info.horizon, season_length=info.season_length)
    naive2_per = evaluate(naive2.fit(train).predict(info.horizon), test, train,
                          info.season_length)
    rows = []
    for model in models:
        if args.complete_from:
            base = stored_complete(args.complete_from, name, model, args)
        else:
            base = score(model, train, train, test, info, naive2_per, args.seed)
        rows.append({"set": name, "model": model, "pattern": "complete", "rate": 0.0,
                     "method": "-", **base})
        print(f"{name} {model} complete OWA {base['owa']:.3f}", flush=True)
        maskable = "missing" in make_model(model, horizon=info.horizon,
                                           season_length=info.season_length).get_params()
        for pattern in args.patterns.split(","):
            for rate in [float(r) for r in args.rates.split(",")]:
                gapped = knock_out(train, rate, pattern, BLOCK[name], args.seed)
                for method in args.methods.split(","):
                    if method in ("seasonal", "auto") and info.season_length < 2:
                        continue
                    if method == "mask" and not maskable:
                        continue
                    if method == "mask":
                        filled = gapped
                    else:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")  # the fill's one summary warning
                            filled, _ = fill_missing(gapped, method,
                                                     season_length=info.season_length)
                    res = score(model, filled, train, test, info, naive2_per, args.seed,
                                mask=method == "mask")
                    rows.append({"set": name, "model": model, "pattern": pattern,
                                 "rate": rate, "method": method, **res})
                    print(f"{name} {model} {pattern} {rate:.0%} {method}: OWA "
                          f"{res['owa']:.3f}", flush=True)
    df = pd.DataFrame(rows)
    complete = df[df.pattern == "complete"].set_index("model")["owa"]
    df["owa_ratio"] = df["owa"] / df["model"].map(complete)
    return df


def stored_complete(folder: Path, name: str, model: str, args) -> dict:
    """The complete-data row of ``model`` on set ``name`` from a study's stored metrics
    (``folder/<set>/metrics.csv`` of experiments/m3.py or m4.py, the same model built the same
    way from the whole set with the same seed), instead of fitting it again."""
    if args.sample:
        raise SystemExit("--complete-from reads a whole set's metrics; it cannot go with "
                         "--sample")
    stored = pd.read_csv(Path(folder) / name / "metrics.csv").set_index("model")
    if model not in stored.index:
        raise SystemExit(f"{folder}/{name}/metrics.csv has no row for {model!r}")
    row = stored.loc[model]
    return {"smape": row["smape"], "mase": row["mase"], "owa": row["owa"],
            "seconds": row["seconds"]}


def write_report(df: pd.DataFrame, out: Path, command: str) -> Path:
    from forecastkit.evaluation.report import markdown_table

    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "metrics.csv", index=False, float_format="%.6g")
    lines = header("Missing-data robustness: knocked-out training values, filled, forecast",
                   command)
    lines += [
        "Each series loses 5/10/20 % of its training values (seeded; `random`: single "
        "values, `blocks`: a quarter of monthly data or a day of hourly data at a time), "
        "filled by `fk.data.fill_missing` (`linear`, `seasonal`, or `auto`: seasonal for a run "
        "of at least half a season, linear for a shorter one, what `missing=\"interpolate\"` "
        "does); the model is fitted on the "
        "filled data and scored on the official test split. MASE is scaled by the complete "
        "training data and OWA is against Naive2 on the complete data: `owa_ratio` is the "
        "model's OWA over its own OWA on the complete data (1.03 = 3 % worse). `mask`: the "
        "network is given the data with its NaN and masks them (`missing=\"mask\"`). Issue "
        "18's goal: at 10 % random missing, the network's OWA within 3 % of the complete "
        "data's.", ""]
    for name, part in df.groupby("set", sort=False):
        lines += [f"## {name}", ""]
        table = part.pivot_table(index=["model", "pattern", "method"], columns="rate",
                                 values="owa_ratio", sort=False)
        table.columns = [f"{c:.0%}" if c else "complete" for c in table.columns]
        lines += ["OWA relative to the complete data (owa_ratio):", "",
                  markdown_table(table.reset_index()), ""]
        lines += ["OWA:", "",
                  markdown_table(part.pivot_table(index=["model", "pattern", "method"],
                                                  columns="rate", values="owa",
                                                  sort=False).reset_index()), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0], DEFAULT_MODELS, None)
    p.add_argument("--rates", default=",".join(str(r) for r in RATES),
                   help="fractions knocked out (default: %(default)s)")
    p.add_argument("--patterns", default=",".join(PATTERNS),
                   help="random and/or blocks (default: %(default)s)")
    p.add_argument("--methods", default=",".join(METHODS),
                   help="fills and/or mask (default: %(default)s; the complete data always "
                        "runs, as the reference)")
    p.add_argument("--complete-from", type=Path, metavar="DIR",
                   help="take the complete-data rows from a study's stored results (e.g. "
                        "experiments/results/m4) instead of fitting them again; the seed must "
                        "be that study's")
    p.add_argument("--append", action="store_true",
                   help="add to the stored metrics.csv instead of replacing it")
    args = p.parse_args(argv)
    sets = SETS if not args.sets else args.sets.split(",")
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        raise SystemExit(f"unknown set(s) {unknown}; choose from {', '.join(SETS)}")
    unknown = sorted(set(args.methods.split(",")) - set(METHODS))
    if unknown:
        raise SystemExit(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    models = [m for m in args.models.split(",") if m]
    df = pd.concat([run_set(name, models, args) for name in sets], ignore_index=True)
    out = args.out or RESULTS / "missing_data"
    if args.append and (out / "metrics.csv").exists():
        stored = pd.read_csv(out / "metrics.csv")
        mine = stored.set_index(["set", "model"]).index.isin(
            df.set_index(["set", "model"]).index)
        df = pd.concat([stored[~mine], df], ignore_index=True)
    path = write_report(df, out, command_line())
    print(f"\nReport: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
