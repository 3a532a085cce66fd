"""Choose RNNForecaster's configuration on validation windows cut from the training data.

For every series, the last ``horizon`` points of the *training* part are held out; each candidate
configuration is fitted on what is left and scored (sMAPE, MASE) on those points. The official
test set is never touched here. Results go to experiments/results/selection/<dataset>.csv.
``--window 2`` scores on the horizon before that one instead (fitted on what precedes it): one
validation window can mislead (M3 Yearly's last two disagree on the training length), so the
defaults are chosen on the mean of windows 1 and 2.

    python experiments/select_rnn.py --dataset m3-monthly --configs base,lb2h,ens3
    python experiments/select_rnn.py --dataset m3-yearly --configs base,v1-defaults --window 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import forecastkit as fk

# Candidate configurations: name -> RNNForecaster parameters (horizon/season_length added).
# Each is "the defaults plus these"; the configs named after a training schedule pin the batch
# size of 256 they ran with before the defaults' schedule became size-dependent (fourth round).
CONFIGS: dict[str, dict] = {
    "base": {},  # the defaults of the code that ran (the CSV's epochs/batch_size say which)
    "v1-defaults": {"epochs": 10, "batch_size": 256},  # the defaults before the fourth round
    "gru": {"cell": "gru"},
    "rnn": {"cell": "rnn"},
    "stacked": {"units": (64, 64)},
    "bilstm": {"bidirectional": True},
    "lb-short": {"lookback": "1.5h"},
    "lb-long": {"lookback": "3h"},
    "mse": {"loss": "mse"},
    "level": {"scaler": "level"},
    "recursive": {"strategy": "recursive"},
    "seq2seq": {"strategy": "seq2seq"},
    "ens3": {"n_models": 3},
    "ens5-lb": {"n_models": 5, "lookback": ("1.5h", "2h", "3h")},
    "ens3-lb": {"n_models": 3, "lookback": ("1.5h", "2h", "3h")},
    "u32": {"units": (32,)},
    "u128": {"units": (128,)},
    "lr3e-3": {"learning_rate": 3e-3, "epochs": 10, "batch_size": 256},
    "bs64": {"batch_size": 64},
    "es": {"early_stopping": True, "epochs": 30, "batch_size": 256},
    "ep15": {"epochs": 15, "batch_size": 256},
    "ep6": {"epochs": 6, "batch_size": 256},
    "lw1": {"level_window": 1},
    "nodeseas": {"deseasonalize": False},
    "u32-ens5": {"units": (32,), "n_models": 5},
    "sw12": {"seasonal_window": "12m"},
    "ep30": {"epochs": 30, "batch_size": 256},
    "bs64-ep20": {"batch_size": 64, "epochs": 20},
    "ens9": {"n_models": 9},
    "bs32": {"batch_size": 32},
    "ep-auto": {"epochs": "probe", "batch_size": 256},  # epochs="auto" before the 4th round
    "lb-x1.5": {"lookback": ("3h", "2.25h", "4.5h")},
    "lb-x2": {"lookback": ("4h", "3h", "6h")},
    "single": {"n_models": 1},
    "single-lb52": {"n_models": 1, "lookback": 52},
    "ens3-lb52": {"lookback": (52, 39, 78)},
    "single-lb104": {"n_models": 1, "lookback": 104},
    # The same, trained on one fixed seeded subset of 100,000 windows every epoch (the training
    # schedule before windows_per_epoch drew a fresh subset each epoch): issue 15's M4 check.
    "single-lb104-fixed": {"n_models": 1, "lookback": 104, "max_windows": 100_000,
                           "windows_per_epoch": None},
    "single-lb168": {"n_models": 1, "lookback": 168},
    "single-lb336": {"n_models": 1, "lookback": 336},
    "ep-auto-bs64": {"epochs": "probe", "batch_size": 64},
    "bs32-ep20": {"batch_size": 32, "epochs": 20},
    "bs64-ep40": {"batch_size": 64, "epochs": 40},
    "drop10-ep30": {"dropout": 0.1, "epochs": 30, "batch_size": 256},
    # Issue 19's cost question: the members trained side by side in one graph, with the
    # defaults' schedule, half of it (small sets: 10 epochs of 64; Monthly: 5 of 256), or
    # half the units.
    "joint": {"ensemble_training": "joint"},
    "joint-ep10": {"ensemble_training": "joint", "epochs": 10, "batch_size": 64},
    "joint-ep5": {"ensemble_training": "joint", "epochs": 5, "batch_size": 256},
    "joint-u32": {"ensemble_training": "joint", "units": (32,)},
    # Half the schedule (10 epochs of 64, 5 of 256) with a larger step (Adam's learning rate
    # 2e-3 or 3e-3 for 1e-3): the same steps taken further, the same cost; and 0.8 of it
    # (8 of 64, 4 of 256) at 3e-3, for a margin under 300 s on a slow day.
    **{f"joint-ep{epochs}-lr{k}": {"ensemble_training": "joint", "epochs": epochs,
                                   "batch_size": batch, "learning_rate": k * 1e-3}
       for epochs, batch, rates in [(10, 64, (2, 3)), (5, 256, (2, 3)), (8, 64, (3,)),
                                    (4, 256, (3,))]
       for k in rates},
}
OUT = Path(__file__).parent / "results" / "selection"


def resolve(params: dict, horizon: int, season: int) -> dict:
    """Lookbacks written as multiples of the horizon ("2h") become integers."""
    def lb(v):
        if isinstance(v, str) and v.endswith("h"):
            return max(int(round(float(v[:-1]) * horizon)), 2)
        return v

    out = dict(params)
    if isinstance(out.get("seasonal_window"), str):
        out["seasonal_window"] = int(out["seasonal_window"][:-1]) * season
    if "lookback" in out:
        v = out["lookback"]
        out["lookback"] = tuple(lb(x) for x in v) if isinstance(v, tuple) else lb(v)
    return out


def validation_split(train: pd.DataFrame, horizon: int, window: int = 1):
    """``(fit part, validation part)``: window 1 is the last ``horizon`` points of every series,
    window 2 the ``horizon`` before them (the fit part then ends before window 2), and so on."""
    last = train.groupby("unique_id")["ds"].transform("max")
    end = last - (window - 1) * horizon
    fit_part = train[train["ds"] <= end - horizon]
    val_part = train[(train["ds"] > end - horizon) & (train["ds"] <= end)]
    # A series with nothing before the window cannot be fitted, so it is left out of the
    # scores too, and said so (e.g. 52 M3 Quarterly series of 16 points in window 2).
    short = sorted(set(val_part["unique_id"]) - set(fit_part["unique_id"]))
    if short:
        print(f"window {window}: {len(short)} series have no history before it and are left "
              f"out (e.g. {', '.join(map(str, short[:3]))})", file=sys.stderr)
        val_part = val_part[~val_part["unique_id"].isin(short)]
    return fit_part, val_part


def _mase(y, f, insample, m) -> float:
    """MASE, or NaN (left out of the mean) where the training part has no scale: one point, or
    constant."""
    if len(insample) < 2 or fk.metrics.mase_scale(insample, m) == 0:
        return np.nan
    return fk.metrics.mase(y, f, insample, m)


def score(pred: pd.DataFrame, actual: pd.DataFrame, insample: pd.DataFrame, m: int) -> dict:
    merged = actual.merge(pred, on=["unique_id", "ds"])
    ins = {k: g["y"].to_numpy() for k, g in insample.groupby("unique_id")}
    s, q = [], []
    for uid, g in merged.groupby("unique_id"):
        y, f = g["y"].to_numpy(), g["y_pred"].to_numpy()
        s.append(fk.metrics.smape(y, f))
        q.append(_mase(y, f, ins[uid], m))
    return {"smape": float(np.mean(s)), "mase": float(np.nanmean(q)), "series": len(s)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="m3-monthly")
    ap.add_argument("--configs", default="base")
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window", type=int, default=1,
                    help="validation window: 1 = the last horizon of each training series, "
                         "2 = the horizon before it, ...")
    ap.add_argument("--set", default="{}", help="JSON of parameters applied to every config")
    ap.add_argument("--with-theta", action="store_true",
                    help="score each config combined (mean) with Theta as well")
    ap.add_argument("--combine", default="",
                    help="comma-separated baselines (e.g. theta,comb): score each config's mean "
                         "with each of them as well")
    args = ap.parse_args(argv)
    configs = args.configs.split(",")
    partners = [b for b in args.combine.split(",") if b]
    if args.with_theta and "theta" not in partners:
        partners.insert(0, "theta")
    # Name a typo before minutes of training, not as a KeyError after them.
    if args.window < 1:
        ap.error(f"--window must be 1 or more, got {args.window}")
    for what, names, known in [("config", configs, CONFIGS),
                               ("--combine baseline", partners, fk.baselines.BASELINES)]:
        unknown = [n for n in names if n not in known]
        if unknown:
            ap.error(f"unknown {what}(s) {unknown}; choose from {', '.join(known)}")
    train, _test, info = fk.datasets.load_dataset(args.dataset)
    if args.sample:
        rng = np.random.default_rng(0)
        ids = rng.choice(train["unique_id"].unique(), args.sample, replace=False)
        train = train[train["unique_id"].isin(ids)]
    fit_part, val_part = validation_split(train, info.horizon, args.window)
    # The classical partners are deterministic: fit them once, not once per config.
    partner_preds = {
        b: fk.baselines.BASELINES[b](season_length=info.season_length, horizon=info.horizon)
        .fit(fit_part).predict()
        for b in partners
    }
    common = json.loads(args.set)
    OUT.mkdir(parents=True, exist_ok=True)
    out_file = OUT / f"{args.dataset}.csv"
    rows = []
    for name in configs:
        params = {**resolve(CONFIGS[name], info.horizon, info.season_length), **common}
        f = fk.RNNForecaster(horizon=info.horizon, season_length=info.season_length,
                             random_state=args.seed, **params)
        t0 = time.perf_counter()
        f.fit(fit_part)
        pred = f.predict()
        secs = time.perf_counter() - t0
        epochs = str([len(h["loss"]) for h in f.history_])
        if getattr(f, "probe_history_", None):
            epochs += f" probe {len(f.probe_history_['loss'])}"
        scored = [(name, score(pred, val_part, fit_part, info.season_length))]
        for partner, other in partner_preds.items():
            both = pred.merge(other, on=["unique_id", "ds"])
            both["y_pred"] = (both["y_pred_x"] + both["y_pred_y"]) / 2
            scored.append((f"{name}+{partner}",
                           score(both, val_part, fit_part, info.season_length)))
        for label, res in scored:
            row = {"dataset": args.dataset, "config": label,
                   "params": json.dumps(params, default=str), **res, "seconds": round(secs, 1),
                   "epochs": epochs, "seed": args.seed, "sample": args.sample or "all",
                   "window": args.window, "batch_size": f.batch_size_}
            rows.append(row)
            print(json.dumps(row), flush=True)
            pd.DataFrame([row]).to_csv(out_file, mode="a", header=not out_file.exists(),
                                       index=False)
    return rows


if __name__ == "__main__":
    main()
