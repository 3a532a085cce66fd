"""Data pipelines: frames -> windows -> scaled tensors (and back).

TensorFlow is imported only by the tf.data pipelines (:func:`window_dataset`,
:func:`make_dataset`) and the Keras normalisation layers (loaded on first use), so the NumPy
parts load quickly.
"""

from typing import Any

from forecastkit.data.covariates import (
    CALENDAR_COVARIATES,
    Covariates,
    CovariateSpec,
    build_covariates,
    calendar_covariates,
)
from forecastkit.data.encoding import (
    calendar_feature_names,
    calendar_features,
    encode_ids,
    seasonal_position_onehot,
    start_ordinals,
)
from forecastkit.data.frames import Panel, check_min_length, from_panel_values, to_panel
from forecastkit.data.missing import (
    FILL_METHODS,
    fill_gaps,
    fill_missing,
    interpolate_panel,
    missing_counts,
    trim_leading_missing,
)
from forecastkit.data.padding import pad_sequences
from forecastkit.data.parquet import read_parquet_panel
from forecastkit.data.pipeline import WindowSource, make_dataset, window_dataset, window_source
from forecastkit.data.scaling import SCALER_METHODS, SeriesScaler
from forecastkit.data.short_series import drop_unusable_series
from forecastkit.data.splitters import RollingOriginCV, RollingOriginSplitter, Window
from forecastkit.data.window_plan import WindowPlan
from forecastkit.data.windowing import (
    gather_windows,
    last_windows,
    sliding_windows,
    train_val_split,
    validation_window_index,
    window_index,
)

__all__ = [
    "Panel",
    "CovariateSpec",
    "Covariates",
    "CALENDAR_COVARIATES",
    "build_covariates",
    "calendar_covariates",
    "to_panel",
    "from_panel_values",
    "check_min_length",
    "fill_gaps",
    "fill_missing",
    "drop_unusable_series",
    "read_parquet_panel",
    "interpolate_panel",
    "missing_counts",
    "trim_leading_missing",
    "FILL_METHODS",
    "sliding_windows",
    "window_index",
    "gather_windows",
    "train_val_split",
    "validation_window_index",
    "SeriesScaler",
    "SCALER_METHODS",
    "pad_sequences",
    "calendar_features",
    "calendar_feature_names",
    "seasonal_position_onehot",
    "encode_ids",
    "make_dataset",
    "window_dataset",
    "WindowPlan",
    "RollingOriginCV",
    "RollingOriginSplitter",
    "Window",
    "last_windows",
    "start_ordinals",
    "WindowNormalizer",
    "ForecastDenormalizer",
    "window_source",
    "WindowSource",
]


# Keras layers: importing them loads TensorFlow, so they resolve on first access.
_LAZY = {"WindowNormalizer", "ForecastDenormalizer"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from forecastkit.data import normalization

        return getattr(normalization, name)
    raise AttributeError(f"module 'forecastkit.data' has no attribute {name!r}")
