"""Probabilistic study: quantiles and intervals of our models beside statsforecast's, on M3 and M4.

Run from the repository root::

    python experiments/probabilistic.py                    # everything (hours; see the README)
    python experiments/probabilistic.py --sample 10 --sets m3-monthly,m4-hourly --fast

Every model forecasts the quantile levels ``LEVELS`` on the official test split; the report
gives 95% coverage, ACD, MSIS, scaled pinball, CRPS and sMAPE/OWA of the median per set, an
all-sets summary, and the issue-17 goals per set. Writes experiments/results/probabilistic/
(report.md, one folder per set); resumable (--fresh starts over).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _prob_report as report  # noqa: E402
import _statsforecast as sfa  # noqa: E402
from _common import RESULTS, compare_set, load_set, parser, runnable  # noqa: E402

# ----------------------------------------------------------------------------- config
SETS = ["m3-yearly", "m3-quarterly", "m3-monthly", "m3-other", "m4-weekly", "m4-hourly"]
# 0.025/0.975: the 95% interval (M4's); 0.1/0.9: the 80% one; the rest for pinball/CRPS.
LEVELS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975)
HEADS = ["lstm-quantile", "lstm-normal", "lstm-student-t"]  # RNNForecaster's defaults otherwise
# The recommended probabilistic configuration, fixed before any run: split-conformal intervals
# around the recommended point configuration. Its median is lstm-validated's own forecast
# (method "absolute"), so the point accuracy users have today is kept by construction; the
# heads are measured beside it, not chosen between.
RECOMMENDED = "conformal-lstm-validated"
POINT_REFERENCE = "lstm-validated"
CLASSICAL = ["ets", "theta", "snaive"]  # naive2 is added by compare (OWA needs it)
STATSFORECAST = {"sf-autoets": "AutoETS", "sf-autoarima": "AutoARIMA"}
# Slow per series on long or seasonal data (statsmodels' ARIMA search, statsforecast's
# AutoARIMA with m=24): both run on the same seeded sample of each set, scored beside every
# other model restricted to those series. None: all series.
SAMPLED = ["arima", "sf-autoarima"]
SAMPLED_SIZE: dict[str, int | None] = {
    "m3-yearly": None, "m3-quarterly": None, "m3-other": None,
    "m3-monthly": 300, "m4-weekly": None, "m4-hourly": 30,
}
# Conformal calibration: refit=False (the wrapped model is fitted once for the calibration
# window and once on all the data: two lstm-validated fits instead of n_windows + 1), and the
# fewest windows (step = horizon) that give MIN_CALIBRATION_ERRORS pooled errors per step,
# capped so that the first origin leaves two horizons of the shortest series (lstm-validated
# validates on one of them). On every full set that is one window (174-1,428 errors a step).
MIN_CALIBRATION_ERRORS = 100
CONFORMAL_DEFAULT_METHOD = "absolute"  # where select_conformal.py has not chosen one
SELECTION = RESULTS / "probabilistic-selection"
# --fast: a quick end-to-end check, not the study: single networks of 2 epochs.
FAST = {"epochs": 2, "n_models": 1}
DEFAULT_MODELS = [*HEADS, RECOMMENDED, *CLASSICAL, "sf-autoets", *SAMPLED]
# ----------------------------------------------------------------------------- end of config


def conformal_windows(train, horizon: int, min_errors: int = MIN_CALIBRATION_ERRORS) -> int:
    """Calibration windows for ``train``: enough for ``min_errors`` errors per step, as long
    as the earliest origin leaves ``2 * horizon`` points of the shortest series (at least 1)."""
    lengths = train.groupby("unique_id").size()
    wanted = math.ceil(min_errors / len(lengths))
    most = int(lengths.min()) // horizon - 2
    return max(1, min(wanted, most))


def conformal_method(name: str) -> tuple[str, str]:
    """The conformal method for a set and where it comes from (select_conformal.py's choice
    on validation windows, or the default)."""
    path = SELECTION / f"{name}.json"
    if path.exists():
        import json

        choice = json.loads(path.read_text())
        return choice["method"], (f"chosen on validation windows ({choice['series']} series; "
                                  f"`{choice['command']}`)")
    return CONFORMAL_DEFAULT_METHOD, "default (no validation choice recorded)"


def build_models(names: list[str], info, train, args, set_name: str) -> tuple[dict, dict]:
    """Unfitted models by name, and the settings the report states."""
    from forecastkit.evaluation.registry import make_model

    models, settings = {}, {}
    for name in names:
        if name in STATSFORECAST:
            models[name] = sfa.StatsForecastModel(STATSFORECAST[name],
                                                  season_length=info.season_length,
                                                  horizon=info.horizon)
            continue
        params = {}
        if name.startswith("conformal-"):
            # The validated choice is the recommended model's; another wrapper keeps its own.
            method, source = (conformal_method(set_name) if name == RECOMMENDED else
                              ("(registry)", "not chosen"))
            params = {"n_windows": conformal_windows(train, info.horizon)}
            if name == RECOMMENDED:
                params["method"] = method
        model = make_model(name, horizon=info.horizon, season_length=info.season_length,
                           seed=args.seed, **params)
        if name.startswith("conformal-"):
            chosen = model.get_params(deep=False)
            settings[name] = {"n_windows": chosen["n_windows"], "method": chosen["method"],
                              "refit": chosen["refit"], "method source": source}
        if args.fast:
            _make_fast(model)
        models[name] = model
    return models, settings


def _make_fast(model) -> None:
    """Set every (nested) RNNForecaster's parameters to :data:`FAST`."""
    for net in _networks(model):
        net.set_params(**FAST)


def _networks(model):
    """The RNNForecasters inside ``model`` (itself, wrapped ones, combination members)."""
    if type(model).__name__ == "RNNForecaster":
        yield model
        return
    for value in model.get_params(deep=False).values():
        inner = [est for _, est in value] if isinstance(value, list) else [value]
        for est in inner:
            if hasattr(est, "get_params") and not isinstance(est, type):
                yield from _networks(est)


def run_set(name: str, names: list[str], args, out: Path) -> dict:
    """Compare the models on one set (the sampled ones on their sample) and write its report."""
    from forecastkit.evaluation.compare import sample_series

    train, test, info = load_set(name, args.sample, args.seed)
    n_series = train["unique_id"].nunique()
    size = SAMPLED_SIZE.get(name) if args.arima_sample is None else args.arima_sample
    sampled = [n for n in names if n in SAMPLED and size is not None and size < n_series]
    main = [n for n in names if n not in sampled]
    print(f"\n== {name}: {n_series} series, horizon {info.horizon}")
    not_run: list[str] = []
    if args.report_only:
        main, not_run = stored(main, info, train, args, name, out / name)
    if sampled and args.report_only:
        s_train, _ = sample_series(size, args.seed, train, test)
        sampled, skipped = stored(sampled, info, s_train, args, name, out / name / "sampled")
        not_run += skipped
    if not_run:
        print(f"   --report-only: not (fully) run on {name}, left out: {not_run}")
    models, settings = build_models(main, info, train, args, name)
    res = compare_set(models, train, test, info, args, out / name, quantiles=list(LEVELS),
                      skip_unsupported=True)
    scored = report.median_scored(res, test, POINT_REFERENCE, RECOMMENDED)
    part = {"result": scored, "n_series": n_series, "settings": settings, "info": info,
            "reference_derived": POINT_REFERENCE not in names and RECOMMENDED in names,
            "not_run": not_run}
    if sampled:
        s_train, s_test = sample_series(size, args.seed, train, test)
        print(f"   {sampled} on a sample of {size} series (seed {args.seed})")
        s_models, _ = build_models(sampled, info, s_train, args, name)
        s_res = compare_set(s_models, s_train, s_test, info, args, out / name / "sampled",
                            quantiles=list(LEVELS), skip_unsupported=True)
        part["sampled"] = report.with_sampled(scored, s_res, s_test)
        part["sample_size"] = size
        part["sampled_models"] = sampled
    report.write_set_report(part, name, out / name, args)
    return part


def stored(names: list[str], info, train, args, set_name: str,
           folder: Path) -> tuple[list[str], list[str]]:
    """``(kept, left_out)``: the models of ``names`` whose every unit is in the store at
    ``folder``, and the others (--report-only writes the reports from what has run)."""
    from forecastkit.evaluation.backtest import _parts  # the backtest's own blocks of series
    from forecastkit.evaluation.store import ResultStore

    if not names:
        return [], []
    store = ResultStore(folder)
    n_series = train["unique_id"].nunique()
    models, _ = build_models(names, info, train, args, set_name)
    kept = [n for n, m in models.items()
            if all(store.is_done(n, 0, part) for part, _ in _parts(m, n_series))]
    return kept, [n for n in names if n not in kept]


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0], DEFAULT_MODELS, None)
    p.add_argument("--fast", action="store_true",
                   help=f"single networks of {FAST['epochs']} epochs: checks the pipeline, "
                        "measures nothing")
    p.add_argument("--arima-sample", type=int, default=None, metavar="N",
                   help=f"series per set for {', '.join(SAMPLED)} (default: per set, "
                        f"{SAMPLED_SIZE})")
    p.add_argument("--report-only", action="store_true",
                   help="write the reports from the stored units only, leaving out models not "
                        "(fully) run on a set (named in the report); computes nothing")
    args = p.parse_args(argv)
    extra = {name: sfa.is_available() for name in STATSFORECAST}
    names = runnable(args.models, extra)
    sets = SETS if not args.sets else args.sets.split(",")
    unknown = sorted(set(sets) - set(SETS))
    if unknown:
        raise SystemExit(f"unknown set(s) {unknown}; choose from {', '.join(SETS)}")
    out = args.out or RESULTS / "probabilistic"
    parts = {name: run_set(name, names, args, out) for name in SETS if name in sets}
    path = report.write_study_report(parts, out, args, names, config={
        "levels": LEVELS, "recommended": RECOMMENDED, "point_reference": POINT_REFERENCE,
        "sampled": SAMPLED, "fast": FAST if args.fast else None,
        "min_errors": MIN_CALIBRATION_ERRORS,
    })
    print(f"\nReport: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
