"""Data pipelines: frames -> windows -> scaled tensors (and back)."""

from forecastkit.data.frames import Panel, check_min_length, from_panel_values, to_panel

__all__ = ["Panel", "to_panel", "from_panel_values", "check_min_length"]
