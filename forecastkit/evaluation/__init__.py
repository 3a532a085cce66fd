"""Evaluation: rolling-origin splits, backtests, comparisons, reports, plots and result stores.

The metrics themselves live one layer down, in :mod:`forecastkit.metrics` (also reachable here
as ``forecastkit.evaluation.metrics``).

>>> import forecastkit as fk
>>> cv = fk.backtest(fk.baselines.Naive(), df, horizon=6, n_windows=3)   # doctest: +SKIP
>>> per_series = fk.evaluation.backtest_metrics(cv, df, season_length=12)  # doctest: +SKIP
>>> res = fk.compare(["theta"], train, test, horizon=18, season_length=12)  # doctest: +SKIP
>>> fk.evaluation.write_report(res, "results/theta")  # doctest: +SKIP
>>> cv = fk.backtest(f, df, horizon=6, n_windows=3,
...                  quantiles=[0.025, 0.1, 0.5, 0.9, 0.975])  # doctest: +SKIP
>>> fk.evaluation.plot_calibration(cv, "calibration.png")  # doctest: +SKIP
"""

from forecastkit.evaluation import metrics
from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.evaluation.compare import Comparison, compare, summarize_models
from forecastkit.evaluation.plots import plot_calibration
from forecastkit.evaluation.registry import list_models, make_model, make_models
from forecastkit.evaluation.report import write_report
from forecastkit.evaluation.scoring import ForecastScorer, calibration
from forecastkit.evaluation.splitters import RollingOriginCV, RollingOriginSplitter
from forecastkit.evaluation.store import ResultStore
from forecastkit.evaluation.tuning import TuningResult, rnn_search_space, tune

__all__ = [
    "metrics",
    "backtest",
    "backtest_metrics",
    "Comparison",
    "compare",
    "summarize_models",
    "write_report",
    "calibration",
    "ForecastScorer",
    "plot_calibration",
    "list_models",
    "make_model",
    "make_models",
    "RollingOriginCV",
    "RollingOriginSplitter",
    "ResultStore",
    "tune",
    "TuningResult",
    "rnn_search_space",
]
