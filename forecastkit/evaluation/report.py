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

__all__ = ["write_report", "heading", "metrics_table", "markdown_table",
           "machine_description", "command_line"]

PLOTS = {
    "forecasts.png": "Forecasts against actuals",
    "error_distribution.png": "sMAPE distribution per model",
    "error_by_step.png": "sMAPE by horizon step",
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
    if n_plot_series:
        _plot(result, out, n_plot_series)
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
    if published is not None and len(published):
        lines += ["## Published figures on this data", "", markdown_table(published), ""]
    if n_plot_series:
        lines += ["## Plots", ""]
        for name, caption in PLOTS.items():
            lines += [f"![{caption}]({name})", ""]
    lines += [
        "Files: `metrics.csv` (this table), `per_series.csv.gz` (every metric of every series "
        "and model), `forecasts.csv.gz` (every forecast with its actual).",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path


def _plot(result, out: Path, n_series: int) -> None:
    from forecastkit.evaluation.plots import (
        plot_error_by_step,
        plot_error_distribution,
        plot_forecasts,
    )

    plot_forecasts(result.forecasts, result.train, n_series=n_series,
                   path=out / "forecasts.png")
    plot_error_distribution(result.per_series, "smape", path=out / "error_distribution.png")
    plot_error_by_step(result.forecasts, "smape", path=out / "error_by_step.png")


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
