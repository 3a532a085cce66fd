"""Shared fixtures: small synthetic series and a global seed."""

from __future__ import annotations

import os
import random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def global_seed():
    """Seed Python and NumPy before every test so failures reproduce."""
    random.seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def panel_df() -> pd.DataFrame:
    """A small long panel (5 series of 60..80 integer steps) with trend and season 12."""
    from forecastkit.datasets import make_trend_seasonal

    return make_trend_seasonal(n_series=5, length=(60, 80), season_length=12, seed=1)


@pytest.fixture
def monthly_series() -> pd.Series:
    """One monthly series with a DatetimeIndex."""
    idx = pd.date_range("2010-01-01", periods=72, freq="MS")
    t = np.arange(72)
    return pd.Series(10 + 0.1 * t + np.sin(2 * np.pi * t / 12), index=idx, name="sales")
