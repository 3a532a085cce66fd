"""Trend x seasonality x noise study: which model wins where, on synthetic panels.

Each cell of the grid is a seeded panel from forecastkit.datasets.make_trend_seasonal (a trend
kind, a seasonal strength, a noise level); every model is fitted on all but the last HORIZON
points of each series and scored on those. The question of the product card: where does a
recurrent network (SimpleRNN, LSTM, GRU, stacked, bidirectional) beat the classical baselines?

Run from the repository root::

    python experiments/trend_seasonality.py
    python experiments/trend_seasonality.py --sample 10 --models naive2,theta   # quick look

Writes experiments/results/trend_seasonality/report.md (+ owa_heatmap.png, cells.csv).
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, command_line, header, parser, reset, rnn_available  # noqa: E402

# ----------------------------------------------------------------------------- config
N_SERIES = 60  # per cell (--sample overrides)
LENGTH = (96, 160)  # each series draws its length from this range
SEASON_LENGTH = 12
HORIZON = 12
TRENDS = ["none", "linear", "damped"]
SEASONAL_STRENGTH = [0.0, 1.5]  # in units of level / 10
NOISE = [0.2, 1.0]  # standard deviation, in units of level / 10
MULTIPLICATIVE = False
BASELINES = ["naive2", "snaive", "theta", "comb"]  # ETS: add with --models (slow)
RNN_MODELS = ["rnn", "lstm", "gru", "lstm-stacked", "bilstm"]
# "lstm" is RNNForecaster's defaults (a 3-member ensemble); the variants are single networks.
# The committed results were made with the schedule the defaults had then (10 epochs of batch
# 256); RNNForecaster now trains small data (these cells have ~6,000 windows each) for 20
# epochs of batch 64, which would take this grid about 4x as long. The old schedule is pinned
# so the committed report reproduces; drop PINNED_SCHEDULE to study the new defaults.
PINNED_SCHEDULE = {"epochs": 10, "batch_size": 256}
RNN_PARAMS: dict[str, dict] = {
    "lstm": dict(PINNED_SCHEDULE),
    **{name: {"n_models": 1, **PINNED_SCHEDULE}
       for name in ["rnn", "gru", "lstm-stacked", "bilstm"]},
}
OUT = RESULTS / "trend_seasonality"
# ----------------------------------------------------------------------------- end of config


def cells():
    """(name, make_trend_seasonal keyword arguments) for every cell of the grid."""
    for i, (trend, seas, noise) in enumerate(itertools.product(TRENDS, SEASONAL_STRENGTH, NOISE)):
        name = f"trend={trend} season={seas:g} noise={noise:g}"
        yield i, name, dict(trend=trend, seasonal_strength=seas, noise=noise)


def main(argv=None) -> int:
    import pandas as pd

    from forecastkit.datasets import make_trend_seasonal
    from forecastkit.evaluation.compare import compare
    from forecastkit.evaluation.registry import MODELS, make_models, parse_names
    from forecastkit.evaluation.report import markdown_table, write_report

    args = parser(__doc__.splitlines()[0], BASELINES + RNN_MODELS, N_SERIES).parse_args(argv)
    names = parse_names(args.models)
    if not rnn_available():
        names = [n for n in names if MODELS[n].kind != "rnn"]
        print(f"RNNForecaster is not importable here: running {names} only")
    n_series = args.sample or N_SERIES
    out_root = args.out or OUT
    command = command_line()
    owa, smape, seconds = {}, {}, {}
    for i, name, kwargs in cells():
        df = make_trend_seasonal(n_series=n_series, length=LENGTH, season_length=SEASON_LENGTH,
                                 multiplicative=MULTIPLICATIVE, seed=args.seed + i, **kwargs)
        test = df.groupby("unique_id", sort=False).tail(HORIZON)
        train = df.drop(test.index)
        out = out_root / "cells" / f"cell{i:02d}"
        if args.fresh:
            reset(out)
        models = make_models(names, horizon=HORIZON, season_length=SEASON_LENGTH,
                             seed=args.seed, params=RNN_PARAMS)
        print(f"\n== {name}")
        res = compare(models, train, test, horizon=HORIZON, season_length=SEASON_LENGTH,
                      out_dir=out, seed=args.seed, n_jobs=args.n_jobs,
                      progress=not args.no_progress)
        write_report(res, out, command=command, n_plot_series=0,
                     title=f"Trend x seasonality: {name}")
        owa[name] = res.metrics["owa"]
        smape[name] = res.metrics["smape"]
        seconds[name] = res.metrics["seconds"]

    table = pd.DataFrame(owa).T[names if "naive2" in names else [*names, "naive2"]]
    table.index.name = "cell"
    rnn = [n for n in table.columns if MODELS[n].kind == "rnn"]
    base = [n for n in table.columns if MODELS[n].kind != "rnn"]
    table["winner"] = table[names].idxmin(axis=1)
    if rnn and base:
        table["best RNN / best baseline"] = table[rnn].min(axis=1) / table[base].min(axis=1)
    out_root.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_root / "cells.csv", float_format="%.4f")
    pd.DataFrame(smape).T.to_csv(out_root / "cells_smape.csv", float_format="%.4f")
    overall = pd.DataFrame({
        "mean OWA": table[names].mean(),
        "mean rank": table[names].rank(axis=1).mean(),
        "cells won": table["winner"].value_counts().reindex(names, fill_value=0),
        "seconds": pd.DataFrame(seconds).T[names].sum(),
    }).sort_values("mean OWA")
    heatmap(table[names], out_root / "owa_heatmap.png")

    lines = header("Trend x seasonality x noise: which model wins where", command)
    lines += [
        f"- Grid: trend {TRENDS} x seasonal strength {SEASONAL_STRENGTH} x noise {NOISE}; "
        f"{n_series} series per cell, lengths {LENGTH}, season {SEASON_LENGTH}, horizon "
        f"{HORIZON}, {'multiplicative' if MULTIPLICATIVE else 'additive'}; "
        f"panel seed = {args.seed} + cell number.",
        "- Metric: OWA against Naive2 (below 1 beats Naive2), on the last horizon of each series.",
        "",
        "## Overall",
        "",
        markdown_table(overall.rename_axis("model").reset_index()),
        "",
        "## OWA per cell",
        "",
        markdown_table(table.reset_index()),
        "",
        "![OWA per cell and model](owa_heatmap.png)",
        "",
        "Per-cell reports with sMAPE, MASE and run times: `cells/cellNN/report.md` "
        "(the cell number is the row number above, from 0).",
        "",
    ]
    (out_root / "report.md").write_text("\n".join(lines))
    print(markdown_table(overall.rename_axis("model").reset_index()))
    print(f"\nReport: {out_root / 'report.md'}")
    return 0


def heatmap(table, path) -> None:
    """OWA per cell (rows) and model (columns), annotated; greener is better."""
    import numpy as np
    from matplotlib.figure import Figure

    values = table.to_numpy(dtype=float)
    fig = Figure(figsize=(1.1 * values.shape[1] + 4, 0.45 * values.shape[0] + 1.8),
                 layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(values, cmap="RdYlGn_r", aspect="auto", vmin=np.nanmin(values),
                   vmax=min(np.nanmax(values), 2))
    ax.set_xticks(range(values.shape[1]), table.columns, rotation=30, ha="right")
    ax.set_yticks(range(values.shape[0]), table.index)
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_xlabel("model")
    ax.set_ylabel("data cell")
    ax.set_title("OWA against Naive2 (lower is better)")
    fig.colorbar(im, ax=ax, label="OWA")
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
