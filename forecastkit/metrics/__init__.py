"""Forecast accuracy metrics, as the M4 competition defines them.

Every metric takes one series: ``y`` and ``y_pred`` of shape (horizon,), and for the scaled
metrics the training series ``y_train`` of shape (n,). :func:`score_forecasts` applies them to
every forecast of a long frame (:func:`evaluate`: a ``predict`` frame against the actuals) and
:func:`summarize` averages over series; OWA is computed once from the set-level means, as M4
does. This module sits below the forecasters: it needs only NumPy and pandas.

Conventions (documented where M4 is silent):

* sMAPE: a step where both ``y`` and ``y_pred`` are 0 counts as 0 error (0/0 otherwise); a
  NaN in either gives NaN, never 0.
* MASE/RMSSE: the scale is the in-sample mean (squared) seasonal difference
  ``|x_t - x_{t-m}|``. A training series of at most ``m`` points has no seasonal difference,
  so the non-seasonal difference (m = 1) is used instead. A zero scale (a constant training
  series) gives ``inf`` (``nan`` when the forecast is also perfect), as the M4 R code gives.
* MAPE: a zero actual gives ``inf``.
* Probabilistic scores (``msis``, ``pinball``, ``crps_*``) and ``coverage``: a NaN anywhere
  in their inputs gives NaN (a missing bound is neither a hit nor a miss); the scaled ones
  (``msis``, ``pinball`` with ``y_train``) follow MASE's scale and its zero-scale rule.
"""

from forecastkit.metrics.point import (
    mae,
    mape,
    mase,
    mase_scale,
    owa,
    rmse,
    rmsse,
    seasonal_scales,
    smape,
)
from forecastkit.metrics.probabilistic import (
    coverage,
    crps,
    crps_quantiles,
    crps_samples,
    msis,
    pinball,
)
from forecastkit.metrics.tables import (
    METRICS,
    check_finite_forecasts,
    evaluate,
    score_forecasts,
    summarize,
    summarize_by,
)

__all__ = [
    "mae",
    "rmse",
    "mape",
    "smape",
    "mase",
    "mase_scale",
    "rmsse",
    "owa",
    "seasonal_scales",
    "coverage",
    "msis",
    "pinball",
    "crps",
    "crps_quantiles",
    "crps_samples",
    "check_finite_forecasts",
    "METRICS",
    "score_forecasts",
    "evaluate",
    "summarize",
    "summarize_by",
]
