"""Missing values in what a forecaster is given: masked, interpolated or refused.

Every forecaster reads its input through :func:`checked_panel`. NaN values are accepted there
(leading NaN dropped: the series starts late) and handled by the forecaster's policy, its
``missing`` parameter where it has one (RNNForecaster: ``"mask"`` by default), else
``"interpolate"``: the classical baselines and the combinations fill the gaps first, as
statsmodels' and the M4 methods need a complete series, and say so in one warning.
"""

from __future__ import annotations

import warnings

import numpy as np

from forecastkit.data.frames import Panel, to_panel
from forecastkit.data.missing import interpolate_panel, missing_counts
from forecastkit.exceptions import ForecastkitWarning, MissingValuesError

__all__ = ["checked_panel", "missing_policy", "MISSING_POLICIES"]

MISSING_POLICIES = ("mask", "interpolate", "raise")


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
    panel = to_panel(y, allow_missing=True)
    counts = missing_counts(panel)
    policy = missing_policy(forecaster)
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
        warnings.warn(
            f"{type(forecaster).__name__}: {int(counts.sum())} missing value(s) in {len(hit)} "
            f"series were filled by {'seasonal' if m >= 2 else 'linear'} interpolation "
            f"before fitting/forecasting"
            + (" (n_filled_ counts them per series)" if record else ""),
            ForecastkitWarning,
            stacklevel=3,
        )
    if record:
        forecaster.n_filled_ = filled
    return panel
