"""How far a gappy window's statistics fall from the complete window's, without training.

Run from the repository root::

    python experiments/gap_statistics.py                     # M4 Hourly, 10 % random and blocks
    python experiments/gap_statistics.py --set m3-monthly --rates 0.2
    python experiments/gap_statistics.py --long-gap 0.25,0.5,1   # the long-gap threshold

For each series of the set, the last ``--window`` training values are put through
:class:`~forecastkit.data.normalization.WindowNormalizer` (log space, deseasonalised) several ways
after the knock-out of ``experiments/missing_data.py``: gaps skipped, gaps filled in the
layer (``interpolate_gaps=True``, what a network fitted on gappy data does; a gap of at least
``--long-gap`` seasons from the neighbouring cycles, a shorter one linearly), and the data
filled first by ``fk.data.fill_missing`` seasonally or linearly. Printed: the mean
absolute difference from the complete window's level and seasonal component (of the forecast
steps), over the windows that have a gap. Seconds, no network.
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
from _common import load_set  # noqa: E402
from missing_data import BLOCK, knock_out  # noqa: E402

import forecastkit as fk  # noqa: E402
from forecastkit.data import gap_filling  # noqa: E402
from forecastkit.data.frames import to_panel  # noqa: E402
from forecastkit.data.normalization import WindowNormalizer  # noqa: E402


def windows(df, window: int) -> tuple[np.ndarray, np.ndarray]:
    """History and mask of every series' last ``window`` steps (left padded), each of shape
    (n_series, window): what a forecast reads (:func:`forecastkit.data.last_windows`)."""
    return fk.data.last_windows(to_panel(df, allow_missing=True), window)


def statistics(history: np.ndarray, mask: np.ndarray, m: int, horizon: int, interpolate: bool):
    """Level (n_series,) and seasonal component (n_series, horizon) of each window."""
    layer = WindowNormalizer(log=True, level_window=m, season_length=m, deseasonalize=True,
                             horizon=horizon, interpolate_gaps=interpolate)
    _, level, _, seasonal = layer([history, mask])
    return np.asarray(level)[:, 0], np.asarray(seasonal)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="m4-hourly", choices=sorted(BLOCK))
    p.add_argument("--rates", default="0.1")
    p.add_argument("--patterns", default="random,blocks")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--window", type=int, help="default: six seasons")
    p.add_argument("--long-gap", default=str(gap_filling.LONG_GAP_SEASONS), metavar="F[,F...]",
                   help="in-layer rows for each value: a gap of F seasons or longer is filled "
                        "from the neighbouring cycles (default: the library's, %(default)s)")
    args = p.parse_args(argv)
    default_long_gap = gap_filling.LONG_GAP_SEASONS
    try:
        long_gaps = [float(f) for f in args.long_gap.split(",")]
    except ValueError:
        p.error(f"--long-gap takes numbers of seasons separated by commas, got {args.long_gap!r}")
    if not all(0 < f < float("inf") for f in long_gaps):
        p.error(f"--long-gap: every value must be a positive number of seasons, got "
                f"{args.long_gap!r}")
    train, _, info = load_set(args.set, None, args.seed)
    m, horizon = info.season_length, info.horizon
    window = args.window or 6 * m
    ref_level, ref_seasonal = statistics(*windows(train, window), m, horizon, False)
    for pattern in args.patterns.split(","):
        for rate in [float(r) for r in args.rates.split(",")]:
            gapped = knock_out(train, rate, pattern, BLOCK[args.set], args.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fills' one summary warning
                filled = {how: windows(fill[0], window) for how, fill in (
                    ("seasonal", fk.data.fill_missing(gapped, "seasonal", season_length=m)),
                    ("linear", fk.data.fill_missing(gapped, "linear")))}
            gapped_windows = windows(gapped, window)
            mask = gapped_windows[1]
            # a gap: a masked step after the first observed one (not left padding)
            rows = ((mask == 0) & (np.cumsum(mask, axis=1) > 0)).any(axis=1)
            print(f"{args.set} {pattern} {rate:.0%}: {rows.sum()} of {len(mask)} windows have "
                  "a gap")
            ways = [("gaps skipped", gapped_windows, False, None)]
            ways += [(f"in the layer, long >= {f:g} m", gapped_windows, True, f)
                     for f in long_gaps]
            ways += [("filled seasonally first", filled["seasonal"], False, None),
                     ("filled linearly first", filled["linear"], False, None)]
            for name, x, interpolate, long_gap in ways:
                gap_filling.LONG_GAP_SEASONS = long_gap or default_long_gap
                level, seasonal = statistics(*x, m, horizon, interpolate)
                print(f"  {name:30s} level {np.abs(level - ref_level)[rows].mean():.4f}  "
                      f"seasonal {np.abs(seasonal - ref_seasonal)[rows].mean():.4f}")
            gap_filling.LONG_GAP_SEASONS = default_long_gap
    return 0


if __name__ == "__main__":
    sys.exit(main())
