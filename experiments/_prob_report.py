"""Scoring and report of the probabilistic study (experiments/probabilistic.py).

The point metrics of the study score the median: every model that forecast quantiles has its
``y_pred`` replaced by its ``q0.5`` before sMAPE, MASE and OWA are computed (for the networks'
heads, the conformal wrapper and the Gaussian baselines the two are the same; for a model
whose intervals are simulated they may differ). Point-only rows keep their ``y_pred``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from _common import command_line, header

from forecastkit.evaluation.compare import Comparison, summarize_models
from forecastkit.evaluation.report import markdown_table, write_report
from forecastkit.evaluation.scoring import backtest_metrics, quantile_columns

GOAL_ACD = 0.02
GOAL_OWA_RATIO = 1.01
MSIS_REFERENCE = "sf-autoets"
# Columns of the per-set and summary tables -> headers.
COLUMNS = {
    "coverage_95": "coverage 95%", "acd_95": "ACD 95%", "msis_95": "MSIS 95%",
    "coverage_80": "coverage 80%", "acd_80": "ACD 80%", "pinball": "scaled pinball",
    "crps": "CRPS", "smape": "sMAPE", "owa": "OWA", "seconds": "seconds",
}


# --------------------------------------------------------------------------- scoring


def median_scored(res: Comparison, test: pd.DataFrame, point_reference: str,
                  recommended: str) -> Comparison:
    """``res`` re-scored on the medians, with the point reference row added when it did not run.

    The reference (lstm-validated's point forecast) is the ``y_pred`` of the conformal wrapper
    around it: the wrapper's point forecast *is* lstm-validated fitted on the same data with
    the same seed. A reference that ran itself is kept as it is.
    """
    cv = res.forecasts.copy()
    seconds = dict(res.forecasts.attrs.get("seconds", {}))
    models = set(cv["model"])
    if point_reference not in models and recommended in models:
        ref = res.forecasts[res.forecasts["model"] == recommended].copy()
        ref[list(quantile_columns(ref).values())] = np.nan
        ref["model"] = point_reference
        cv = pd.concat([cv, ref], ignore_index=True)
        seconds[point_reference] = np.nan  # not run separately: its cost is in the wrapper's
    return _rescored(cv, res.train, test, res.horizon, res.season_length, seconds)


def with_sampled(scored: Comparison, sampled: Comparison, test: pd.DataFrame) -> Comparison:
    """The models of ``scored`` restricted to the series of ``sampled`` (a comparison run on a
    sample of them), beside ``sampled``'s own models; seconds only for the latter."""
    ids = set(test["unique_id"])
    base = scored.forecasts[scored.forecasts["unique_id"].isin(ids)]
    own = sampled.forecasts[~sampled.forecasts["model"].isin(set(base["model"]))]
    seconds = {m: s for m, s in sampled.forecasts.attrs.get("seconds", {}).items()
               if m in set(own["model"])}
    cv = pd.concat([base, _median_as_point(own)], ignore_index=True)
    return _rescored(cv, sampled.train, test, scored.horizon, scored.season_length, seconds)


def _median_as_point(cv: pd.DataFrame) -> pd.DataFrame:
    if "q0.5" not in cv:
        return cv
    cv = cv.copy()
    has = cv["q0.5"].notna()
    cv.loc[has, "y_pred"] = cv.loc[has, "q0.5"]
    return cv


def _rescored(cv, train, test, horizon, season_length, seconds) -> Comparison:
    cv = _median_as_point(cv)
    full = pd.concat([train[["unique_id", "ds", "y"]], test[["unique_id", "ds", "y"]]],
                     ignore_index=True)
    per_series = backtest_metrics(cv, full, season_length)
    metrics = summarize_models(per_series, seconds=seconds)
    cv.attrs["seconds"] = seconds
    return Comparison(metrics=metrics, per_series=per_series, forecasts=cv, train=train,
                       horizon=horizon, season_length=season_length)


# --------------------------------------------------------------------------- goals


def goals(metrics: pd.DataFrame, recommended: str, point_reference: str) -> dict:
    """The issue-17 goals on one set's (median-scored) metrics: values and whether each is met
    (None where a model they need did not run)."""
    def get(model, col):
        return float(metrics.loc[model, col]) if model in metrics.index and \
            col in metrics and pd.notna(metrics.loc[model, col]) else None

    acd = get(recommended, "acd_95")
    msis, msis_ref = get(recommended, "msis_95"), get(MSIS_REFERENCE, "msis_95")
    owa, owa_ref = get(recommended, "owa"), get(point_reference, "owa")
    return {
        "acd": acd, "acd_met": None if acd is None else acd <= GOAL_ACD,
        "msis": msis, "msis_ref": msis_ref,
        "msis_met": None if msis is None or msis_ref is None else msis < msis_ref,
        "owa": owa, "owa_ref": owa_ref,
        "owa_met": None if owa is None or owa_ref is None else owa <= GOAL_OWA_RATIO * owa_ref,
    }


def meeting_both(metrics: pd.DataFrame) -> list[str]:
    """Models with ACD 95% <= the goal and MSIS below the reference's, on one set."""
    if MSIS_REFERENCE not in metrics.index or "msis_95" not in metrics:
        return []
    ref = metrics.loc[MSIS_REFERENCE, "msis_95"]
    ok = (metrics["acd_95"] <= GOAL_ACD) & (metrics["msis_95"] < ref)
    return [str(m) for m in metrics.index[ok]]


def _mark(met) -> str:
    return "n/a" if met is None else ("yes" if met else "no")


def _goals_table(parts: dict, recommended: str, point_reference: str) -> str:
    rows = []
    for name, part in parts.items():
        g = goals(part["result"].metrics, recommended, point_reference)
        ratio = g["owa"] / g["owa_ref"] if g["owa"] and g["owa_ref"] else np.nan
        rows.append({
            "set": name, "ACD 95%": g["acd"], f"ACD <= {GOAL_ACD}": _mark(g["acd_met"]),
            "MSIS 95%": g["msis"], f"MSIS {MSIS_REFERENCE}": g["msis_ref"],
            "MSIS below": _mark(g["msis_met"]), "OWA of median": g["owa"],
            f"OWA {point_reference}": g["owa_ref"], "ratio": ratio,
            "within 1%": _mark(g["owa_met"]),
            "models meeting both interval goals": ", ".join(meeting_both(
                part["result"].metrics)) or "none",
        })
    return markdown_table(pd.DataFrame(rows).fillna(np.nan))


# --------------------------------------------------------------------------- tables


def metrics_table(metrics: pd.DataFrame, crps: bool = True) -> str:
    """Best MSIS 95% first (point-only rows last, by OWA). ``crps=False`` leaves out the CRPS,
    which is in the data's units: a mean over sets of different scales means nothing."""
    order = [c for c in ("msis_95", "owa") if c in metrics]
    shown = metrics.sort_values(order, kind="stable", na_position="last").reset_index()
    cols = [c for c in COLUMNS if c in shown and (crps or c != "crps")]
    return markdown_table(shown[["model", *cols]].rename(columns=COLUMNS))


def summary(comparisons: list[Comparison], keep: set[str] | None = None) -> pd.DataFrame:
    """Means over all series of all sets (OWA and ACD from them, as M4 computes them), and the
    seconds summed over sets, of the models in ``keep`` (default: all)."""
    per_series = pd.concat([c.per_series for c in comparisons], ignore_index=True)
    if keep is not None:
        per_series = per_series[per_series["model"].isin(keep | {"naive2"})]
    seconds: dict[str, float] = {}
    for c in comparisons:
        for m, s in c.forecasts.attrs.get("seconds", {}).items():
            seconds[m] = seconds.get(m, 0.0) + s
    return summarize_models(per_series, seconds=seconds)


def write_set_report(part: dict, name: str, out: Path, args) -> None:
    """The per-set reports: out/report.md (all series), out/sampled/report.md (the sample)."""
    note = ("sMAPE, MASE and OWA score the median (q0.5) of every model that forecast "
            "quantiles, the point forecast of the others (experiments/_prob_report.py).")
    write_report(part["result"], out, title=f"Probabilistic study: {name} (official test split)",
                 notes=note, command=command_line())
    if "sampled" in part:
        write_report(part["sampled"], out / "sampled", command=command_line(),
                     title=f"Probabilistic study: {name}, {part['sample_size']} series sampled "
                           f"with seed {args.seed} (official test split)", notes=note)


def write_study_report(parts: dict, out: Path, args, names: list[str], config: dict) -> Path:
    """experiments/results/probabilistic/report.md: goals, all-sets summaries, one table per set."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        sf_version = version("statsforecast")
    except PackageNotFoundError:
        sf_version = "not installed"
    recommended, reference = config["recommended"], config["point_reference"]
    sizes = ", ".join(f"{k} {p['n_series']}" for k, p in parts.items())
    lines = header("Probabilistic forecasts: coverage, MSIS, pinball and OWA of the median",
                   command_line())
    lines += [
        f"- Series per set: {sizes}" + (f" (a sample drawn with seed {args.seed})"
                                         if args.sample else " (all)"),
        f"- Quantile levels: {', '.join(format(v, 'g') for v in config['levels'])}; 95% "
        "interval = 0.025-0.975, 80% = 0.1-0.9.",
        f"- statsforecast {sf_version} (AutoETS, AutoARIMA) in the same run, through "
        "experiments/_statsforecast.py.",
    ]
    if config["fast"]:
        lines.append(f"- **--fast: networks trained with {config['fast']}; a check of the "
                     "pipeline, not a measurement.**")
    sampled_where = {k: p for k, p in parts.items() if "sampled" in p}
    if sampled_where:
        lines.append(
            f"- {', '.join(config['sampled'])} ran on a seeded sample of series where slow: "
            + ", ".join(f"{k} {p['sample_size']} of {p['n_series']}"
                        for k, p in sampled_where.items())
            + f" (seed {args.seed}); elsewhere on all series. Their rows are in the "
            "'sample' tables, beside every other model scored on the same series.")
    not_run = {k: p["not_run"] for k, p in parts.items() if p.get("not_run")}
    if not_run:
        lines.append("- Not run (the report was written from the stored units with "
                     "--report-only): " + "; ".join(f"{k}: {', '.join(v)}"
                                                    for k, v in not_run.items()) + ".")
    lines += ["", *_method_notes(parts, recommended, reference), ""]
    lines += [
        "## Goals (issue 17), per set",
        "",
        f"For the recommended configuration `{recommended}`: ACD of the 95% interval <= "
        f"{GOAL_ACD}; MSIS below statsforecast AutoETS's (`{MSIS_REFERENCE}`) in the same run; "
        f"OWA of its median no worse than {GOAL_OWA_RATIO:.2f} x the OWA of `{reference}`'s "
        "point forecast. n/a: a model the goal needs did not run.",
        "",
        _goals_table(parts, recommended, reference),
        "",
    ]
    everywhere = set.intersection(*(set(p["result"].metrics.index) for p in parts.values()))
    lines += [
        "## All sets: means over all series",
        "",
        "Rows: best MSIS 95% first. Means over the series of all sets; ACD from the mean "
        "coverage and OWA from the mean sMAPE and MASE against Naive2's, as M4 computes them. "
        "Models that ran on every series of every set only. `seconds`: fit + forecast over "
        "all sets (parallel units add up).",
        "",
        metrics_table(summary([p["result"] for p in parts.values()], everywhere), crps=False),
        "",
    ]
    if sampled_where:
        on_sample = [p.get("sampled", p["result"]) for p in parts.values()]
        lines += [
            f"### All sets, on the {', '.join(config['sampled'])} samples",
            "",
            "Every model on the sampled series only (all series of a set where nothing was "
            "sampled); `seconds` of the sampled models only.",
            "",
            metrics_table(summary(on_sample), crps=False),
            "",
        ]
    lines += ["## Per set", "", "Rows: best MSIS 95% first; point-only rows last.", ""]
    for name, part in parts.items():
        lines += [f"### {name} ({part['n_series']} series, horizon {part['info'].horizon})", "",
                  metrics_table(part["result"].metrics), ""]
        if "sampled" in part:
            lines += [f"Sample of {part['sample_size']} series (seed {args.seed}):", "",
                      metrics_table(part["sampled"].metrics), ""]
        lines += [f"Per-set report with plots: [{name}/report.md]({name}/report.md)"
                  + (f", sample: [{name}/sampled/report.md]({name}/sampled/report.md)"
                     if "sampled" in part else "") + ".", ""]
    path = out / "report.md"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path


def _method_notes(parts: dict, recommended: str, reference: str) -> list[str]:
    lines = [
        "## How",
        "",
        "Each model is fitted on the training part of every series and forecasts the official "
        "test horizon (forecastkit.evaluation.compare, quantiles at the levels above). "
        "sMAPE/MASE/OWA score the median (q0.5) of every model with quantiles; `naive2` is "
        "compare's own, for OWA. `lstm-quantile`, `lstm-normal`, `lstm-student-t`: "
        "RNNForecaster's defaults (a 3-member LSTM ensemble) with the multi-quantile head, the "
        "Gaussian and the Student-t heads; no head was chosen, all are measured. "
        f"`{recommended}`: ConformalIntervals around `{reference}` (the recommended point "
        "configuration), fixed as the recommended probabilistic configuration before any run "
        "(its median is that model's point forecast, so point accuracy is kept by "
        "construction). `ets`, `arima`, `theta`, `snaive`, `naive2`: forecastkit's baselines "
        "with their own intervals; `sf-autoets`, `sf-autoarima`: statsforecast's AutoETS and "
        "AutoARIMA with theirs.",
        "",
    ]
    if any(p.get("reference_derived") for p in parts.values()):
        lines += [f"`{reference}` (point only) is the point forecast of `{recommended}`: the "
                  f"wrapper's `y_pred` is `{reference}` fitted on the same training data with "
                  "the same seed, so it is not run a second time (its seconds are in the "
                  "wrapper's).", ""]
    settings = {k: p["settings"].get(recommended) for k, p in parts.items()
                if recommended in p["settings"]}
    if settings:
        lines += ["Conformal settings per set (no choice made on the test set: the number of "
                  "windows follows a fixed rule from the training data's sizes, the method is "
                  "experiments/select_conformal.py's choice on validation windows cut from the "
                  "training data, or the default):", ""]
        lines.append(markdown_table(pd.DataFrame(
            [{"set": k, **v} for k, v in settings.items()])))
    return lines
