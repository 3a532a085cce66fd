"""Pieces shared by the experiment scripts: flags, the RNN check, and report helpers."""

from __future__ import annotations

import argparse
import importlib
import shlex
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

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
    shutil.rmtree(out_dir / "units", ignore_errors=True)
    (out_dir / "manifest.json").unlink(missing_ok=True)


def header(title: str, command: str) -> list[str]:
    from forecastkit.evaluation.compare import machine_description

    return [
        f"# {title}",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_description()}",
        f"- Command: `{command}`",
        "",
    ]


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
        run when the base model is. On a set where validation kept the base model's defaults
        (no entry), the row repeats the base model's forecasts instead of refitting it.

    Returns
    -------
    dict of str to Comparison
    """
    import pandas as pd

    from forecastkit.datasets import load_dataset
    from forecastkit.evaluation.compare import compare, markdown_table, sample_series
    from forecastkit.evaluation.registry import MODELS, make_model, make_models, parse_names
    from forecastkit.exceptions import PersistenceError

    names = parse_names(args.models)
    if not rnn_available():
        dropped = [n for n in names if MODELS[n].kind == "rnn"]
        if dropped:
            print(f"RNNForecaster is not importable here: skipping {dropped}")
        names = [n for n in names if n not in dropped]
    command = command_line()
    out_root = args.out or RESULTS / study
    label = {"smape": "sMAPE", "owa": "OWA"}[metric]
    _check_set_names(sets, combinations, tuned)
    if getattr(args, "sets", None):
        wanted = args.sets.split(",")
        unknown = sorted(set(wanted) - set(sets))
        if unknown:
            raise SystemExit(f"unknown set(s) {unknown}; choose from {', '.join(sets)}")
        sets = {k: v for k, v in sets.items() if k in wanted}
    results, sizes = {}, {}
    for name, published in sets.items():
        train, test, info = load_dataset(name)
        if args.sample:
            train, test = sample_series(args.sample, args.seed, train, test)
        sizes[name] = train["unique_id"].nunique()
        out = out_root / name
        if args.fresh:
            reset(out)
        models = make_models(names, info.horizon, info.season_length, args.seed,
                             params=rnn_params)
        aliases = {}
        for tuned_name, (base, per_set) in (tuned or {}).items():
            if base not in names:
                continue
            if per_set.get(name):
                models[tuned_name] = make_model(base, info.horizon, info.season_length,
                                                args.seed, **per_set[name])
            else:
                aliases[tuned_name] = base
        set_combinations = {k: [base] for k, base in aliases.items()}
        for k, members in (combinations or {}).items():
            if isinstance(members, dict):
                members = members.get(name, [])
            members = [aliases.get(m, m) for m in members]
            if members and set(members) <= set(models) and k not in models:
                set_combinations[k] = members
        pub = pd.DataFrame(
            [(m, v) for m, v in published.items()],
            columns=["method", f"{label} (published, all {info.n_series} series)"],
        )
        print(f"\n== {name}: {sizes[name]} series, horizon {info.horizon}")
        try:
            res = compare(models, train, test, info.season_length, info.horizon, out,
                          published=pub, seed=args.seed, n_jobs=args.n_jobs,
                          progress=not args.no_progress, command=command,
                          title=f"{study.upper()}: {name} (official test split)",
                          combinations=set_combinations)
        except PersistenceError as err:
            raise SystemExit(f"{err}\n(add --fresh to start this set over)") from None
        print(res.table())
        results[name] = res

    rows = {}
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
    table = table.sort_values(table.columns[len(sets) if "average" in table else 0])
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
