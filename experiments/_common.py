"""Pieces shared by the experiment scripts: flags, the RNN check, and report helpers."""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
from pathlib import Path

import pandas as pd

from forecastkit.evaluation.report import markdown_table

RESULTS = Path(__file__).resolve().parent / "results"


def rnn_available() -> bool:
    """Whether ``RNNForecaster`` can be imported here (it needs TensorFlow)."""
    try:
        importlib.import_module("forecastkit.forecasters.rnn").RNNForecaster  # noqa: B018
    except Exception:  # any failure means: run the baselines only
        return False
    return True


def parser(description: str, models: list[str], sample: int | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--models", default=",".join(models),
                   help="comma-separated names from `forecastkit models` (default: %(default)s)")
    p.add_argument("--sample", type=int, default=sample, metavar="N",
                   help="N series per set, drawn at random with --seed (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample and the models")
    p.add_argument("--n-jobs", type=int, default=-1, help="parallel workers (-1: all cores)")
    p.add_argument("--fresh", action="store_true",
                   help="discard finished units of an earlier run instead of resuming it")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--sets", default=None,
                   help="comma-separated subset of the study's datasets (default: all)")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default: experiments/results/<study>)")
    return p


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(Path.cwd())
    except ValueError:
        pass
    return " ".join(shlex.quote(a) for a in ["python", str(script), *sys.argv[1:]])


def reset(out_dir: Path) -> None:
    """Forget an earlier run's finished units (its report is overwritten anyway)."""
    from forecastkit.evaluation.store import ResultStore

    ResultStore(out_dir).clear()


def header(title: str, command: str) -> list[str]:
    from forecastkit.evaluation.report import heading

    return [*heading(title, command), ""]


def _check_set_names(sets, combinations, tuned) -> None:
    """Per-set entries of ``combinations``/``tuned`` must name the study's sets (a typo would
    otherwise silently fall back to the base model)."""
    per_set = {f"combination {k!r}": v for k, v in (combinations or {}).items()
               if isinstance(v, dict)}
    per_set.update({f"tuned row {k!r}": v[1] for k, v in (tuned or {}).items()})
    for what, entries in per_set.items():
        unknown = sorted(set(entries) - set(sets))
        if unknown:
            raise SystemExit(f"{what} names unknown set(s) {unknown}; the study's sets are "
                             f"{', '.join(sets)}")


def run_sets(study: str, sets: dict[str, dict[str, float]], metric: str, args,
             rnn_params: dict[str, dict], notes: str = "",
             published_extra: dict[str, dict[str, float]] | None = None,
             combinations: dict[str, list[str] | dict[str, list[str]]] | None = None,
             tuned: dict[str, tuple[str, dict[str, dict]]] | None = None) -> dict:
    """Compare ``args.models`` on each dataset of ``sets`` and write one study report.

    Parameters
    ----------
    study : str
        Folder under experiments/results/.
    sets : dict
        Dataset name -> published figures ``{method: value}`` of ``metric``.
    metric : {"smape", "owa"}
        The headline metric of the published table.
    args : argparse.Namespace
        From :func:`parser`.
    rnn_params : dict
        Per-model parameter overrides for :func:`make_models`.
    notes : str
        Text under the report's heading (e.g. where the published figures come from).
    published_extra : dict, optional
        Further columns of the published table, e.g. ``{"average": {"Theta": 13.01}}``.
    combinations : dict, optional
        Rows that average other models' forecasts, e.g. ``{"lstm+theta": ["lstm", "theta"]}``,
        or with members per set (``{"best": {"m3-other": ["lstm"], ...}}``, e.g. a choice made
        per set on validation windows); kept only when all their members ran.
    tuned : dict, optional
        Rows of a registry model refitted with parameters chosen per set on validation windows
        (experiments/select_rnn.py), e.g. ``{"lstm-tuned": ("lstm", {"m3-other": {...}})}``;
        run when the base model is, or when named in ``--models`` itself (then without the
        base). On a set where validation kept the base model's defaults (no entry), the row
        repeats the base model's forecasts instead of refitting it.

    Returns
    -------
    dict of str to Comparison
    """
    # A tuned row can be asked for by name, to fit it without its base model.
    from forecastkit.evaluation.registry import MODELS

    names = runnable(args.models, {k: MODELS[base].kind != "rnn" or rnn_available()
                                   for k, (base, _) in (tuned or {}).items()})
    command = command_line()
    out_root = args.out or RESULTS / study
    label = {"smape": "sMAPE", "owa": "OWA"}[metric]
    _check_set_names(sets, combinations, tuned)
    sets = _chosen_sets(sets, getattr(args, "sets", None))
    results = {
        name: _run_set(study, name, published, label, names, args, rnn_params, combinations,
                       tuned, out_root / name, command)
        for name, published in sets.items()
    }
    sizes = {name: res.forecasts["unique_id"].nunique() for name, res in results.items()}
    table = _study_table(results, sets, sizes, metric)
    pub = pd.DataFrame({name: pd.Series(p) for name, p in {**sets, **(published_extra or {})}
                        .items()})
    lines = header(f"{study.upper()}: our models beside the baselines and the published results",
                   command)
    lines += [
        f"- Series per set: {', '.join(f'{k} {v}' for k, v in sizes.items())}"
        + (f" (a sample drawn with seed {args.seed})" if args.sample else " (all)"),
        "",
        *([notes, ""] if notes else []),
        f"## Ours: {label} per set (official test split)",
        "",
        markdown_table(table.rename_axis("model").reset_index()),
        "",
        "`seconds`: fit + forecast wall time over all sets. Per-set reports: "
        + ", ".join(f"[{n}]({n}/report.md)" for n in sets) + ".",
        "",
        f"## Published {label} (all series of each set)",
        "",
        markdown_table(pub.rename_axis("method").reset_index()),
        "",
    ]
    (out_root / "report.md").write_text("\n".join(lines))
    print(f"\nReport: {out_root / 'report.md'}")
    return results


def runnable(models: str, extra: dict[str, bool] | None = None) -> list[str]:
    """The model names asked for, without the networks when TensorFlow is missing.

    ``extra``: names a study builds itself (not in the registry) -> whether they can run here;
    those that cannot are skipped with a message. An unknown name stops the study, named.
    """
    from forecastkit.evaluation.registry import MODELS

    extra = extra or {}
    names = [n for n in (part.strip() for part in models.split(",")) if n]
    unknown = [n for n in names if n not in MODELS and n not in extra]
    if unknown or not names:
        raise SystemExit(f"unknown model name(s) {unknown}; valid names: "
                         f"{', '.join([*MODELS, *extra])}")
    unavailable = [n for n in names if n in extra and not extra[n]]
    if unavailable:
        print(f"not importable here: skipping {unavailable}")
    if not rnn_available():
        dropped = [n for n in names if n not in extra and MODELS[n].kind == "rnn"]
        if dropped:
            print(f"RNNForecaster is not importable here: skipping {dropped}")
        unavailable += dropped
    return [n for n in names if n not in unavailable]


def load_set(name: str, sample: int | None, seed: int):
    """``(train, test, info)`` of a dataset, or of ``sample`` of its series drawn with
    ``seed``."""
    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.compare import sample_series

    train, test, info = load_dataset(name)
    if sample:
        train, test = sample_series(sample, seed, train, test)
    return train, test, info


def compare_set(models: dict, train, test, info, args, out: Path, **kwargs):
    """:func:`forecastkit.evaluation.compare` of ``models`` on one dataset, resumable in
    ``out`` (``args.fresh`` starts it over); ``kwargs`` go to ``compare``."""
    from forecastkit.evaluation.compare import compare
    from forecastkit.exceptions import PersistenceError

    if args.fresh:
        reset(out)
    try:
        return compare(models, train, test, horizon=info.horizon,
                       season_length=info.season_length, out_dir=out, seed=args.seed,
                       n_jobs=args.n_jobs, progress=not args.no_progress, **kwargs)
    except PersistenceError as err:
        raise SystemExit(f"{err}\n(add --fresh to start this set over)") from None


def _chosen_sets(sets: dict, wanted: str | None) -> dict:
    if not wanted:
        return sets
    chosen = wanted.split(",")
    unknown = sorted(set(chosen) - set(sets))
    if unknown:
        raise SystemExit(f"unknown set(s) {unknown}; choose from {', '.join(sets)}")
    return {k: v for k, v in sets.items() if k in chosen}


def _set_models(name: str, names: list[str], info, args, rnn_params, combinations, tuned):
    """The models of one set and its combinations (tuned rows with no parameters for this set
    become one-member combinations repeating their base model)."""
    from forecastkit.evaluation.registry import make_model, make_models

    build = {"horizon": info.horizon, "season_length": info.season_length, "seed": args.seed}
    tuned = tuned or {}
    models = make_models([n for n in names if n not in tuned], params=rnn_params, **build)
    aliases = {}
    for tuned_name, (base, per_set) in tuned.items():
        if base in names and not per_set.get(name):
            aliases[tuned_name] = base
        elif base in names or tuned_name in names:
            models[tuned_name] = make_model(base, **build, **per_set.get(name, {}))
    set_combinations = {k: [base] for k, base in aliases.items()}
    for k, members in (combinations or {}).items():
        if isinstance(members, dict):
            members = members.get(name, [])
        members = [aliases.get(m, m) for m in members]
        if members and set(members) <= set(models) and k not in models:
            set_combinations[k] = members
    return models, set_combinations


def _run_set(study, name, published, label, names, args, rnn_params, combinations, tuned, out,
             command):
    """Compare the models on one dataset and write its report; returns the Comparison."""
    from forecastkit.evaluation.report import write_report

    train, test, info = load_set(name, args.sample, args.seed)
    models, set_combinations = _set_models(name, names, info, args, rnn_params, combinations,
                                           tuned)
    pub = pd.DataFrame(
        [(m, v) for m, v in published.items()],
        columns=["method", f"{label} (published, all {info.n_series} series)"],
    )
    print(f"\n== {name}: {train['unique_id'].nunique()} series, horizon {info.horizon}")
    res = compare_set(models, train, test, info, args, out, combinations=set_combinations)
    write_report(res, out, title=f"{study.upper()}: {name} (official test split)",
                 published=pub, command=command)
    print(res.table())
    return res


def _study_table(results: dict, sets: dict, sizes: dict, metric: str) -> pd.DataFrame:
    """``metric`` per model (rows) and set (columns), the series-weighted average of sMAPE
    over sets, and the seconds summed over sets."""
    rows: dict = {}
    for name, res in results.items():
        for model, row in res.metrics.iterrows():
            rows.setdefault(model, {})[name] = row[metric]
            rows[model].setdefault("seconds", 0.0)
            rows[model]["seconds"] += row.get("seconds", float("nan"))
    table = pd.DataFrame.from_dict(rows, orient="index")[[*sets, "seconds"]]
    if metric == "smape" and len(sets) > 1:
        # The set-level average is over all series, as the M3 tables are.
        weights = pd.Series(sizes)
        table.insert(len(sets), "average", (table[list(sets)] * weights).sum(axis=1,
                     min_count=len(sets)) / weights.sum())
    return table.sort_values(table.columns[len(sets) if "average" in table else 0])
