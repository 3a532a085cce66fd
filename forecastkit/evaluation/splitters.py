"""Rolling-origin splits of a panel (re-exported from :mod:`forecastkit.data.splitters`, where
they live so that forecasters can calibrate on rolling origins without importing evaluation)."""

from forecastkit.data.splitters import RollingOriginCV, RollingOriginSplitter, Window

__all__ = ["RollingOriginCV", "RollingOriginSplitter", "Window"]
