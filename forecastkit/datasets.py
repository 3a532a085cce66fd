"""Loaders of the bundled datasets and seeded generators of synthetic panels.

The competition files live in the repository's top-level ``datasets/`` folder (see its README for
provenance). Set the ``FORECASTKIT_DATA`` environment variable to point elsewhere.

:func:`load_chicago` (daily L-train ridership of 20 Chicago stations with weather and game
covariates) returns ``(y_train, y_test, X, info)``, not the ``(train, test, info)`` of the
competition sets, so it is not one of the names :func:`list_datasets` and :func:`load_dataset`
know: call it directly.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from forecastkit.exceptions import InvalidInputError

__all__ = [
    "DatasetInfo",
    "data_dir",
    "load_m3",
    "load_m4",
    "load_classic",
    "load_chicago",
    "load_dataset",
    "list_datasets",
    "make_trend_seasonal",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What a forecaster needs to know about a bundled dataset."""

    name: str
    frequency: str
    horizon: int
    season_length: int
    n_series: int
    source: str

    def to_dict(self) -> dict:
        return asdict(self)


_M3 = {
    "yearly": (6, 1),
    "quarterly": (8, 4),
    "monthly": (18, 12),
    "other": (8, 1),
}
_M4 = {"weekly": (13, 1), "hourly": (48, 24)}
_CLASSIC = {
    "co2": ("co2_mauna_loa_monthly.csv", "monthly", 12, 12),
    "sunspots": ("sunspots_yearly.csv", "yearly", 10, 1),
    "elnino": ("elnino_sst_monthly.csv", "monthly", 12, 12),
}


def data_dir() -> Path:
    """The folder holding the bundled data: ``$FORECASTKIT_DATA``, else the copy an installed
    wheel carries (``forecastkit/bundled_datasets``), else the repository's ``datasets/`` (a
    source checkout or an editable install)."""
    env = os.environ.get("FORECASTKIT_DATA")
    here = Path(__file__).resolve().parent
    candidates = [Path(env)] if env else [here / "bundled_datasets", here.parent / "datasets"]
    for path in candidates:
        if path.is_dir():
            return path
    raise FileNotFoundError(
        f"bundled datasets not found at {' or '.join(map(str, candidates))}; reinstall "
        f"forecastkit (pip install forecastkit, or pip install -e . from its repository) or "
        f"set FORECASTKIT_DATA to the datasets/ folder"
    )


def _split(path: Path, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(path, dtype={"unique_id": str, "split": str, "t": np.int64, "y": np.float64})
    raw = raw.rename(columns={"t": "ds"})
    train = raw[raw["split"] == "train"].drop(columns="split").reset_index(drop=True)
    test = raw[raw["split"] == "test"].drop(columns="split").reset_index(drop=True)
    return train, test


def load_m3(frequency: str = "monthly") -> tuple[pd.DataFrame, pd.DataFrame, DatasetInfo]:
    """Load one M3 set with its official train/test split.

    Parameters
    ----------
    frequency : {"yearly", "quarterly", "monthly", "other"}

    Returns
    -------
    train, test : pd.DataFrame
        Long frames ``unique_id, ds, y``; ``ds`` is an integer step that runs on from train
        into test.
    info : DatasetInfo
        Horizon and season length as the competition defines them.
    """
    key = frequency.lower()
    if key not in _M3:
        raise InvalidInputError(f"unknown M3 frequency {frequency!r}; choose from {list(_M3)}")
    train, test = _split(data_dir() / "m3" / f"m3_{key}.csv.gz", f"m3-{key}")
    horizon, season = _M3[key]
    info = DatasetInfo(f"m3-{key}", key, horizon, season, train["unique_id"].nunique(), "M3")
    return train, test, info


def load_m4(frequency: str = "hourly") -> tuple[pd.DataFrame, pd.DataFrame, DatasetInfo]:
    """Load M4 Weekly or Hourly with the official train/test split (see :func:`load_m3`)."""
    key = frequency.lower()
    if key not in _M4:
        raise InvalidInputError(f"unknown M4 frequency {frequency!r}; choose from {list(_M4)}")
    train, test = _split(data_dir() / "m4" / f"m4_{key}.csv.gz", f"m4-{key}")
    horizon, season = _M4[key]
    info = DatasetInfo(f"m4-{key}", key, horizon, season, train["unique_id"].nunique(), "M4")
    return train, test, info


def load_classic(name: str = "co2") -> tuple[pd.DataFrame, DatasetInfo]:
    """Load a classic real series (``co2``, ``sunspots`` or ``elnino``) as a long frame.

    Monthly series have datetime ``ds``; sunspots has integer years.
    """
    if name not in _CLASSIC:
        raise InvalidInputError(f"unknown classic dataset {name!r}; choose from {list(_CLASSIC)}")
    fname, freq, horizon, season = _CLASSIC[name]
    df = pd.read_csv(data_dir() / "classic" / fname, dtype={"unique_id": str})
    if freq == "monthly":
        df["ds"] = pd.to_datetime(df["ds"])
    info = DatasetInfo(name, freq, horizon, season, 1, "statsmodels.datasets (public domain)")
    return df, info


_CHICAGO_SOURCE = (
    "Chicago L-train ridership, modeldata 1.1.0 (R package, MIT; Kuhn & Johnson 2020, "
    "Feature Engineering and Selection)"
)


def load_chicago(
    test_days: int = 28,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, DatasetInfo]:
    """Load the daily ridership of 20 Chicago L stations with weather and game covariates.

    The data are modeldata's ``Chicago`` (``datasets/chicago``; see ``datasets/README.md``).
    Its station columns are 14-day lags; the bundled file dates every value on the day the
    rides happened, so the 20 stations share 2001-01-08 .. 2016-08-14 and Clark/Lake runs on
    to 2016-08-28. The covariates start on 2001-01-22, so the panel returned is the 5,684 days
    2001-01-22 .. 2016-08-14 on which every station and every covariate is known.

    Parameters
    ----------
    test_days : int
        Length of the hold-out: the last ``test_days`` days of every station. At least
        ``2 * test_days`` days must remain for training.

    Returns
    -------
    y_train : pd.DataFrame
        Long frame ``unique_id, ds, y`` of shape ``(20 * (5684 - test_days), 3)``: ``ds``
        datetime64, ``y`` float, entries (thousands of rides per day) sorted by series and date.
    y_test : pd.DataFrame
        The same columns for the last ``test_days`` days, shape ``(20 * test_days, 3)``.
    X : pd.DataFrame
        Long frame ``unique_id, ds`` plus 28 covariates, shape ``(20 * 5684, 30)``: one row per
        station and date of the training and test periods, the per-date values repeated for
        each station. Weather (``temp_min`` .. ``weather_storm``, float) is observed, so
        past-only (``hist_exog``); the home/away game flags (``Blackhawks_Away`` ..
        ``Cubs_Home``, int 0/1) are scheduled, so future-known (``futr_exog``). In the source
        the four ``WhiteSox_*`` and ``Cubs_*`` flags are one identical column.
    info : DatasetInfo
        Frequency ``"D"``, season length 7, horizon ``test_days``, 20 series.

    Raises
    ------
    InvalidInputError
        ``test_days`` is not a positive integer, or leaves fewer than ``2 * test_days``
        training days.
    """
    if isinstance(test_days, bool) or not isinstance(test_days, int | np.integer):
        raise InvalidInputError(f"test_days must be a positive integer, got {test_days!r}")
    if test_days < 1:
        raise InvalidInputError(f"test_days must be a positive integer, got {test_days}")
    folder = data_dir() / "chicago"
    y = pd.read_csv(folder / "ridership.csv.gz", dtype={"unique_id": str, "y": np.float64},
                    parse_dates=["ds"])
    covariates = pd.read_csv(folder / "covariates.csv.gz", parse_dates=["ds"])
    days = set(covariates["ds"])
    for _, ds in y.groupby("unique_id")["ds"]:
        days &= set(ds)
    dates = pd.DatetimeIndex(sorted(days))
    n_train = len(dates) - int(test_days)
    if n_train < 2 * test_days:
        raise InvalidInputError(
            f"test_days={test_days} leaves {max(n_train, 0)} training days of the {len(dates)}; "
            f"at least 2 * test_days = {2 * test_days} are needed"
        )
    y = y[y["ds"].isin(dates)].sort_values(["unique_id", "ds"], ignore_index=True)
    in_test = y["ds"].isin(dates[n_train:])
    y_train = y[~in_test].reset_index(drop=True)
    y_test = y[in_test].reset_index(drop=True)
    stations = pd.DataFrame({"unique_id": y["unique_id"].unique()})
    X = stations.merge(covariates[covariates["ds"].isin(dates)], how="cross")
    X = X.sort_values(["unique_id", "ds"], ignore_index=True)
    info = DatasetInfo("chicago", "D", int(test_days), 7, len(stations), _CHICAGO_SOURCE)
    return y_train, y_test, X, info


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`, e.g. ``"m3-monthly"``, ``"m4-hourly"``,
    ``"chicago"``."""
    return [f"m3-{k}" for k in _M3] + [f"m4-{k}" for k in _M4] + ["chicago"]


def load_dataset(name: str) -> tuple[pd.DataFrame, pd.DataFrame, DatasetInfo]:
    """Load a bundled set by its name (``"m3-monthly"``, ``"m4-weekly"``, ``"chicago"``...):
    ``(train, test, info)``. For ``"chicago"``, the target only (its covariates come from
    :func:`load_chicago`), with the last 28 days as the test split."""
    source, _, freq = name.lower().partition("-")
    if source == "m3":
        return load_m3(freq)
    if source == "m4":
        return load_m4(freq)
    if name.lower() == "chicago":
        train, test, _, info = load_chicago()
        return train, test, info
    raise InvalidInputError(f"unknown dataset {name!r}; choose from {list_datasets()}")


# --------------------------------------------------------------------------- synthetic data


def make_trend_seasonal(
    n_series: int = 100,
    length: int | tuple[int, int] = 200,
    season_length: int | tuple[int, ...] = 12,
    *,
    trend: Literal["linear", "damped", "none"] = "linear",
    trend_strength: float = 1.0,
    seasonal_strength: float = 1.0,
    noise: float = 0.1,
    level_shift_prob: float = 0.0,
    multiplicative: bool = False,
    level: float = 10.0,
    freq: str | None = None,
    start: str = "2000-01-01",
    seed: int | None = 0,
) -> pd.DataFrame:
    """A seeded panel of series with trend, seasonality, noise and level shifts.

    Each series is ``level + trend + seasonal + noise`` (or ``level * (1 + trend) * (1 + seasonal)
    * (1 + noise)`` when ``multiplicative``), with a random slope, seasonal phase and shape per
    series.

    Parameters
    ----------
    n_series : int
        Number of series.
    length : int or (min, max)
        Length of every series, or a range from which each series draws its own length (the
        series then end at the same time step, as a real panel does).
    season_length : int or tuple of int
        One or more seasonal periods; 1 or 0 means none.
    trend : {"linear", "damped", "none"}
        Kind of trend: a straight line, one whose slope decays (phi = 0.98), or none.
    trend_strength, seasonal_strength : float
        Size of the trend over the series and the seasonal amplitude, in units of ``level / 10``.
    noise : float
        Standard deviation of the Gaussian noise, in units of ``level / 10``.
    level_shift_prob : float
        Probability per series of one level shift at a random time in its second half.
    multiplicative : bool
        Multiplicative composition (seasonal amplitude grows with the level).
    level : float
        Base level; positive so that sMAPE and MAPE are meaningful.
    freq : str or None
        Pandas frequency alias for datetime ``ds``; ``None`` gives integer ``ds``.
    seed : int or None
        Seed of the generator: the same seed gives the same panel.

    Returns
    -------
    pd.DataFrame
        Long frame ``unique_id, ds, y``, sorted by series and time.
    """
    if n_series < 1:
        raise InvalidInputError(f"n_series must be >= 1, got {n_series}")
    if trend not in ("linear", "damped", "none"):
        raise InvalidInputError(f"trend must be 'linear', 'damped' or 'none', got {trend!r}")
    rng = np.random.default_rng(seed)
    lo, hi = (int(length), int(length)) if isinstance(length, int | np.integer) else length
    if lo < 2 or hi < lo:
        raise InvalidInputError(f"length must be >= 2 (or a range min <= max), got {length}")
    periods: tuple[int, ...] = (
        (int(season_length),)
        if isinstance(season_length, int | np.integer)
        else tuple(season_length)
    )
    lengths = rng.integers(lo, hi + 1, size=n_series)
    unit = level / 10.0
    frames = []
    for i, n in enumerate(lengths):
        t = np.arange(n, dtype=np.float64)
        tt = t / max(hi - 1, 1)
        slope = rng.uniform(0.5, 1.5) * rng.choice([-1.0, 1.0]) * trend_strength
        if trend == "linear":
            tr = slope * tt * 10.0
        elif trend == "damped":
            phi = 0.98
            tr = slope * (1 - phi ** (t + 1)) / (1 - phi) * 10.0 / (1 / (1 - phi))
        else:
            tr = np.zeros(n)
        seas = np.zeros(n)
        for p in periods:
            if p and p > 1:
                phase = rng.uniform(0, 2 * np.pi)
                amp = rng.uniform(0.5, 1.5) * seasonal_strength
                ang = 2 * np.pi * t / p + phase
                seas += amp * (np.sin(ang) + 0.3 * np.sin(2 * ang + rng.uniform(0, 2 * np.pi)))
        eps = rng.normal(0.0, noise, size=n)
        shift = np.zeros(n)
        if level_shift_prob > 0 and rng.random() < level_shift_prob and n > 4:
            at = rng.integers(n // 2, n)
            shift[at:] = rng.uniform(-2.0, 2.0)
        if multiplicative:
            y = level * (1 + 0.1 * tr) * (1 + 0.1 * seas) * (1 + 0.1 * eps) + unit * shift
        else:
            y = level + unit * (tr + seas + eps + shift)
        # Keep series positive so percentage metrics stay defined.
        y = np.maximum(y, 0.05 * level)
        ds: np.ndarray | pd.DatetimeIndex = np.arange(hi - n, hi, dtype=np.int64)
        if freq is not None:
            ds = pd.date_range(start=start, periods=hi, freq=freq)[hi - n :]
        frames.append(pd.DataFrame({"unique_id": f"S{i:04d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)
