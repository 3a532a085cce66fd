"""Series a model cannot use, dropped on request with a record of each (instead of an error).

By default a series with nothing observed, or too short for a model, stops ``fit`` with an
error naming it. When a user prefers to forecast the rest, :func:`drop_unusable_series` drops
such series beforehand, trims the leading NaN of late starters, warns once and returns a
record of what it dropped and why.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecastkit.exceptions import ForecastkitWarning, InvalidInputError

__all__ = ["drop_unusable_series"]


def drop_unusable_series(y: pd.DataFrame, min_length: int = 1, *, id_col: str = "unique_id",
                         time_col: str = "ds", target_col: str = "y"
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop series with no observed value or fewer than ``min_length`` steps from their first
    observation on; trim the NaN before each kept series' first observation.

    Parameters
    ----------
    y : pd.DataFrame
        Long frame ``id_col, time_col, target_col`` (any row order; NaN allowed).
    min_length : int, default=1
        Fewest steps a series must keep after its leading NaN are trimmed; pass a model's
        ``min_train_length`` to keep only what it can fit.

    Returns
    -------
    kept : pd.DataFrame
        The rows of the kept series from their first observation on, in ``y``'s row order.
    dropped : pd.DataFrame
        One row per dropped series: ``id_col``, ``n_rows`` (rows in ``y``), ``n_usable``
        (rows from its first observation on), ``reason``.

    Warns
    -----
    ForecastkitWarning
        Once, naming how many series were dropped and the first of them.
    """
    if not isinstance(y, pd.DataFrame) or not {id_col, time_col, target_col} <= set(y.columns):
        raise InvalidInputError(f"expected a long DataFrame with columns {id_col!r}, "
                                f"{time_col!r} and {target_col!r}")
    if isinstance(min_length, bool) or not isinstance(min_length, int | np.integer) \
            or min_length < 1:
        raise InvalidInputError(f"min_length must be a positive integer, got {min_length!r}")
    # Positions, not labels: y's index may repeat.
    ordered = y.reset_index(drop=True).sort_values([id_col, time_col], kind="stable")
    observed = ordered[target_col].notna()
    started = observed.astype(int).groupby(ordered[id_col], sort=False).cummax().astype(bool)
    per_series = pd.DataFrame({"n_rows": ordered.groupby(id_col, sort=False).size(),
                               "n_usable": started.groupby(ordered[id_col], sort=False).sum()})
    empty = per_series["n_usable"] == 0
    short = ~empty & (per_series["n_usable"] < min_length)
    reasons = pd.Series(
        [("no observed value" if n == 0 else
          f"{n} steps from its first observation, fewer than {min_length}")
         for n in per_series["n_usable"]], index=per_series.index, dtype=object)
    dropped = per_series[empty | short].assign(reason=reasons[empty | short])
    dropped = dropped.rename_axis(id_col).reset_index()
    keep = (started & ~ordered[id_col].isin(dropped[id_col])).to_numpy()
    chosen = np.zeros(len(y), dtype=bool)
    chosen[ordered.index[keep].to_numpy()] = True
    if len(dropped):
        warnings.warn(
            f"dropped {len(dropped)} of {len(per_series)} series a model cannot use (e.g. "
            f"{dropped[id_col].iloc[0]!r}: {dropped['reason'].iloc[0]}); see the returned record",
            ForecastkitWarning, stacklevel=2,
        )
    return y[chosen], dropped
