"""Missing values in what a forecaster is given: masked, interpolated or refused.

Every forecaster reads its input through :func:`checked_panel`. NaN values are accepted there
(leading NaN dropped: the series starts late) and handled by the forecaster's policy, its
``missing`` parameter where it has one (RNNForecaster: ``"mask"`` by default), else
``"interpolate"``: the classical baselines and the combinations fill the gaps first, as
statsmodels' and the M4 methods need a complete series, and say so in one warning.

Time stamps missing from a series' regular grid (a day without a row) are, by the same
policy, missing values: unless ``missing="raise"``, a long frame or a series with gaps gets a
NaN row at each missing stamp (:func:`~forecastkit.data.fill_gaps`, one warning) and those are
masked or interpolated like any NaN. An irregular or mixed frequency stays an error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecastkit.data.frames import Panel, to_panel
from forecastkit.data.missing import fill_gaps, interpolate_panel, missing_counts
from forecastkit.exceptions import ForecastkitWarning, FrequencyError, MissingValuesError

__all__ = ["checked_panel", "missing_policy", "MISSING_POLICIES"]

MISSING_POLICIES = ("mask", "interpolate", "raise")


def _with_gaps_filled(y, name: str) -> Panel:
    """The panel of ``y`` with a NaN at every time stamp missing from its series' regular
    grid (:func:`~forecastkit.data.fill_gaps`), for a forecaster that handles missing values.
    A stamp off the grid or a mix of frequencies stays a FrequencyError, naming the series."""
    series_name = y.name if isinstance(y, pd.Series) else None
    frame = y if isinstance(y, pd.DataFrame) else pd.DataFrame(
        {"unique_id": "series" if series_name is None else series_name,
         "ds": y.index, "y": y.to_numpy()})
    if not {"unique_id", "ds", "y"} <= set(frame.columns):
        raise FrequencyError("irregular time stamps in a wide frame; give a long frame "
                             "(unique_id, ds, y) so that gaps can be filled per series")
    filled = fill_gaps(frame)
    added = filled.attrs.get("gaps_filled", {})
    warnings.warn(
        f"{name}: {sum(added.values())} missing time stamp(s) in {len(added)} series were "
        f"added as missing values (fill_gaps)",
        ForecastkitWarning,
        stacklevel=4,
    )
    if isinstance(y, pd.Series):
        return to_panel(pd.Series(filled["y"].to_numpy(), index=pd.Index(filled["ds"]),
                                  name=series_name), allow_missing=True)
    return to_panel(filled, allow_missing=True)


def missing_policy(forecaster) -> str:
    """The forecaster's ``missing`` parameter, or ``"interpolate"`` when it has none."""
    return getattr(forecaster, "missing", "interpolate")


def checked_panel(forecaster, y, *, record: bool = False) -> Panel:
    """``y`` as a panel, its missing values handled by the forecaster's policy.

    Parameters
    ----------
    forecaster : BaseForecaster
    y : pd.Series, pd.DataFrame or Panel
    record : bool
        Set ``forecaster.n_filled_`` (``fit`` does; forecasting new histories does not
        change a fitted forecaster).

    Returns
    -------
    Panel
        With NaN left in place under ``"mask"``, filled under ``"interpolate"``.

    Raises
    ------
    MissingValuesError
        Under ``"raise"``, naming the first series with a missing value; and in every case a
        series with no observed value.

    Warns
    -----
    ForecastkitWarning
        Once, when values were interpolated: how many, in how many series.
    """
    policy = missing_policy(forecaster)
    try:
        panel = to_panel(y, allow_missing=True)
    except FrequencyError as err:
        if policy == "raise" or not isinstance(y, pd.DataFrame | pd.Series):
            raise
        try:
            panel = _with_gaps_filled(y, type(forecaster).__name__)
        except FrequencyError as why:
            raise FrequencyError(f"{err} (gaps could not be filled here: {why})") from None
    counts = missing_counts(panel)
    filled = {}
    if counts.any() and policy == "raise":
        i = int(np.flatnonzero(counts)[0])
        raise MissingValuesError(
            f"series {panel.ids[i]!r} has {counts[i]} missing value(s) (NaN) and "
            f"{type(forecaster).__name__} was given missing='raise'"
        )
    if counts.any() and policy == "interpolate":
        from forecastkit.forecasters._scoring import season_length_of

        m = int(season_length_of(forecaster))
        panel, counts = interpolate_panel(panel, m)
        hit = np.flatnonzero(counts)
        filled = {panel.ids[i]: int(counts[i]) for i in hit}
        rule = ("fill_missing 'auto': seasonal for runs of half a season or more, a line around "
                "the season for shorter ones, linear in a series without a season"
                if m >= 2 else "linear")
        warnings.warn(
            f"{type(forecaster).__name__}: {int(counts.sum())} missing value(s) in {len(hit)} "
            f"series were filled by interpolation ({rule}) before fitting/forecasting"
            + (" (n_filled_ counts them per series)" if record else ""),
            ForecastkitWarning,
            stacklevel=3,
        )
    if record:
        forecaster.n_filled_ = filled
    return panel
