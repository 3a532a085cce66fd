"""The ``forecastkit`` command: backtests and comparisons on the bundled datasets.

Examples
--------
::

    forecastkit datasets
    forecastkit models
    forecastkit compare  --dataset m3-monthly --models theta,ets,lstm --out results/m3m --sample 200
    forecastkit backtest --dataset m4-hourly --models snaive,theta --out results/h --n-windows 3

``compare`` fits on the official training split and scores the official test split;
``backtest`` never touches the test split: it runs rolling-origin windows at the end of the
training series (what one uses to choose models honestly).

``--mlflow [URI]`` logs either as an MLflow run (parameters, each model's metrics, the report
and plots; by default to ``mlflow.db`` and ``mlruns/`` in the working directory)::

    forecastkit compare --dataset m3-monthly --models theta,lstm --out results/m3m --mlflow

Both resume from ``--out`` (``--fresh`` starts over). Bad arguments, an output folder that
cannot be written, a damaged stored run and a Dask scheduler that does not answer within
:data:`forecastkit.evaluation._execution.CONNECT_TIMEOUT` seconds all end in one line
``forecastkit: error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from forecastkit import __version__
from forecastkit.exceptions import ForecastkitError, ForecastkitWarning, InvalidInputError

# evaluation.tracking.DEFAULT_TRACKING_URI, written out so that parsing the command line does not
# load the evaluation layer (tests/test_cli.py holds the two equal).
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecastkit",
        description="Backtest and compare forecasters on the bundled M3/M4 data.",
    )
    parser.add_argument("--version", action="version", version=f"forecastkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("datasets", help="list dataset names with horizon and season length")
    sub.add_parser("models", help="list model names")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dataset", required=True, help="a name from `forecastkit datasets`")
        p.add_argument("--models", required=True,
                       help="comma-separated names from `forecastkit models`, e.g. lstm,gru,theta")
        p.add_argument("--out", required=True, type=Path, help="output folder (resumable)")
        p.add_argument("--sample", type=int, default=None, metavar="N",
                       help="use N series drawn at random (with --seed) for a quick run")
        p.add_argument("--seed", type=int, default=0, help="seed of the sample and the models")
        p.add_argument("--n-jobs", type=int, default=-1, help="parallel workers (-1: all cores)")
        p.add_argument("--backend", choices=["joblib", "dask"], default="joblib")
        p.add_argument("--scheduler", default=None, metavar="ADDR",
                       help="Dask scheduler address (with --backend dask; default: a local "
                            "cluster); one that does not answer within 5 s is an error")
        p.add_argument("--fresh", action="store_true",
                       help="discard the finished units kept in --out and start over")
        p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        p.add_argument("--quantiles", type=_levels, default=None, metavar="LEVELS",
                       help="probabilistic forecasts at these levels, e.g. "
                            "0.025,0.1,0.5,0.9,0.975: coverage, MSIS, pinball and CRPS in the "
                            "report, and a calibration plot")
        p.add_argument("--mlflow", nargs="?", const=DEFAULT_TRACKING_URI, default=None,
                       metavar="URI",
                       help="log the run to MLflow: parameters, metrics per model, the report "
                            f"and plots (default store: {DEFAULT_TRACKING_URI}, no server; "
                            "needs pip install 'forecastkit[tracking]')")
        p.add_argument("--skip-unsupported", action="store_true",
                       help="with --quantiles, score models without quantiles on their point "
                            "forecasts only instead of stopping")

    bt = sub.add_parser("backtest", help="rolling-origin backtest on the training split")
    common(bt)
    bt.add_argument("--n-windows", type=int, default=3, help="forecast origins (default 3)")
    bt.add_argument("--step", type=int, default=None,
                    help="points between origins (default: the horizon)")
    cmp = sub.add_parser("compare", help="fit on the official train split, score the test split")
    common(cmp)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, or a file that cannot
    be read or written)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warnings(warnings.showwarning)
        try:
            if args.command == "datasets":
                return _datasets()
            if args.command == "models":
                return _models()
            _check_args(args)
            return _run(args, argv)
        except (ForecastkitError, OSError) as err:
            print(f"forecastkit: error: {err}", file=sys.stderr)
            return 2


def _one_line_warnings(fallback):
    """A ``warnings.showwarning`` that prints our warnings as one line a command-line user
    reads (not the source line that raised them) and leaves others to ``fallback``."""
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, ForecastkitWarning):
            print(f"forecastkit: warning: {message}", file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)

    return show


# flag -> (smallest value, what it is); --n-jobs also takes -1
_AT_LEAST = {
    "n_jobs": (1, "a positive number of workers, or -1 for all cores"),
    "seed": (0, "a non-negative integer"),
    "sample": (1, "a positive number of series"),
    "n_windows": (1, "a positive number of windows"),
    "step": (1, "a positive number of points"),
}


def _levels(text: str) -> list[float]:
    """``--quantiles 0.1,0.5,0.9`` as levels (checked again by the forecasters)."""
    try:
        levels = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of numbers: {text!r}"
        ) from None
    if not levels or not all(0 < v < 1 for v in levels):
        raise argparse.ArgumentTypeError(f"levels must lie in (0, 1), got {text!r}")
    return levels


def _check_args(args) -> None:
    """Refuse bad numbers and flags before any data is loaded."""
    for dest, (low, what) in _AT_LEAST.items():
        value = getattr(args, dest, None)
        if value is not None and value < low and not (dest == "n_jobs" and value == -1):
            flag = "--" + dest.replace("_", "-")
            raise InvalidInputError(f"{flag} must be {what}, got {value}")
    if args.scheduler and args.backend != "dask":
        raise InvalidInputError("--scheduler needs --backend dask")


def _prepare_out(out: Path, fresh: bool) -> None:
    """Create ``--out`` and make sure files can be written there (before any long work)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise InvalidInputError(
            f"--out {str(out)!r} cannot be used as the output folder: {err.strerror or err}"
        ) from None
    if fresh:
        from forecastkit.evaluation.store import ResultStore

        ResultStore(out).clear()


def _datasets() -> int:
    from forecastkit.datasets import _M3, _M4

    print(f"{'name':<14} {'horizon':>7} {'season':>6}")
    for source, table in (("m3", _M3), ("m4", _M4)):
        for freq, (horizon, season) in table.items():
            print(f"{source + '-' + freq:<14} {horizon:>7} {season:>6}")
    print(f"{'chicago':<14} {28:>7} {7:>6}   (with covariates: fk.datasets.load_chicago)")
    return 0


def _models() -> int:
    from importlib.util import find_spec

    from forecastkit.evaluation.registry import MODELS

    # find_spec, not import: listing names should not cost a TensorFlow import.
    found = {m: find_spec(m) is not None for m in {s.module for s in MODELS.values()}}
    found["forecastkit.forecasters.rnn"] &= find_spec("tensorflow") is not None
    for name, spec in MODELS.items():
        note = "" if found[spec.module] else "  (not available in this installation)"
        print(f"{name:<14} {spec.kind:<9} {spec.description}{note}")
    return 0


def _run(args, argv) -> int:
    from forecastkit.datasets import list_datasets, load_dataset
    from forecastkit.evaluation.compare import sample_series
    from forecastkit.evaluation.registry import parse_names

    if args.dataset not in list_datasets():
        raise InvalidInputError(
            f"unknown dataset {args.dataset!r}; valid names: {', '.join(list_datasets())}"
        )
    names = parse_names(args.models)
    _prepare_out(args.out, args.fresh)
    train, test, info = load_dataset(args.dataset)
    if args.sample is not None:
        train, test = sample_series(args.sample, args.seed, train, test)
    command = "forecastkit " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    if args.command == "compare":
        return _compare(args, names, train, test, info, command)
    return _backtest(args, names, train, info, command)


def _backend(args):
    """``--backend dask --scheduler ADDR`` runs on that cluster."""
    return args.scheduler if args.backend == "dask" and args.scheduler else args.backend


def _compare(args, names, train, test, info, command) -> int:
    from forecastkit.evaluation.compare import compare
    from forecastkit.evaluation.report import write_report
    from forecastkit.evaluation.tracking import name_run

    result = compare(
        names, train, test, horizon=info.horizon, season_length=info.season_length,
        out_dir=args.out, seed=args.seed, n_jobs=args.n_jobs, backend=_backend(args),
        progress=not args.no_progress, quantiles=args.quantiles,
        skip_unsupported=args.skip_unsupported, tracking_uri=args.mlflow,
    )
    if result.tracking is not None:
        name_run(result.tracking, f"compare {info.name}", dataset=info.name, command=command)
    path = write_report(result, args.out, command=command,
                        title=f"Comparison on {info.name} (official test split)")
    print(result.table())
    print(f"\nreport: {path}")
    return 0


def _backtest(args, names, train, info, command) -> int:
    from forecastkit.evaluation.backtest import backtest, backtest_metrics
    from forecastkit.evaluation.compare import NAIVE2, summarize_models
    from forecastkit.evaluation.registry import make_models
    from forecastkit.evaluation.report import markdown_table
    from forecastkit.evaluation.tracking import log_report, name_run

    if NAIVE2 not in names:
        names = [*names, NAIVE2]  # OWA is relative to Naive2
    models = make_models(names, horizon=info.horizon, season_length=info.season_length,
                         seed=args.seed)
    cv = backtest(
        models, train, info.horizon, n_windows=args.n_windows, step=args.step,
        n_jobs=args.n_jobs, backend=_backend(args), out_dir=args.out,
        progress=not args.no_progress, quantiles=args.quantiles,
        skip_unsupported=args.skip_unsupported, tracking_uri=args.mlflow,
        season_length=info.season_length,
    )
    per_series = backtest_metrics(cv, train, info.season_length)
    metrics = summarize_models(per_series, seconds=cv.attrs.get("seconds"))
    cv.to_csv(args.out / "forecasts.csv.gz", index=False)
    per_series.to_csv(args.out / "per_series.csv.gz", index=False, float_format="%.6g")
    metrics.to_csv(args.out / "metrics.csv", float_format="%.6g")
    by_window = per_series.groupby(["model", "window"])[["smape", "mase"]].mean().reset_index()
    table = markdown_table(metrics.reset_index()[["model", "smape", "mase", "owa", "seconds"]])
    text = "\n".join([
        f"# Backtest on {info.name} (training split, {args.n_windows} windows)",
        "",
        f"- Command: `{command}`",
        f"- Series: {train['unique_id'].nunique()}, horizon {info.horizon}, "
        f"season length {info.season_length}",
        _ragged_line(per_series, args.n_windows),
        "",
        "## Means over series and windows",
        "",
        table,
        "",
        "## By window",
        "",
        markdown_table(by_window),
        "",
    ])
    (args.out / "report.md").write_text(text)
    run = cv.attrs.get("mlflow_run")
    if run is not None:
        name_run(run, f"backtest {info.name}", dataset=info.name, command=command)
        log_report(run, args.out)
    print(table)
    print(f"\nreport: {args.out / 'report.md'}")
    return 0


def _ragged_line(per_series, n_windows: int) -> str:
    """The report's line on series too short for the earlier windows (per_series.csv.gz has
    each series' ``n_windows``)."""
    counts = per_series.groupby("unique_id")["n_windows"].max()
    short = counts[counts < n_windows]
    if short.empty:
        return f"- Every series is scored in all {n_windows} windows"
    return (f"- {len(short)} series too short for all {n_windows} windows are scored in the "
            f"latest ones they support ({int(short.min())} at the fewest; `n_windows` in "
            f"per_series.csv.gz)")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
