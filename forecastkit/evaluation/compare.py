"""Compare models on a train/test split: ranked metrics, per-series metrics, a report and plots.

``compare`` is a backtest with one window whose cutoff is the end of the training data, so it
runs in parallel, shows progress and resumes from ``out_dir`` exactly as :func:`backtest` does.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from forecastkit.data.frames import to_panel
from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.exceptions import InvalidInputError

__all__ = [
    "Comparison",
    "compare",
    "summarize_models",
    "sample_series",
    "markdown_table",
    "machine_description",
]

NAIVE2 = "naive2"


@dataclass
class Comparison:
    """What :func:`compare` produced.

    Attributes
    ----------
    metrics : pd.DataFrame
        One row per model, best OWA first: ``smape, mase, owa, mae, rmse, mape, rmsse`` (means
        over series; OWA against Naive2 from those means, as M4 computes it), the rank of each
        model by sMAPE, MASE and OWA, and ``seconds`` (fit + predict wall time).
    per_series : pd.DataFrame
        One row per model and series, one column per metric.
    forecasts : pd.DataFrame
        ``unique_id, ds, cutoff, y, y_pred, model, window``.
    out_dir : Path or None
        Where ``metrics.csv``, ``per_series.csv.gz``, ``forecasts.csv.gz``, ``report.md`` and
        the PNG plots were written.
    """

    metrics: pd.DataFrame
    per_series: pd.DataFrame
    forecasts: pd.DataFrame
    out_dir: Path | None = None

    @property
    def report_path(self) -> Path | None:
        return None if self.out_dir is None else self.out_dir / "report.md"

    def table(self) -> str:
        """The ranked metrics as a Markdown table."""
        return markdown_table(_display(self.metrics))


def compare(
    models,
    train: pd.DataFrame,
    test: pd.DataFrame,
    season_length: int,
    horizon: int,
    out_dir=None,
    *,
    published: pd.DataFrame | None = None,
    seed: int | None = 0,
    n_jobs: int | None = -1,
    backend: Literal["joblib", "dask"] = "joblib",
    scheduler=None,
    progress: bool = True,
    plots: bool = True,
    n_plot_series: int = 6,
    title: str = "Model comparison",
    command: str | None = None,
    notes: str | None = None,
    combinations: dict[str, list[str]] | None = None,
) -> Comparison:
    """Fit each model on ``train``, forecast ``test``'s horizon, rank and report.

    Parameters
    ----------
    models : dict of str to forecaster, or list of str
        Unfitted forecasters by name, or names from :func:`forecastkit.evaluation.registry.
        list_models` (built for ``horizon``/``season_length`` with ``seed``). Naive2 is added
        when missing, since OWA is relative to it.
    train, test : pd.DataFrame
        Long frames ``unique_id, ds, y``; ``test`` holds exactly ``horizon`` points of every
        training series, right after its end (e.g. the M3/M4 official split).
    season_length, horizon : int
    out_dir : str or Path, optional
        Folder for the report, CSVs and plots; finished models are kept in ``out_dir/units``
        (listed in ``out_dir/manifest.json``) so a rerun skips them.
    published : pd.DataFrame, optional
        Published figures to print beside ours (any columns, e.g. ``method, smape, owa,
        source``).
    seed, n_jobs, backend, scheduler, progress
        As in :func:`backtest`.
    plots : bool, default=True
        Draw ``forecasts.png``, ``error_distribution.png`` and ``error_by_step.png`` (needs
        ``out_dir``).
    n_plot_series : int
        Series drawn in ``forecasts.png``.
    title, command, notes : str, optional
        Report heading, the command that produced it (default: this process' command line),
        and free text placed under the heading.
    combinations : dict of str to list of str, optional
        Extra rows ``{"lstm+theta": ["lstm", "theta"]}``: the mean of the named models'
        forecasts, scored like any model (its run time is the sum of its members').

    Returns
    -------
    Comparison
    """
    models = _resolve(models, horizon, season_length, seed)
    full = _join(train, test, horizon)
    # The run's units, manifest.json and units/, sit beside the report in out_dir.
    cv = backtest(models, full, horizon, n_windows=1, n_jobs=n_jobs, backend=backend,
                  scheduler=scheduler, out_dir=out_dir, progress=progress)
    if combinations:
        cv = add_combinations(cv, combinations)
    per_series = backtest_metrics(cv, full, season_length)
    metrics = summarize_models(per_series, seconds=cv.attrs.get("seconds"))
    result = Comparison(metrics=metrics, per_series=per_series, forecasts=cv)
    if out_dir is not None:
        result.out_dir = Path(out_dir)
        _write(result, full, published, n_plot_series if plots else 0, title, command, notes,
               horizon=horizon, season_length=season_length)
    return result


def add_combinations(cv: pd.DataFrame, combinations: dict[str, list[str]]) -> pd.DataFrame:
    """Append the mean forecast of groups of models to a backtest frame.

    Parameters
    ----------
    cv : pd.DataFrame
        Output of :func:`~forecastkit.evaluation.backtest.backtest` (all members present).
    combinations : dict of str to list of str
        New model name -> names of the models whose forecasts are averaged.

    Returns
    -------
    pd.DataFrame
        ``cv`` with one block of rows per combination; ``attrs["seconds"]`` gets the members' sum.
    """
    seconds = dict(cv.attrs.get("seconds", {}))
    keys = ["unique_id", "ds", "cutoff", "window"]
    blocks = [cv]
    for name, members in combinations.items():
        missing = [m for m in members if m not in set(cv["model"])]
        if missing:
            raise InvalidInputError(f"combination {name!r} needs model(s) {missing}, not run")
        part = cv[cv["model"].isin(members)]
        combined = part.groupby(keys, sort=False).agg(y=("y", "first"), y_pred=("y_pred", "mean"))
        combined = combined.reset_index().assign(model=name)[cv.columns]
        blocks.append(combined)
        seconds[name] = float(sum(seconds.get(m, np.nan) for m in members))
    out = pd.concat(blocks, ignore_index=True)
    out.attrs["seconds"] = seconds
    return out


def summarize_models(
    per_series: pd.DataFrame, naive2: str = NAIVE2, seconds: dict | None = None
) -> pd.DataFrame:
    """Means over series per model, OWA against ``naive2``, and ranks.

    Parameters
    ----------
    per_series : pd.DataFrame
        Output of :func:`backtest_metrics` (all windows are averaged together).
    naive2 : str
        Name of the Naive2 model in ``per_series``; without it OWA is NaN.
    seconds : dict, optional
        Model -> run time, added as a column.

    Returns
    -------
    pd.DataFrame
        Indexed by model, sorted by OWA (then sMAPE).
    """
    from forecastkit.evaluation.metrics import METRICS, owa

    cols = [c for c in METRICS if c in per_series]
    means = per_series.groupby("model", sort=False)[cols].mean()
    if naive2 in means.index:
        ref = means.loc[naive2]
        means["owa"] = [owa(r.smape, r.mase, ref.smape, ref.mase) for r in means.itertuples()]
    else:
        means["owa"] = np.nan
    order = ["smape", "mase", "owa"] + [c for c in cols if c not in ("smape", "mase")]
    means = means[order]
    for col in ("smape", "mase", "owa"):
        means[f"rank_{col}"] = means[col].rank(method="min").astype("Int64")
    if seconds is not None:
        means["seconds"] = [seconds.get(m, np.nan) for m in means.index]
    means.index.name = "model"
    return means.sort_values(["owa", "smape"], kind="stable")


# --------------------------------------------------------------------------- inputs


def sample_series(n: int, seed: int | None, *frames: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """The same ``n`` series, drawn at random with ``seed``, from each long frame.

    Series keep the order they have in the first frame. ``n`` larger than the number of series
    keeps them all.
    """
    if n < 1:
        raise InvalidInputError(f"the sample size must be >= 1, got {n}")
    ids = frames[0]["unique_id"].drop_duplicates().to_numpy()
    if n < len(ids):
        chosen = np.random.default_rng(seed).choice(len(ids), size=n, replace=False)
        ids = ids[np.sort(chosen)]
    return tuple(f[f["unique_id"].isin(ids)].reset_index(drop=True) for f in frames)


def _resolve(models, horizon: int, season_length: int, seed) -> dict:
    from forecastkit.evaluation.registry import make_model, make_models

    if isinstance(models, str) or not isinstance(models, dict):
        models = make_models(models, horizon, season_length, seed)
    models = dict(models)
    if NAIVE2 not in models:
        if any(type(f).__name__ == "Naive2" for f in models.values()):
            raise InvalidInputError(
                f"name the Naive2 model {NAIVE2!r}: OWA is computed against that name"
            )
        models[NAIVE2] = make_model(NAIVE2, horizon, season_length, seed)
    return models


def _join(train: pd.DataFrame, test: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Train then test rows of each series, after checking that test is one horizon of each."""
    tr, te = to_panel(train), to_panel(test)
    missing = set(tr.ids) - set(te.ids)
    extra = set(te.ids) - set(tr.ids)
    if missing or extra:
        sid = sorted(missing or extra, key=str)[0]
        where = "test" if missing else "train"
        raise InvalidInputError(f"series {sid!r} is not in {where}; train and test need the "
                                f"same series")
    bad = np.flatnonzero(te.lengths != horizon)
    if len(bad):
        i = bad[0]
        raise InvalidInputError(
            f"series {te.ids[i]!r} has {te.lengths[i]} test points; compare needs exactly "
            f"horizon={horizon} per series"
        )
    cols = [tr.id_col, tr.time_col, tr.target_col]
    # to_panel sorts by series with a stable sort, so each series' train rows stay before its
    # test rows; it then rejects test stamps that do not come after the training ones.
    full = pd.concat([train[cols], test[cols]], ignore_index=True)
    to_panel(full)
    return full


# --------------------------------------------------------------------------- report


def _write(result, full, published, n_plot_series, title, command, notes, *, horizon,
           season_length) -> None:
    from forecastkit.evaluation.plots import (
        plot_error_by_step,
        plot_error_distribution,
        plot_forecasts,
    )

    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(out / "metrics.csv", float_format="%.6g")
    result.per_series.to_csv(out / "per_series.csv.gz", index=False, float_format="%.6g")
    result.forecasts.to_csv(out / "forecasts.csv.gz", index=False)
    if n_plot_series:
        plot_forecasts(result.forecasts, full, n_series=n_plot_series,
                       path=out / "forecasts.png")
        plot_error_distribution(result.per_series, "smape", path=out / "error_distribution.png")
        plot_error_by_step(result.forecasts, "smape", path=out / "error_by_step.png")

    n_series = result.forecasts["unique_id"].nunique()
    lines = [
        f"# {title}",
        "",
        *([notes, ""] if notes else []),
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_description()}",
        f"- Command: `{command or _command_line()}`",
        f"- Data: {n_series} series, horizon {horizon}, season length {season_length}",
        "",
        "## Accuracy (ranked by OWA; means over series)",
        "",
        "OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2 from the set-level means, as M4 "
        "computes it. `seconds`: fit + forecast wall time of each model, summed over its units "
        "of work (parallel units add up), measured on the machine above.",
        "",
        result.table(),
        "",
    ]
    if published is not None and len(published):
        lines += ["## Published figures on this data", "", markdown_table(published), ""]
    if n_plot_series:
        lines += [
            "## Plots",
            "",
            "![Forecasts against actuals](forecasts.png)",
            "",
            "![sMAPE distribution per model](error_distribution.png)",
            "",
            "![sMAPE by horizon step](error_by_step.png)",
            "",
        ]
    lines += [
        "Files: `metrics.csv` (this table), `per_series.csv.gz` (every metric of every series "
        "and model), `forecasts.csv.gz` (every forecast with its actual).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))


def _display(metrics: pd.DataFrame) -> pd.DataFrame:
    shown = metrics.reset_index()
    keep = ["model", "smape", "mase", "owa", "rank_smape", "rank_mase", "rank_owa",
            "mae", "rmse", "seconds"]
    shown = shown[[c for c in keep if c in shown]]
    return shown.rename(columns={"smape": "sMAPE", "mase": "MASE", "owa": "OWA",
                                 "rank_smape": "rank sMAPE", "rank_mase": "rank MASE",
                                 "rank_owa": "rank OWA", "mae": "MAE", "rmse": "RMSE"})


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


def _command_line() -> str:
    return " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
