"""Tiny forecasters for evaluation tests, written here so the tests do not depend on the models."""

from __future__ import annotations

import os
import time
from statistics import NormalDist

import numpy as np

from forecastkit.forecasters.base import BaseForecaster


class LastValue(BaseForecaster):
    """Local model: repeats each series' last value."""

    def __init__(self, horizon=None):
        self.horizon = horizon

    def _fit(self, panel):
        pass

    def _predict(self, panel, horizon):
        return np.repeat(panel.values[panel.indptr[1:] - 1][:, None], horizon, axis=1)


class GlobalMean(BaseForecaster):
    """Global model: learns one number (the mean of all training values) and adds it to each
    history's last value, so a forecast depends on both the fit and the history predicted from.

    Every fit is recorded as the length of the training panel's first series, in ``FITS`` (and
    in the file named by ``$FK_FIT_LOG`` when set, for tests that run in subprocesses).
    """

    is_global = True
    FITS: list[int] = []

    def __init__(self, horizon=None, delay=0.0):
        self.horizon = horizon
        self.delay = delay

    def _fit(self, panel):
        GlobalMean.FITS.append(int(panel.lengths[0]))
        log = os.environ.get("FK_FIT_LOG")
        if log:
            with open(log, "a") as f:
                f.write(f"{panel.lengths[0]}\n")
        time.sleep(self.delay)
        self.mean_ = float(panel.values.mean())

    def _predict(self, panel, horizon):
        last = panel.values[panel.indptr[1:] - 1]
        return np.repeat((last + 1e-3 * self.mean_)[:, None], horizon, axis=1)


class GaussianLast(LastValue):
    """Local model with quantiles: each series' last value plus a normal spread
    ``scale * sigma * sqrt(step)``, sigma the standard deviation of the series' one-step
    differences (a random walk's forecast distribution)."""

    supports_quantiles = True

    def __init__(self, horizon=None, scale=1.0):
        self.horizon = horizon
        self.scale = scale

    def _predict_quantiles(self, panel, horizon, levels):
        last = panel.values[panel.indptr[1:] - 1]
        sigma = np.array([np.std(np.diff(panel.series(i))) for i in range(panel.n_series)])
        z = np.array([NormalDist().inv_cdf(float(v)) for v in levels])
        spread = self.scale * sigma[:, None] * np.sqrt(np.arange(1, horizon + 1))[None, :]
        return last[:, None, None] + spread[:, :, None] * z[None, None, :]
