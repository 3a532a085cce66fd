"""Evaluation: metrics, rolling-origin splits, backtests, comparisons, plots and result stores.

>>> import forecastkit as fk
>>> cv = fk.backtest(fk.baselines.Naive(), df, horizon=6, n_windows=3)   # doctest: +SKIP
>>> per_series = fk.evaluation.backtest_metrics(cv, df, season_length=12)  # doctest: +SKIP
"""

from forecastkit.evaluation import metrics
from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.evaluation.compare import Comparison, compare, summarize_models
from forecastkit.evaluation.registry import list_models, make_model, make_models
from forecastkit.evaluation.splitters import RollingOriginSplitter
from forecastkit.evaluation.store import ResultStore

__all__ = [
    "metrics",
    "backtest",
    "backtest_metrics",
    "Comparison",
    "compare",
    "summarize_models",
    "list_models",
    "make_model",
    "make_models",
    "RollingOriginSplitter",
    "ResultStore",
]
