"""Where a short gap ends and a long one begins: one rule for every gap filler.

A run of missing values at least ``LONG_GAP_SEASONS`` seasons long (a lost day of hourly data,
half a year of monthly data) is filled from the same season position of the neighbouring
cycles; a shorter one from its own neighbours. Kept apart from
:mod:`forecastkit.data.gap_filling` (Keras) so that the pandas filler
(:func:`forecastkit.data.fill_missing`) reads it without loading TensorFlow. How the value was
chosen: experiments/results/missing_data/lstm-m4-hourly-seasonfill/README.md.
"""

from __future__ import annotations

__all__ = ["LONG_GAP_SEASONS"]

LONG_GAP_SEASONS = 0.5
