"""Peak memory of RNNForecaster.fit on 100,000 vs 1,000,000 training windows.

The training windows are streamed from the series (forecastkit.data.window_dataset), so peak
memory should follow the series data, not the number of windows. Each size runs in a fresh
process (peak RSS is per process); both panels hold the same number of values, so any growth
between them comes from the windows alone.

Run from the repository root::

    python benchmarks/bench_fit_memory.py            # both sizes, prints a table and the ratio

The forecaster code measured is whatever ``import forecastkit`` finds: point ``PYTHONPATH`` at
another checkout to measure that one with the same script.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

LOOKBACK, HORIZON = 24, 6
N_VALUES = 1_020_000  # the same series data for both sizes


def panel(n_windows: int) -> pd.DataFrame:
    """About ``n_windows`` full windows in series holding about ``N_VALUES`` values in all.

    A series of length ``L`` holds ``L - (LOOKBACK + HORIZON - 1)`` full windows, so ``n``
    series of that length hold ``n L`` values and ``n (L - 29)`` windows: fewer windows from
    the same values means more, shorter series.
    """
    span = LOOKBACK + HORIZON - 1
    n_series = max(1, (N_VALUES - n_windows) // span)
    length = span + max(1, round(n_windows / n_series))
    rng = np.random.default_rng(0)
    t = np.arange(length)
    values = 10 + np.sin(2 * np.pi * t / 12)[None, :] + rng.normal(0, 0.1, (n_series, length))
    return pd.DataFrame({
        "unique_id": np.repeat(np.arange(n_series), length),
        "ds": np.tile(t, n_series),
        "y": values.ravel(),
    })


def one(n_windows: int) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import forecastkit as fk

    df = panel(n_windows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    params = dict(units=(8,), lookback=LOOKBACK, horizon=HORIZON, min_history=LOOKBACK,
                  epochs=1, batch_size=1024, n_models=1, random_state=0)
    try:  # this code's parameter; an older checkout has only max_windows
        f = fk.RNNForecaster(**params, windows_per_epoch=None, max_windows=None)
    except TypeError:
        f = fk.RNNForecaster(**params, max_windows=None)
    start = time.perf_counter()
    f.fit(df)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    span = LOOKBACK + HORIZON - 1
    actual = int(df.groupby("unique_id").size().sub(span).clip(lower=0).sum())
    return {"windows": actual, "series_values": len(df), "rss_before_fit_mb": before / 1024,
            "peak_rss_mb": peak / 1024, "fit_seconds": seconds}


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]))))
        return
    rows = []
    for n in (100_000, 1_000_000):
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], check=True,
                             capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    table = pd.DataFrame(rows).set_index("windows")
    print(table.round(1).to_string())
    ratio = table["peak_rss_mb"].iloc[1] / table["peak_rss_mb"].iloc[0]
    print(f"peak RSS, 1M windows / 100k windows: {ratio:.2f}x")


if __name__ == "__main__":
    main()
