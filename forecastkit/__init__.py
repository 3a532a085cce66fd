"""forecastkit: time-series forecasting with well-built Keras recurrent networks.

Heavy parts (TensorFlow, statsmodels) load on first use, so ``import forecastkit`` is quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from forecastkit import exceptions
from forecastkit.exceptions import ForecastkitError

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": ("forecastkit.datasets", None),
    "data": ("forecastkit.data", None),
    "layers": ("forecastkit.layers", None),
    "forecasters": ("forecastkit.forecasters", None),
    "evaluation": ("forecastkit.evaluation", None),
    "metrics": ("forecastkit.metrics", None),
    "baselines": ("forecastkit.forecasters.baselines", None),
    "RNNForecaster": ("forecastkit.forecasters.rnn", "RNNForecaster"),
    "backtest": ("forecastkit.evaluation.backtest", "backtest"),
    "compare": ("forecastkit.evaluation.compare", "compare"),
    "tune": ("forecastkit.evaluation.tuning", "tune"),
    "export": ("forecastkit.export", None),
    "export_saved_model": ("forecastkit.export.saved_model", "export_saved_model"),
    "load": ("forecastkit.export.persistence", "load"),
}

__all__ = ["ForecastkitError", "exceptions", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'forecastkit' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
