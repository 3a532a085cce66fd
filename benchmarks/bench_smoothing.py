"""Fit time of the smoothing searches: batched over a chunk of series, one series at a time,
and statsmodels' own fits, side by side on the same M3 Monthly series.

The baselines built on smoothing (SES, Holt, Damped, Comb, Theta) fit their parameters with
the deterministic search of ``forecastkit.forecasters._smoothing``. Its time loop is Python over
numpy arrays of (series, grid points), so fitting many series in one call shares the per-step
cost; this measures that against the per-series search (how the baselines ran before) and
against statsmodels' ``SimpleExpSmoothing`` / ``Holt`` fits (the library the search replaced
for determinism), on the M4-deseasonalised series the baselines smooth. It also checks that the
batched forecasts equal the per-series ones bit for bit. One process, one BLAS thread.

Usage::

    python benchmarks/bench_smoothing.py --series 300
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import forecastkit as fk
from forecastkit.data.frames import to_panel
from forecastkit.forecasters import _classical as cl
from forecastkit.forecasters import _smoothing as sm

H = 18


def _statsmodels(x: np.ndarray, kind: str) -> np.ndarray:
    from statsmodels.tsa.holtwinters import Holt, SimpleExpSmoothing

    if kind == "ses":
        model = SimpleExpSmoothing(x, initialization_method="estimated")
    else:
        model = Holt(x, damped_trend=kind == "damped", initialization_method="estimated")
    return model.fit().forecast(H)


def _timed(func):
    start = time.perf_counter()
    out = func()
    return time.perf_counter() - start, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300, help="M3 Monthly series (seeded)")
    args = parser.parse_args(argv)
    train, _, _ = fk.datasets.load_m3("monthly")
    ids = train["unique_id"].unique()
    ids = np.random.default_rng(2026).choice(ids, size=min(args.series, len(ids)),
                                             replace=False)
    panel = to_panel(train[train["unique_id"].isin(ids)])
    xs = [cl.deseasonalise(panel.series(i).astype(float), 12).values
          for i in range(panel.n_series)]
    print(f"{len(xs)} M3 Monthly series, h = {H}\n")
    print("| method | batched s | per-series s | statsmodels s | per-series / batched "
          "| statsmodels / batched | batched == per-series |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind in sm.KINDS:
            t_batch, many = _timed(lambda kind=kind: sm.forecast_many(xs, kind, H))
            t_one, alone = _timed(
                lambda kind=kind: [sm.forecast_many([x], kind, H)[0] for x in xs])
            t_sm, _ = _timed(lambda kind=kind: [_statsmodels(x, kind) for x in xs])
            same = all(np.array_equal(a[0], b[0]) and a[1] == b[1]
                       for a, b in zip(many, alone, strict=True))
            print(f"| {kind} | {t_batch:.2f} | {t_one:.2f} | {t_sm:.2f} | "
                  f"{t_one / t_batch:.1f}x | {t_sm / t_batch:.2f}x | {same} |")


if __name__ == "__main__":
    main()
