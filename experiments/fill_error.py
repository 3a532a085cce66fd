"""How close each fill of ``fk.data.fill_missing`` comes to the values it replaces: no model.

Run from the repository root::

    python experiments/fill_error.py                        # M3 Monthly and M4 Hourly
    python experiments/fill_error.py --sets m4-hourly --rates 0.1

The training values of every series are knocked out as ``experiments/missing_data.py`` does
(5/10/20 %, at random or in blocks of a quarter or a day, seeded), filled, and each filled value
is compared with the value that was knocked out. Only training data is read, so the choice of
the fill that ``missing="interpolate"`` uses is made without the test set. The error is scaled
per series by the mean absolute seasonal difference of its complete training data (MASE's
scale) and averaged over the filled values of each series, then over the series with a gap.

Fills: ``linear``; ``seasonal`` (the same season position of the neighbouring cycles);
``split`` (seasonal for a run of at least half a season, linear for a shorter one: the
networks' split, with the short runs' line drawn through the values); ``around`` (the same
split, with the short runs' line drawn after taking out the season, then the season put back);
``auto`` (the library's: ``around`` for a series that passes M4's seasonality test, ``linear``
for the others). About a minute, no network.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import load_set  # noqa: E402
from missing_data import BLOCK, knock_out  # noqa: E402

import forecastkit as fk  # noqa: E402
from forecastkit.data import fill_methods  # noqa: E402
from forecastkit.data.gap_rule import LONG_GAP_SEASONS  # noqa: E402

FILLS = ("linear", "seasonal", "split", "around", "auto")


def run_lengths(missing: pd.Series, ids: pd.Series) -> np.ndarray:
    """Length of the run of missing values each row is in, within its series (0 where
    observed)."""
    starts = missing & ~(missing.groupby(ids).shift(1, fill_value=False))
    run = starts.cumsum().where(missing)
    return run.map(run.value_counts()).fillna(0).to_numpy(dtype=int)


def filled(gapped: pd.DataFrame, how: str, m: int) -> pd.Series:
    """``gapped``'s target with every NaN filled by ``how``, indexed by ``(unique_id, ds)``
    (a series' leading NaN are trimmed by the fill, so those rows are absent)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fill's one summary warning
        if how in ("split", "around"):
            linear, seasonal = filled(gapped, "linear", m), filled(gapped, "seasonal", m)
            runs = pd.Series(run_lengths(gapped["y"].isna(), gapped["unique_id"]),
                             index=pd.MultiIndex.from_frame(gapped[["unique_id", "ds"]]))
            long_run = runs.reindex(linear.index).to_numpy() >= LONG_GAP_SEASONS * m
            if how == "split":
                return linear.where(~long_run, seasonal)
            observed = gapped.set_index(["unique_id", "ds"])["y"].reindex(linear.index)
            short = linear.copy()
            for sid in linear.index.unique("unique_id"):  # the line around the season
                y, s, lin = (a.loc[sid].to_numpy() for a in (observed, seasonal, linear))
                short.loc[sid] = fill_methods._line_around_the_season(y, s, lin, m)
            return short.where(~long_run, seasonal)
        out, _ = fk.data.fill_missing(gapped, how, season_length=m)
    return out.set_index(["unique_id", "ds"])["y"]


def scales(train: pd.DataFrame, m: int) -> pd.Series:
    """Mean absolute seasonal difference of each complete training series."""
    return train.groupby("unique_id", sort=False)["y"].agg(
        lambda y: np.mean(np.abs(y.to_numpy()[m:] - y.to_numpy()[:-m])))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", default=",".join(BLOCK))
    p.add_argument("--rates", default="0.05,0.1,0.2")
    p.add_argument("--patterns", default="random,blocks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sample", type=int, help="this many series of each set (seeded)")
    args = p.parse_args(argv)
    print("| set | pattern | rate | " + " | ".join(FILLS) + " |")
    print("| --- | --- | ---: | " + " | ".join("---:" for _ in FILLS) + " |")
    for name in args.sets.split(","):
        if name not in BLOCK:
            p.error(f"unknown set {name!r}; choose from {', '.join(BLOCK)}")
        train, _, info = load_set(name, args.sample, args.seed)
        m = info.season_length
        scale = scales(train, m)
        truth = train.set_index(["unique_id", "ds"])["y"]
        for pattern in args.patterns.split(","):
            for rate in [float(r) for r in args.rates.split(",")]:
                gapped = knock_out(train, rate, pattern, BLOCK[name], args.seed)
                lost = gapped.loc[gapped["y"].isna(), ["unique_id", "ds"]]
                errors = []
                for how in FILLS:
                    fill = filled(gapped, how, m)
                    at = pd.MultiIndex.from_frame(lost).intersection(fill.index)
                    ids = at.get_level_values("unique_id")
                    err = np.abs(fill.loc[at].to_numpy() - truth.loc[at].to_numpy())
                    per_series = pd.Series(err / scale.loc[ids].to_numpy()).groupby(
                        ids.to_numpy()).mean()
                    errors.append(per_series.mean())
                best = int(np.argmin(errors))
                cells = [f"**{e:.4f}**" if i == best else f"{e:.4f}"
                         for i, e in enumerate(errors)]
                print(f"| {name} | {pattern} | {rate:.0%} | " + " | ".join(cells) + " |",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
