"""Spread over seeds of the chosen configuration on M3 (issue 7's protocol).

Reads the per-set ``metrics.csv`` of the main M3 run (seed 0, experiments/results/m3/) and of
the reruns with seeds 1 and 2 (experiments/results/m3-seeds/), made with::

    python experiments/m3.py --seed 1 --models naive2,theta,comb,lstm \\
        --sets m3-yearly,m3-quarterly,m3-other --out experiments/results/m3-seeds/seed1
    python experiments/m3.py --seed 1 --models naive2,theta,comb,lstm --sets m3-monthly \\
        --out experiments/results/m3-seeds/seed1-monthly          # and the same with --seed 2

and writes experiments/results/m3/seeds.md: sMAPE of ``lstm`` (RNNForecaster's defaults), its
means with Theta and with Comb and ``selected`` (per set, whichever of the LSTM alone and its
two means won on validation) per seed, with mean and standard deviation.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
SETS = ["m3-yearly", "m3-quarterly", "m3-monthly", "m3-other"]
MODELS = ["lstm", "lstm+theta", "lstm+comb", "selected", "theta", "comb"]


def _metrics(seed: int, name: str) -> pd.DataFrame | None:
    if seed == 0:
        candidates = [RESULTS / "m3" / name / "metrics.csv"]
    else:
        root = RESULTS / "m3-seeds"
        candidates = [root / f"seed{seed}" / name / "metrics.csv",
                      root / f"seed{seed}-monthly" / name / "metrics.csv"]
    for path in candidates:
        if path.exists():
            return pd.read_csv(path, index_col="model")
    return None


def main() -> int:
    from forecastkit.evaluation.report import markdown_table

    rows = []
    for seed in (0, 1, 2):
        for name in SETS:
            m = _metrics(seed, name)
            if m is None:
                continue
            for model in MODELS:
                if model in m.index:
                    rows.append({"seed": seed, "set": name, "model": model,
                                 "smape": float(m.loc[model, "smape"])})
    df = pd.DataFrame(rows)
    table = df.pivot_table(index=["set", "model"], columns="seed", values="smape")
    table.columns = [f"seed {c}" for c in table.columns]
    table["mean"] = table.mean(axis=1)
    table["std"] = table.iloc[:, :-1].std(axis=1, ddof=1)
    table["seeds"] = df.groupby(["set", "model"])["seed"].nunique()
    lines = ["# M3: spread of the chosen configuration over seeds (sMAPE, official test set)", "",
             "Theta is deterministic (same value for every seed). Written by "
             "`python experiments/seed_spread.py`.", "",
             markdown_table(table.reset_index()), ""]
    out = RESULTS / "m3" / "seeds.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
