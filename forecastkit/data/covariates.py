"""Covariates: the columns beside the target that a forecaster reads, aligned with a panel.

Three kinds, named as NeuralForecast names them:

``futr`` (future-known)
    Known for the forecast horizon as well as the history: prices set in advance,
    promotions, planned closures, calendar and holidays. ``X`` must cover the history and,
    at ``predict``, the horizon.
``hist`` (observed only up to now)
    Measured alongside the target (sensor readings, weather actually observed): ``X``
    covers the history; the forecast reads them up to the forecast origin only.
``static``
    One row per series (store type, region, product size): numeric or categorical.

The rule when neither ``futr_exog`` nor ``hist_exog`` is given: every column of ``X`` is
future-known. Calendar covariates (``calendar=("dayofweek", "month", ...)``) and a public-holiday
flag (``holidays="US"``, from the `holidays` package) are made from the time stamps and are
future-known by construction; they need no ``X``.

:func:`resolve_spec` learns a :class:`CovariateSpec` at ``fit``; :func:`build_covariates` turns
frames into the :class:`Covariates` arrays a forecaster reads from ``Panel.covariates``.
Covariate values must be finite wherever they are needed; a gap is an error naming the series,
the column and the first missing time stamp (fill covariates before forecasting: a filled target
is a modelling choice, a filled price is a guess the user should make knowingly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecastkit.data._covariate_frames import (
    aligned_frame,
    check_static_rows,
    column_names,
    lookup,
    static_columns,
    static_frame,
    x_columns,
)
from forecastkit.data.timezones import to_wall_clock
from forecastkit.exceptions import CovariateError

__all__ = [
    "CALENDAR_COVARIATES",
    "CovariateSpec",
    "Covariates",
    "resolve_spec",
    "build_covariates",
    "future_covariates",
    "static_matrix",
    "calendar_covariates",
]

# name -> (encoding, size): one-hot columns, or a sine/cosine pair for long cycles
CALENDAR_COVARIATES: dict[str, tuple[str, int]] = {
    "hour": ("onehot", 24),
    "dayofweek": ("onehot", 7),
    "month": ("onehot", 12),
    "quarter": ("onehot", 4),
    "dayofmonth": ("cyclic", 31),
    "dayofyear": ("cyclic", 366),
    "weekofyear": ("cyclic", 53),
}


# the DatetimeIndex attribute of a calendar covariate, where its name differs
_PANDAS_FIELD = {"dayofweek": "day_of_week", "dayofyear": "day_of_year", "dayofmonth": "day"}


@dataclass(frozen=True)
class CovariateSpec:
    """What a fitted forecaster reads beside the target (learned by :func:`resolve_spec`).

    Attributes
    ----------
    futr, hist : tuple of str
        Future-known and past-only columns of ``X``.
    calendar : tuple of str
        Calendar covariates made from the time stamps (keys of :data:`CALENDAR_COVARIATES`).
    holidays : str or None
        Country code of the public-holiday flag.
    static_numeric : tuple of str
    static_categories : tuple of (str, tuple)
        Categorical static columns and the categories seen at fit, in one-hot order.
    id_col, time_col : str
        Column names of ``X`` and ``static`` (the target's).
    """

    futr: tuple[str, ...] = ()
    hist: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    holidays: str | None = None
    static_numeric: tuple[str, ...] = ()
    static_categories: tuple[tuple[str, tuple], ...] = ()
    id_col: str = "unique_id"
    time_col: str = "ds"

    @property
    def calendar_names(self) -> list[str]:
        names = []
        for name in self.calendar:
            kind, size = CALENDAR_COVARIATES[name]
            names += ([f"{name}_{j}" for j in range(size)] if kind == "onehot"
                      else [f"{name}_sin", f"{name}_cos"])
        return names + (["holiday"] if self.holidays else [])

    @property
    def past_names(self) -> list[str]:
        """Columns of :attr:`Covariates.past`: every covariate observed over the history."""
        return [*self.futr, *self.hist, *self.calendar_names]

    @property
    def future_names(self) -> list[str]:
        """Columns of :attr:`Covariates.future`: the future-known covariates."""
        return [*self.futr, *self.calendar_names]

    @property
    def future_in_past(self) -> list[int]:
        """Positions of :attr:`future_names` among :attr:`past_names`."""
        past = self.past_names
        return [past.index(name) for name in self.future_names]

    @property
    def static_names(self) -> list[str]:
        names = list(self.static_numeric)
        for col, cats in self.static_categories:
            names += [f"{col}={c}" for c in cats]
        return names

    @property
    def needs_x(self) -> bool:
        return bool(self.futr or self.hist)

    @property
    def needs_static(self) -> bool:
        return bool(self.static_numeric or self.static_categories)

    @property
    def n_scaled_past(self) -> int:
        """The first ``n_scaled_past`` past columns are standardised; calendar ones are not."""
        return len(self.futr) + len(self.hist)

    def to_dict(self) -> dict:
        return {"futr": list(self.futr), "hist": list(self.hist), "calendar": list(self.calendar),
                "holidays": self.holidays, "static_numeric": list(self.static_numeric),
                "static_categories": [[c, [_plain(v) for v in cats]]
                                      for c, cats in self.static_categories],
                "id_col": self.id_col, "time_col": self.time_col}

    @classmethod
    def from_dict(cls, d: dict) -> CovariateSpec:
        return cls(tuple(d["futr"]), tuple(d["hist"]), tuple(d["calendar"]), d["holidays"],
                   tuple(d["static_numeric"]),
                   tuple((c, tuple(cats)) for c, cats in d["static_categories"]),
                   d["id_col"], d["time_col"])


@dataclass(frozen=True)
class Covariates:
    """Covariate arrays aligned with a panel (series in the panel's order).

    Attributes
    ----------
    spec : CovariateSpec
    past : ndarray of shape (n_obs, n_past), float32
        Row ``k`` belongs to the panel's value ``k``; columns :attr:`CovariateSpec.past_names`.
    future : ndarray of shape (n_series, horizon, n_future), float32, or None
        The future-known covariates of the steps after each series' end (only when
        forecasting); columns :attr:`CovariateSpec.future_names`.
    static : ndarray of shape (n_series, n_static), float32
        Numeric statics, then the one-hot categories.
    """

    spec: CovariateSpec
    past: np.ndarray
    future: np.ndarray | None
    static: np.ndarray

    def rows(self, positions: np.ndarray, series: np.ndarray | None = None) -> Covariates:
        """The covariates of a cut panel: past rows at ``positions``; with ``series`` (a
        selection of whole series, :meth:`Panel.take`) their statics and future parts, else
        (a cut in time, :meth:`Panel.slice`) all statics and no future part (it belonged to
        the old ends).
        """
        if series is None:
            return Covariates(self.spec, self.past[positions], None, self.static)
        future = None if self.future is None else self.future[series]
        return Covariates(self.spec, self.past[positions], future, self.static[series])

    def with_future(self, future: np.ndarray) -> Covariates:
        return Covariates(self.spec, self.past, future, self.static)


def resolve_spec(X, static, panel, *, futr_exog=None, hist_exog=None, stat_exog=None,
                 calendar=None, holidays=None) -> CovariateSpec | None:
    """Learn which covariates a forecaster reads, from the fit-time frames and its parameters.

    Parameters
    ----------
    X : pd.DataFrame or None
        Long frame ``<id_col>, <time_col>, <columns>`` (a single-series fit may pass a frame
        indexed by the time stamps instead).
    static : pd.DataFrame or None
        One row per series: ``<id_col>, <attributes>``.
    panel : Panel
        The training panel.
    futr_exog, hist_exog, stat_exog : sequence of str, optional
        Column kinds; see the module docstring for the default rule.
    calendar : sequence of str, optional
        Keys of :data:`CALENDAR_COVARIATES`.
    holidays : str, optional
        Country code for the `holidays` package (``"US"``, ``"DE"``...).

    Returns
    -------
    CovariateSpec or None
        None when the forecaster reads no covariates at all.

    Raises
    ------
    CovariateError
        A named column is absent, ``X`` holds a column no parameter names, a column is not
        numeric, a calendar name is unknown or the time stamps are integers, the country is
        unknown.
    """
    calendar = tuple(column_names(calendar, "calendar"))
    unknown = [c for c in calendar if c not in CALENDAR_COVARIATES]
    if unknown:
        raise CovariateError(f"unknown calendar covariate {unknown[0]!r}; choose from "
                             f"{sorted(CALENDAR_COVARIATES)}")
    if (calendar or holidays) and panel.index_kind == "integer":
        raise CovariateError("calendar and holiday covariates need datetime or period time "
                             "stamps; the series have integer time")
    if holidays is not None:
        _country_holidays(holidays, [2000])  # fails early on an unknown country
    futr, hist = x_columns(X, panel, futr_exog, hist_exog)
    numeric, categories = static_columns(static, panel, stat_exog)
    if not (futr or hist or calendar or holidays or numeric or categories):
        return None
    return CovariateSpec(tuple(futr), tuple(hist), calendar, holidays, tuple(numeric),
                         tuple(categories), panel.id_col, panel.time_col)


def build_covariates(spec: CovariateSpec, X, static, panel, horizon: int | None = None
                     ) -> Covariates:
    """Align ``X`` and ``static`` with ``panel`` as the arrays of :class:`Covariates`.

    Parameters
    ----------
    horizon : int, optional
        Also build :attr:`Covariates.future` for this many steps after each series' end.

    Raises
    ------
    CovariateError
        ``X`` or ``static`` is needed but None, lacks a column, a series, a row of the history
        (or of the horizon, for future-known columns), holds a non-finite value there, or a
        static category was not seen at fit.
    """
    past_cols = [*spec.futr, *spec.hist]
    past = np.zeros((len(panel.values), 0), np.float32)
    x = None
    if past_cols:
        x = aligned_frame(X, panel, past_cols, "X")
        series = np.repeat(np.arange(panel.n_series), panel.lengths)
        past = lookup(x, series, panel.times, past_cols, panel, "the history")
    if spec.calendar or spec.holidays:
        past = np.concatenate([past, calendar_covariates(panel, panel.times, spec)], axis=1)
    future = None if horizon is None else future_covariates(spec, X, panel, horizon, aligned=x)
    return Covariates(spec, past.astype(np.float32), future,
                      static_matrix(spec, static, panel))


def future_covariates(spec: CovariateSpec, X, panel, horizon: int, aligned=None) -> np.ndarray:
    """The future-known covariates of the ``horizon`` steps after each series' end.

    Returns
    -------
    ndarray of shape (n_series, horizon, len(spec.future_names)), float32

    Raises
    ------
    CovariateError
        ``X`` does not cover a future-known column over the horizon of every series.
    """
    future = np.zeros((panel.n_series, horizon, 0), np.float32)
    times = panel.future_times(horizon)
    if spec.futr:
        # ``aligned``: X already aligned with the panel (build_covariates), not done twice
        x = aligned[list(spec.futr)] if aligned is not None else \
            aligned_frame(X, panel, list(spec.futr), "X")
        series = np.repeat(np.arange(panel.n_series), horizon)
        flat = lookup(x, series, times.ravel(), list(spec.futr), panel, "the horizon")
        future = flat.reshape(panel.n_series, horizon, len(spec.futr))
    if spec.calendar or spec.holidays:
        cal = calendar_covariates(panel, times.ravel(), spec)
        future = np.concatenate([future, cal.reshape(panel.n_series, horizon, -1)], axis=2)
    return future.astype(np.float32)


def calendar_covariates(panel, times: np.ndarray, spec: CovariateSpec) -> np.ndarray:
    """Calendar (and holiday) covariates of ``times``, shape (n, len(spec.calendar_names)).

    ``times`` are in the panel's representation (UTC for a zoned panel); the calendar is read
    on the series' wall clock.
    """
    wall = pd.DatetimeIndex(to_wall_clock(np.asarray(times, dtype="datetime64[ns]"), panel.tz))
    blocks = []
    for name in spec.calendar:
        kind, size = CALENDAR_COVARIATES[name]
        if name == "weekofyear":
            value = wall.isocalendar().week.to_numpy().astype(np.int64)
        else:
            value = np.asarray(getattr(wall, _PANDAS_FIELD.get(name, name)), np.int64)
        if kind == "onehot":
            first = 0 if name in ("hour", "dayofweek") else 1
            blocks.append(np.eye(size, dtype=np.float32)[value - first])
        else:
            angle = 2 * np.pi * (value - 1) / size
            blocks.append(np.stack([np.sin(angle), np.cos(angle)], axis=1).astype(np.float32))
    if spec.holidays:
        days = wall.normalize()
        known = _country_holidays(spec.holidays, sorted(set(days.year)))
        flag = np.fromiter((d.date() in known for d in days), dtype=bool, count=len(days))
        blocks.append(flag.astype(np.float32)[:, None])
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(wall), 0), np.float32)


def static_matrix(spec: CovariateSpec, static, panel) -> np.ndarray:
    """The static covariates of ``panel``'s series, shape (n_series, len(spec.static_names)):
    numeric columns as they are, categories one-hot in the order seen at fit."""
    if not spec.needs_static:
        return np.zeros((panel.n_series, 0), np.float32)
    if static is None:
        raise CovariateError("the model was fitted with static covariates; pass static=")
    rows = static_frame(static, panel).set_index(panel.id_col).reindex(panel.ids)
    cols = [*spec.static_numeric, *(c for c, _ in spec.static_categories)]
    missing = [c for c in cols if c not in rows.columns]
    if missing:
        raise CovariateError(f"static has no column {missing[0]!r}")
    check_static_rows(rows[cols], panel)
    blocks = [rows[list(spec.static_numeric)].to_numpy(np.float64)]
    for col, cats in spec.static_categories:
        lookup = {c: j for j, c in enumerate(cats)}
        codes = np.empty(panel.n_series, np.int64)
        for i, v in enumerate(rows[col].astype(object)):
            if v not in lookup:
                raise CovariateError(f"static column {col!r} of series {panel.ids[i]!r} is "
                                     f"{v!r}, a category not seen at fit ({list(cats)})")
            codes[i] = lookup[v]
        blocks.append(np.eye(len(cats))[codes])
    matrix = np.concatenate(blocks, axis=1)
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        raise CovariateError(f"static holds a non-finite value for series "
                             f"{panel.ids[int(np.flatnonzero(bad)[0])]!r}")
    return matrix.astype(np.float32)


def _country_holidays(country: str, years) -> Any:
    from forecastkit._optional import optional_import

    holidays = optional_import("holidays", "holidays", "a holidays= covariate")
    try:
        return holidays.country_holidays(country, years=list(years))
    except (NotImplementedError, KeyError):
        raise CovariateError(f"the holidays package knows no country {country!r}") from None


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v
