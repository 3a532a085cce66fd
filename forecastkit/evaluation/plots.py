"""Plots of a comparison: forecasts against actuals (with 80% and 95% bands when the forecasts
carry quantiles), error distributions, error by horizon step, and calibration.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``) rather than pyplot,
so they render with the Agg backend in scripts, servers and tests without touching the user's
global backend or opening windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from forecastkit.evaluation.scoring import INTERVALS, calibration
from forecastkit.exceptions import InvalidInputError
from forecastkit.forecasters._probabilistic import quantile_name

__all__ = ["plot_forecasts", "plot_error_distribution", "plot_error_by_step", "plot_calibration"]

# Opacity of each band: the narrower (80%) band is drawn darker, over the 95% one.
_BAND_ALPHA = {95: 0.12, 80: 0.25}

_DPI = 110


def _save(fig: Figure, path) -> Figure:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=_DPI, bbox_inches="tight")
    return fig


def _x(values) -> np.ndarray:
    """Time stamps matplotlib can draw (periods become timestamps)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(values).to_timestamp().to_numpy()
    return np.asarray(values)


def plot_forecasts(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    ids=None,
    n_series: int = 6,
    tail: int | None = None,
    seed: int = 0,
    path=None,
    title: str = "Forecasts against actuals",
) -> Figure:
    """One panel per series: the training tail, the actuals and every model's forecast.

    Where the forecasts carry the quantiles of a central interval (``q0.025``/``q0.975`` for
    95%, ``q0.1``/``q0.9`` for 80%; or ``lo-95``/``hi-95`` and ``lo-80``/``hi-80``), each
    model's interval is drawn as a band in its colour; the legend names the bands.

    Parameters
    ----------
    forecasts : pd.DataFrame
        Backtest/compare output ``unique_id, ds, cutoff, y, y_pred, model``; with several windows,
        the last window is drawn.
    history : pd.DataFrame
        Long frame ``unique_id, ds, y`` with the history up to (at least) the cutoff.
    ids : sequence, optional
        Series to draw; default: ``n_series`` drawn at random with ``seed``.
    tail : int, optional
        Training points shown before the cutoff; default three horizons.
    path : str or Path, optional
        Where to save a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if "window" in forecasts:
        forecasts = forecasts[forecasts["window"] == forecasts["window"].max()]
    all_ids = forecasts["unique_id"].drop_duplicates().to_numpy()
    if ids is None:
        rng = np.random.default_rng(seed)
        ids = rng.choice(all_ids, size=min(n_series, len(all_ids)), replace=False)
    ids = list(ids)
    models = list(dict.fromkeys(forecasts["model"]))
    horizon = int(forecasts.groupby(["model", "unique_id"]).size().max())
    tail = 3 * horizon if tail is None else tail

    ncols = 2 if len(ids) > 1 else 1
    nrows = int(np.ceil(len(ids) / ncols))
    fig = Figure(figsize=(6.5 * ncols, 2.8 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    colors = _colors(len(models))
    bands = {c: cols for c in INTERVALS if (cols := _band_columns(forecasts, c))}
    for ax, sid in zip(axes, ids, strict=False):
        f = forecasts[forecasts["unique_id"] == sid]
        cutoff = f["cutoff"].iloc[0]
        h = history[(history["unique_id"] == sid) & (history["ds"] <= cutoff)].tail(tail)
        ax.plot(_x(h["ds"]), h["y"], color="black", lw=1.4, label="history")
        actual = f[f["model"] == models[0]]
        ax.plot(_x(actual["ds"]), actual["y"], color="black", lw=1.4, ls="--", label="actual")
        for model, color in zip(models, colors, strict=True):
            g = f[f["model"] == model]
            ax.plot(_x(g["ds"]), g["y_pred"], color=color, lw=1.2, label=model)
            _draw_bands(ax, g, bands, color, model)
        ax.axvline(_x(pd.Series([cutoff]))[0], color="grey", lw=0.8, ls=":")
        ax.set_title(f"series {sid}", fontsize=10)
        ax.set_xlabel("time")
        ax.set_ylabel("value")
    for ax in axes[len(ids):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    if bands:
        from matplotlib.patches import Patch

        for c in sorted(bands, reverse=True):
            handles.append(Patch(color="grey", alpha=2 * _BAND_ALPHA[c], lw=0))
            labels.append(f"{c}% interval")
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 8),
               fontsize=9, frameon=False)
    fig.suptitle(title)
    return _save(fig, path)


def plot_error_distribution(
    per_series: pd.DataFrame,
    metric: str = "smape",
    path=None,
    title: str | None = None,
) -> Figure:
    """Box plot of a per-series metric for each model, best median first.

    Parameters
    ----------
    per_series : pd.DataFrame
        Columns ``model`` and ``metric`` (e.g. the output of :func:`backtest_metrics`).
    metric : str
        Column to draw.
    """
    data = per_series.replace([np.inf, -np.inf], np.nan).dropna(subset=[metric])
    order = data.groupby("model")[metric].median().sort_values().index.tolist()
    fig = Figure(figsize=(max(5.0, 1.1 * len(order) + 2), 4.2), layout="constrained")
    ax = fig.subplots()
    ax.boxplot(
        [data.loc[data["model"] == m, metric].to_numpy() for m in order],
        tick_labels=order,
        showfliers=False,
        showmeans=True,
        meanprops={"marker": "^", "markerfacecolor": "white", "markeredgecolor": "black"},
    )
    ax.plot([], [], "^", color="black", mfc="white", label="mean")
    ax.plot([], [], "-", color="C1", label="median (box: quartiles, whiskers: 1.5 IQR)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel("model")
    ax.set_ylabel(f"{_label(metric)} per series")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_title(title or f"{_label(metric)} distribution over series (outliers not drawn)")
    return _save(fig, path)


def plot_error_by_step(
    forecasts: pd.DataFrame,
    metric: str = "smape",
    path=None,
    title: str | None = None,
) -> Figure:
    """Mean error at each step of the horizon, one line per model.

    Parameters
    ----------
    forecasts : pd.DataFrame
        Backtest/compare output ``unique_id, ds, cutoff, y, y_pred, model``.
    metric : {"smape", "mae", "ape"}
        Per-step error: symmetric APE (the terms of sMAPE), absolute error, or APE.
    """
    f = forecasts.copy()
    keys = ["model", "unique_id", "cutoff"]
    f["step"] = f.groupby(keys, sort=False).cumcount() + 1
    err = np.abs(f["y"] - f["y_pred"])
    if metric == "smape":
        den = np.abs(f["y"]) + np.abs(f["y_pred"])
        # Only an exact 0/0 step is 0 error; NaN stays NaN (as in metrics.smape).
        f["err"] = np.where(den != 0, 200.0 * err / den.where(den != 0, 1.0), 0.0)
    elif metric == "ape":
        f["err"] = 100.0 * err / np.abs(f["y"])
    elif metric == "mae":
        f["err"] = err
    else:
        raise ValueError(f"metric must be 'smape', 'ape' or 'mae', got {metric!r}")
    table = f.groupby(["step", "model"])["err"].mean().unstack("model")
    models = list(dict.fromkeys(forecasts["model"]))
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for model, color in zip(models, _colors(len(models)), strict=True):
        ax.plot(table.index, table[model], marker="o", ms=3, color=color, label=model)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("forecast step (1 = first step after the cutoff)")
    ax.set_ylabel(f"mean {_label(metric)}")
    ax.set_title(title or f"{_label(metric)} by horizon step")
    ax.legend(fontsize=8, ncols=2)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _band_columns(forecasts: pd.DataFrame, c: int) -> tuple[str, str] | None:
    """The lower and upper columns of the central ``c``% interval, if ``forecasts`` has them."""
    lo, hi = INTERVALS[c]
    for cols in ((quantile_name(lo), quantile_name(hi)), (f"lo-{c}", f"hi-{c}")):
        if cols[0] in forecasts and cols[1] in forecasts:
            return cols
    return None


def _draw_bands(ax, rows: pd.DataFrame, bands: dict, color, model: str) -> None:
    """Fill each interval of one model (labels start with "_": kept out of the legend, which
    shows one entry per interval instead of one per model and interval)."""
    for c, (lo, hi) in sorted(bands.items(), reverse=True):
        if rows[lo].isna().all():
            continue  # a model scored on point forecasts only
        ax.fill_between(_x(rows["ds"]), rows[lo].to_numpy(dtype=np.float64),
                        rows[hi].to_numpy(dtype=np.float64), color=color,
                        alpha=_BAND_ALPHA[c], lw=0, label=f"_{model} {c}%")


def plot_calibration(forecasts: pd.DataFrame, path=None, title: str | None = None) -> Figure:
    """Calibration of quantile forecasts: for each model, the observed share of actuals at
    or below each quantile against its nominal level, with the diagonal of perfect
    calibration.

    Parameters
    ----------
    forecasts : pd.DataFrame
        Backtest/compare output with ``model``, ``y`` and quantile columns ``q<level>``;
        every window counts. Models without quantiles are left out.
    path : str or Path, optional
        Where to save a PNG.

    Returns
    -------
    matplotlib.figure.Figure
        One line per model; the values are :func:`forecastkit.evaluation.scoring.calibration`.

    Raises
    ------
    InvalidInputError
        No model of ``forecasts`` has quantiles.
    """
    table = calibration(forecasts)
    if table.empty or not len(table.columns):
        raise InvalidInputError("the forecasts carry no quantiles (q<level> columns) to "
                                "calibrate; run the backtest with quantiles=[...]")
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    models = list(table.columns)
    for model, color in zip(models, _colors(len(models)), strict=True):
        ax.plot(table.index, table[model], marker="o", ms=4, color=color, label=model)
    # A little room past 0 and 1, where a badly calibrated model's points often sit.
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("nominal level of the quantile")
    ax.set_ylabel("observed share of actuals at or below it")
    ax.set_title(title or "Calibration of the quantile forecasts")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _label(metric: str) -> str:
    return {"smape": "sMAPE (%)", "mase": "MASE", "mae": "MAE", "rmse": "RMSE",
            "mape": "MAPE (%)", "ape": "APE (%)", "rmsse": "RMSSE"}.get(metric, metric)


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]
