"""Encodings of time and of series identity: one-hot calendar features and series ids.

Calendar features follow the frequency: the seasonal cycle a forecaster most needs to know.

========================  ========================  =======
frequency                 feature                   columns
========================  ========================  =======
hourly (and finer)        hour of day               24
daily, business daily     day of week               7
weekly                    ISO week of year          53
monthly, semi-monthly     month of year             12
quarterly                 quarter of year           4
yearly                    none                      0
integer time              ``t mod season_length``   season_length
========================  ========================  =======
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from forecastkit.data.timezones import to_wall_clock, uses_wall_clock
from forecastkit.exceptions import FrequencyError, InvalidInputError

__all__ = [
    "calendar_features",
    "calendar_feature_names",
    "seasonal_position_onehot",
    "encode_ids",
    "start_ordinals",
]

# field name -> (number of categories, first value): one-hot column j means field == first + j
_FIELDS = {
    "hour": (24, 0),
    "day_of_week": (7, 0),
    "weekofyear": (53, 1),
    "month": (12, 1),
    "quarter": (4, 1),
}


def _field_for(freq) -> str | None:
    """The calendar field that carries the seasonality of ``freq`` (None for yearly)."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError):
        raise FrequencyError(f"unknown frequency {freq!r}") from None
    o = pd.offsets
    if isinstance(offset, o.Hour | o.Minute | o.Second | o.Milli | o.Micro | o.Nano):
        return "hour"
    if isinstance(offset, o.Day | o.BusinessDay | o.CustomBusinessDay):
        return "day_of_week"
    if isinstance(offset, o.Week):
        return "weekofyear"
    month_like = (
        o.MonthBegin, o.MonthEnd, o.BusinessMonthBegin, o.BusinessMonthEnd,
        o.SemiMonthBegin, o.SemiMonthEnd, o.CustomBusinessMonthBegin, o.CustomBusinessMonthEnd,
    )  # fmt: skip
    if isinstance(offset, month_like):
        return "month"
    if isinstance(offset, o.QuarterBegin | o.QuarterEnd | o.BQuarterBegin | o.BQuarterEnd):
        return "quarter"
    if isinstance(offset, o.YearBegin | o.YearEnd | o.BYearBegin | o.BYearEnd):
        return None
    raise FrequencyError(f"no calendar features are defined for frequency {offset.freqstr!r}")


def calendar_feature_names(freq=None, season_length: int | None = None) -> list[str]:
    """Column names of :func:`calendar_features` for the same arguments."""
    if freq is None:
        return [f"season_{j}" for j in range(_season(season_length))]
    field = _field_for(freq)
    if field is None:
        return []
    n, first = _FIELDS[field]
    return [f"{field}_{first + j}" for j in range(n)]


def _season(season_length) -> int:
    if season_length is None:
        raise InvalidInputError(
            "integer time stamps carry no calendar; pass season_length to one-hot the position "
            "in the season"
        )
    if isinstance(season_length, bool) or not isinstance(season_length, int | np.integer):
        raise InvalidInputError(f"season_length must be an integer, got {season_length!r}")
    if season_length < 1:
        raise InvalidInputError(f"season_length must be >= 1, got {season_length}")
    return int(season_length)


def calendar_features(
    times, freq=None, season_length: int | None = None, dtype=np.float32
) -> np.ndarray:
    """One-hot calendar features of time stamps, chosen by frequency (see the module table).

    Parameters
    ----------
    times : array-like of shape (n,)
        ``datetime64`` values, a ``DatetimeIndex``/``PeriodIndex``, or integers (with
        ``freq=None`` and a ``season_length``).
    freq : str or pandas.DateOffset, optional
        Frequency of the stamps (``Panel.freq``); ``None`` for integer time.
    season_length : int, optional
        For integer time: one-hot of ``t mod season_length``.
    dtype : numpy dtype

    Returns
    -------
    ndarray of shape (n, k)
        Exactly one 1 per row (``k = 0`` for yearly data); columns are
        :func:`calendar_feature_names`.
    """
    if freq is None:
        return seasonal_position_onehot(times, _season(season_length), dtype=dtype)
    field = _field_for(freq)
    if isinstance(times, pd.PeriodIndex):
        times = times.to_timestamp()
    try:
        idx = pd.DatetimeIndex(np.asarray(times)) if not isinstance(times, pd.Index) else times
        idx = pd.DatetimeIndex(idx)
    except (TypeError, ValueError):
        raise InvalidInputError("calendar_features needs datetime time stamps") from None
    if field is None:
        return np.zeros((len(idx), 0), dtype=dtype)
    n, first = _FIELDS[field]
    if field == "weekofyear":
        codes = idx.isocalendar().week.to_numpy().astype(np.int64)
    else:
        codes = np.asarray(getattr(idx, field), dtype=np.int64)
    return _onehot(codes - first, n, dtype)


def seasonal_position_onehot(t, season_length: int, dtype=np.float32) -> np.ndarray:
    """One-hot of ``t mod season_length`` for integer time stamps.

    Parameters
    ----------
    t : array-like of int, shape (n,)
    season_length : int

    Returns
    -------
    ndarray of shape (n, season_length)
    """
    season_length = _season(season_length)
    t = np.asarray(t)
    if not np.issubdtype(t.dtype, np.integer):
        raise InvalidInputError(f"integer time stamps expected, got dtype {t.dtype}")
    return _onehot(np.mod(t.astype(np.int64), season_length), season_length, dtype)


def _onehot(codes: np.ndarray, n: int, dtype) -> np.ndarray:
    out = np.zeros((len(codes), n), dtype=dtype)
    out[np.arange(len(codes)), codes] = 1
    return out


def encode_ids(
    ids, kind: Literal["onehot", "integer"] = "onehot", mapping: dict | None = None
) -> tuple[np.ndarray, dict]:
    """Encode series ids as integers or one-hot rows, with a mapping to reuse at predict time.

    Parameters
    ----------
    ids : array-like of shape (n,)
        Series ids (repeats allowed).
    kind : {"onehot", "integer"}
        ``"integer"`` gives codes for an embedding layer; ``"onehot"`` gives one column per
        known series.
    mapping : dict, optional
        ``{id: code}`` from an earlier call (fit time). Without it, a new mapping numbers the ids
        in order of first appearance. With it, an id not in the mapping is an error.

    Returns
    -------
    encoded : ndarray of shape (n,) int64, or (n, n_ids) float32
    mapping : dict
        ``{id: code}``; store it with the model and pass it back at predict time.
    """
    if kind not in ("onehot", "integer"):
        raise InvalidInputError(f"kind must be 'onehot' or 'integer', got {kind!r}")
    ids = np.asarray(ids, dtype=object).ravel()
    if mapping is None:
        uniques = pd.unique(ids)
        mapping = {u: i for i, u in enumerate(uniques.tolist())}
    keys = pd.Index(list(mapping), dtype=object)
    pos = keys.get_indexer(ids)
    unknown = np.flatnonzero(pos < 0)
    if len(unknown):
        raise InvalidInputError(
            f"series {ids[unknown[0]]!r} was not seen when the id encoding was fitted "
            f"({len(mapping)} known series); a global model with id features cannot "
            f"forecast a new series"
        )
    codes = np.asarray(list(mapping.values()), dtype=np.int64)[pos]
    if kind == "integer":
        return codes, mapping
    return _onehot(codes, len(mapping), np.float32), mapping


def start_ordinals(panel) -> np.ndarray:
    """Each series' first time stamp as a count of steps from a fixed epoch, shape (n_series,).

    For calendar data this is pandas' period ordinal (months since 1970-01 for monthly data...),
    so ``ordinal % 12`` is the month of year minus one; for integer time it is ``t // step``.
    The seasonal position of step ``k`` of series ``i`` is ``(start_ordinals(panel)[i] + k) % m``.
    """
    starts = panel.times[panel.indptr[:-1]]
    if panel.index_kind == "integer":
        return (starts // panel.step).astype(np.int64)
    tz = getattr(panel, "tz", None)
    if uses_wall_clock(panel.freq, tz):
        # Days, weeks and months count in the series' own clock (Monday in Berlin, not in UTC).
        starts = to_wall_clock(starts, tz)
    dt = pd.DatetimeIndex(starts)
    alias = panel.freq.freqstr if panel.freq is not None else None
    for candidate in (alias, period_alias(alias)):
        try:
            return np.asarray(dt.to_period(candidate).asi8, dtype=np.int64)
        except (ValueError, TypeError, AttributeError):
            continue
    # A frequency with no period equivalent: count fixed-length steps since the epoch.
    if alias is None:
        raise FrequencyError("calendar time stamps without a frequency have no seasonal position")
    step = pd.Timedelta(pd.tseries.frequencies.to_offset(alias)).value
    return (starts.astype(np.int64) // step).astype(np.int64)


def period_alias(alias: str | None) -> str | None:
    """The pandas period alias of a frequency alias: "MS" (month start) -> "M"."""
    if alias is None:
        return None
    # Period frequencies name the span, not its anchor: "MS" (month start) is the period "M".
    pairs = (("BMS", "M"), ("BME", "M"), ("BQS", "Q"), ("BQE", "Q"), ("BYS", "Y"), ("BYE", "Y"),
             ("MS", "M"), ("ME", "M"), ("QS", "Q"), ("QE", "Q"), ("YS", "Y"), ("YE", "Y"))
    for start, period in pairs:
        if alias.startswith(start):
            return period + alias[len(start) :]
    return alias
