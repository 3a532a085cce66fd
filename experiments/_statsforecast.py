"""statsforecast's AutoETS and AutoARIMA as forecastkit forecasters, for benchmarks only.

The probabilistic study (experiments/probabilistic.py) runs them inside the same
:func:`forecastkit.evaluation.compare` as forecastkit's own models: same series, same split,
same scoring, same machine. Nothing in the ``forecastkit`` package imports this module;
statsforecast comes with the benchmark extra (``pip install forecastkit[bench]``).

How: ``fit`` hands the panel to ``StatsForecast(models=[AutoETS(season_length=m)], freq=1)
.fit`` (each series gets the integer time 0..n-1, which these models need: they do not read
calendars), and ``predict`` calls ``StatsForecast.predict(h=..., level=[...])``, the two halves of
``StatsForecast.forecast`` kept apart because a backtest asks for the point forecast and the
quantiles in two calls (fitting once serves both). A quantile level ``p`` is read from
statsforecast's central interval of coverage ``c = |2p - 1|``: the column ``<model>-lo-<c>``
for ``p < 0.5``, ``<model>-hi-<c>`` above; level 0.5 is the point forecast (the intervals are
symmetric around it). A series a model fails on is forecast by statsforecast's ``Naive``
(its ``fallback_model``), intervals included, as statsforecast's own benchmarks do.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from forecastkit._compat import Interval, StrOptions
from forecastkit.data.frames import Panel
from forecastkit.exceptions import ForecastkitError
from forecastkit.forecasters.base import BaseForecaster

__all__ = ["StatsForecastModel", "coverage_of", "is_available"]

_POSITIVE = Interval(Integral, 1, None, closed="left")


def is_available() -> bool:
    """Whether statsforecast can be imported here."""
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


class StatsForecastModel(BaseForecaster):
    """statsforecast's ``AutoETS`` or ``AutoARIMA``, one model per series.

    Parameters
    ----------
    model : {"AutoETS", "AutoARIMA"}
        The statsforecast model class, built with ``season_length`` and its defaults otherwise.
    season_length : int
    horizon : int or None
    n_jobs : int
        statsforecast's own processes; 1 because the benchmark spreads blocks of series over
        cores itself.

    Attributes
    ----------
    sf_ : statsforecast.StatsForecast
        Fitted on the training panel (one fitted model per series).
    """

    is_global: ClassVar[bool] = False
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "model": [StrOptions({"AutoETS", "AutoARIMA"})],
        "season_length": [_POSITIVE],
        "horizon": [_POSITIVE, None],
        "n_jobs": [Integral],
    }

    def __init__(self, model: str = "AutoETS", season_length: int = 1,
                 horizon: int | None = None, n_jobs: int = 1):
        self.model = model
        self.season_length = season_length
        self.horizon = horizon
        self.n_jobs = n_jobs

    @property
    def supports_quantiles(self) -> bool:
        return True

    def _min_train_length(self) -> int:
        return 2

    def _fit(self, panel: Panel) -> None:
        from statsforecast import StatsForecast
        from statsforecast import models as sf_models

        model = getattr(sf_models, self.model)(season_length=self.season_length)
        self.sf_ = StatsForecast(models=[model], freq=1, n_jobs=self.n_jobs,
                                 fallback_model=sf_models.Naive())
        with warnings.catch_warnings():
            # statsforecast warns about its own internals (e.g. pandas<3 pins); not ours to act on
            warnings.simplefilter("ignore")
            self.sf_.fit(df=_long_frame(panel))

    def _forecast_frame(self, panel: Panel, horizon: int, level=None) -> pd.DataFrame:
        """statsforecast's forecast frame, rows in the panel's series order and by step."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self.sf_.predict(h=horizon, level=level)
        out = out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
        if len(out) != panel.n_series * horizon:
            raise ForecastkitError(f"statsforecast {self.model} returned {len(out)} rows, not "
                                   f"{panel.n_series} series x {horizon} steps")
        return out

    def _predict(self, panel: Panel, horizon: int) -> np.ndarray:
        out = self._forecast_frame(panel, horizon)
        return out[self.model].to_numpy(np.float64).reshape(panel.n_series, horizon)

    def _predict_quantiles(self, panel: Panel, horizon: int, levels: np.ndarray) -> np.ndarray:
        coverages = sorted({c for c in (coverage_of(p) for p in levels) if c is not None})
        out = self._forecast_frame(panel, horizon, level=coverages or None)
        columns = []
        for p in levels:
            c = coverage_of(p)
            if c is None:
                columns.append(out[self.model])
            else:
                columns.append(out[f"{self.model}-{'lo' if p < 0.5 else 'hi'}-{c}"])
        q = np.stack([col.to_numpy(np.float64) for col in columns], axis=-1)
        return q.reshape(panel.n_series, horizon, len(levels))


def coverage_of(level: float) -> int | float | None:
    """statsforecast's ``level`` (coverage in percent) whose interval ends at quantile
    ``level``: 0.025 and 0.975 -> 95, 0.1 -> 80; None for 0.5 (the point forecast).

    An int where the coverage is a whole percent, so that the column names statsforecast
    writes (``lo-95``, ``lo-97.5``) are the ones read back.
    """
    c = round(abs(2.0 * float(level) - 1.0) * 100, 9)
    if c == 0:
        return None
    return int(c) if float(c).is_integer() else c


def _long_frame(panel: Panel) -> pd.DataFrame:
    """``unique_id`` (the series' position, so output rows sort in panel order), ``ds``
    (0..n-1 per series) and ``y``."""
    lengths = np.diff(panel.indptr)
    ids = np.repeat(np.arange(panel.n_series), lengths)
    ds = np.arange(len(panel.values)) - np.repeat(panel.indptr[:-1], lengths)
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": np.asarray(panel.values, np.float64)})
