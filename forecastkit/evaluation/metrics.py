"""The metrics under their earlier name: :mod:`forecastkit.metrics` is where they live.

Kept so that ``from forecastkit.evaluation.metrics import smape`` goes on working; new code
imports :mod:`forecastkit.metrics`.
"""

from forecastkit.metrics import *  # noqa: F403
from forecastkit.metrics import __all__  # noqa: F401
