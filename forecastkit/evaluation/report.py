"""Reports of a comparison: a Markdown page with the ranked table, CSVs and plots.

:func:`write_report` takes what :func:`~forecastkit.evaluation.compare.compare` returned and
writes it to a folder; the small helpers (:func:`markdown_table`, :func:`machine_description`,
:func:`heading`) serve the experiment scripts' reports as well.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from forecastkit.evaluation.scoring import calibration, quantile_columns
from forecastkit.evaluation.tracking import log_report

__all__ = ["write_report", "heading", "metrics_table", "probabilistic_table", "markdown_table",
           "machine_description", "command_line"]

PLOTS = {
    "forecasts.png": "Forecasts against actuals",
    "error_distribution.png": "sMAPE distribution per model",
    "error_by_step.png": "sMAPE by horizon step",
}
# Added to every report whose forecasts carry quantiles.
PROBABILISTIC_PLOTS = {
    "calibration.png": "Calibration: nominal level against the observed share of actuals at or "
                       "below each quantile",
}

# Column -> header of the probabilistic table, in order.
_PROBABILISTIC_HEADERS = {
    "coverage_95": "coverage 95%", "acd_95": "ACD 95%", "msis_95": "MSIS 95%",
    "coverage_80": "coverage 80%", "acd_80": "ACD 80%", "msis_80": "MSIS 80%",
    "pinball": "scaled pinball", "crps": "CRPS",
}


def write_report(
    result,
    out_dir,
    *,
    title: str = "Model comparison",
    notes: str | None = None,
    published: pd.DataFrame | None = None,
    command: str | None = None,
    n_plot_series: int = 6,
) -> Path:
    """Write ``report.md``, ``metrics.csv``, ``per_series.csv.gz``, ``forecasts.csv.gz`` and
    the plots of a comparison to ``out_dir``.

    When the forecasts carry quantiles the report adds a table of the probabilistic scores
    (coverage, ACD, MSIS, scaled pinball, CRPS), names the models scored on point forecasts
    only, draws 80%/95% bands in ``forecasts.png`` and a calibration plot
    (``calibration.png``), and writes the calibration values to ``calibration.csv``.

    Parameters
    ----------
    result : Comparison
        What :func:`~forecastkit.evaluation.compare.compare` returned.
    out_dir : str or Path
        Created if missing (it may be the folder ``compare`` kept its units in).
    title, notes : str, optional
        Report heading, and free text placed under it.
    published : pd.DataFrame, optional
        Published figures to print beside ours (any columns, e.g. ``method, smape, source``).
    command : str, optional
        The command that produced the results; default: this process' command line.
        A comparison logged to MLflow (``compare(..., tracking_uri=...)``) gets these files
        as its run's artifacts.
    n_plot_series : int, default=6
        Series drawn in ``forecasts.png``; 0 draws no plots at all.

    Returns
    -------
    Path
        The path of ``report.md``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(out / "metrics.csv", float_format="%.6g")
    result.per_series.to_csv(out / "per_series.csv.gz", index=False, float_format="%.6g")
    result.forecasts.to_csv(out / "forecasts.csv.gz", index=False)
    probabilistic = result.is_probabilistic
    if probabilistic:
        calibration(result.forecasts).to_csv(out / "calibration.csv", float_format="%.6g")
    if n_plot_series:
        _plot(result, out, n_plot_series, probabilistic)
    lines = [
        *heading(title, command, notes),
        f"- Data: {result.forecasts['unique_id'].nunique()} series, horizon {result.horizon}, "
        f"season length {result.season_length}",
        "",
        "## Accuracy (ranked by OWA; means over series)",
        "",
        "OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2 from the set-level means, as M4 "
        "computes it. `seconds`: fit + forecast wall time of each model, summed over its units "
        "of work (parallel units add up), measured on the machine above.",
        "",
        metrics_table(result.metrics),
        "",
    ]
    if probabilistic:
        lines += _probabilistic_section(result)
    if published is not None and len(published):
        lines += ["## Published figures on this data", "", markdown_table(published), ""]
    if n_plot_series:
        lines += ["## Plots", ""]
        plots = {**PLOTS, **(PROBABILISTIC_PLOTS if probabilistic else {})}
        for name, caption in plots.items():
            lines += [f"![{caption}]({name})", ""]
    files = ("Files: `metrics.csv` (this table), `per_series.csv.gz` (every metric of every "
             "series and model), `forecasts.csv.gz` (every forecast with its actual)")
    if probabilistic:
        files += ", `calibration.csv` (the calibration plot's values)"
    lines += [files + ".", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    if getattr(result, "tracking", None) is not None:
        log_report(result.tracking, out)
    return path


def _probabilistic_section(result) -> list[str]:
    levels = ", ".join(format(v, "g") for v in quantile_columns(result.forecasts))
    lines = [
        "## Probabilistic scores (means over series)",
        "",
        f"Quantile levels forecast: {levels}. Coverage: share of actuals inside the central "
        "interval (95%: quantiles 0.025-0.975; 80%: 0.1-0.9); ACD = |coverage - nominal| of "
        "the mean coverage; MSIS: M4's mean scaled interval score; scaled pinball: the mean "
        "quantile loss over all levels divided by the in-sample seasonal-naive MAE; CRPS: "
        "approximated from the quantiles, in the data's units. Lower is better except for "
        "coverage.",
        "",
        probabilistic_table(result.metrics),
        "",
    ]
    point_only = _point_only_models(result.metrics)
    if point_only:
        names = ", ".join(f"`{m}`" for m in point_only)
        lines += [f"Scored on point forecasts only (no quantiles): {names}; their "
                  "probabilistic scores are left empty.", ""]
    return lines


def _point_only_models(metrics: pd.DataFrame) -> list[str]:
    cols = [c for c in _PROBABILISTIC_HEADERS if c in metrics]
    if not cols:
        return []
    empty = metrics[cols].isna().all(axis=1)
    return [str(m) for m in metrics.index[empty]]


def _plot(result, out: Path, n_series: int, probabilistic: bool) -> None:
    from forecastkit.evaluation.plots import (
        plot_calibration,
        plot_error_by_step,
        plot_error_distribution,
        plot_forecasts,
    )

    plot_forecasts(result.forecasts, result.train, n_series=n_series,
                   path=out / "forecasts.png")
    plot_error_distribution(result.per_series, "smape", path=out / "error_distribution.png")
    plot_error_by_step(result.forecasts, "smape", path=out / "error_by_step.png")
    if probabilistic:
        plot_calibration(result.forecasts, path=out / "calibration.png")


def heading(title: str, command: str | None = None, notes: str | None = None) -> list[str]:
    """The first lines of a report: title, notes, date, machine and command (default: this
    process' command line)."""
    return [
        f"# {title}",
        "",
        *([notes, ""] if notes else []),
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_description()}",
        f"- Command: `{command or command_line()}`",
    ]


def metrics_table(metrics: pd.DataFrame) -> str:
    """A comparison's ranked metrics (:attr:`Comparison.metrics`) as a Markdown table."""
    shown = metrics.reset_index()
    keep = ["model", "smape", "mase", "owa", "rank_smape", "rank_mase", "rank_owa",
            "mae", "rmse", "seconds"]
    shown = shown[[c for c in keep if c in shown]]
    return markdown_table(shown.rename(columns={
        "smape": "sMAPE", "mase": "MASE", "owa": "OWA", "rank_smape": "rank sMAPE",
        "rank_mase": "rank MASE", "rank_owa": "rank OWA", "mae": "MAE", "rmse": "RMSE",
    }))


def probabilistic_table(metrics: pd.DataFrame) -> str:
    """A comparison's probabilistic scores (columns of :attr:`Comparison.metrics`) as a
    Markdown table, in the metrics' order (best OWA first)."""
    shown = metrics.reset_index()
    cols = [c for c in _PROBABILISTIC_HEADERS if c in shown]
    return markdown_table(shown[["model", *cols]].rename(columns=_PROBABILISTIC_HEADERS))


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub Markdown table (written here to avoid needing ``tabulate``)."""

    def fmt(v) -> str:
        if isinstance(v, float | np.floating):
            if np.isnan(v):
                return ""
            return f"{v:.{digits}f}" if abs(float(v)) < 1e6 else f"{v:.4g}"
        return "" if v is pd.NA else str(v)

    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def machine_description() -> str:
    """CPU model, core count, OS, Python version and load (no host name)."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ""
    if hasattr(os, "getloadavg"):
        # Timings mean little without it: a shared machine runs other work too.
        load = f", load average {os.getloadavg()[0]:.1f} when the report was written"
    return (f"{cpu or 'unknown CPU'}, {cores} cores available, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}{load}")


def command_line() -> str:
    """This process' command line, quoted for a shell."""
    return " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
