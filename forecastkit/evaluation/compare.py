"""Compare models on a train/test split: ranked metrics and per-series metrics.

``compare`` is a backtest with one window whose cutoff is the end of the training data, so it
runs in parallel, shows progress and resumes from ``out_dir`` exactly as :func:`backtest` does.
Its result goes to :func:`forecastkit.evaluation.report.write_report` for a Markdown report,
CSVs and plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from forecastkit.data.frames import to_panel
from forecastkit.evaluation.backtest import backtest, backtest_metrics, check_quantile_support
from forecastkit.evaluation.registry import make_model, make_models
from forecastkit.evaluation.report import metrics_table, probabilistic_table
from forecastkit.evaluation.scoring import NAIVE2, quantile_columns, summarize_models
from forecastkit.evaluation.tracking import TrackedRun, track_run
from forecastkit.exceptions import InvalidInputError
from forecastkit.forecasters.combination import combine_forecasts

__all__ = [
    "Comparison",
    "compare",
    "add_combinations",
    "summarize_models",
    "sample_series",
    "NAIVE2",
]

@dataclass
class Comparison:
    """What :func:`compare` produced.

    Attributes
    ----------
    metrics : pd.DataFrame
        One row per model, best OWA first: ``smape, mase, owa, mae, rmse, mape, rmsse`` (means
        over series; OWA against Naive2 from those means, as M4 computes it), the
        probabilistic scores when the forecasts carry quantiles (``coverage_95, acd_95,
        msis_95, coverage_80, acd_80, msis_80, pinball, crps``, see
        :mod:`forecastkit.evaluation.scoring`; NaN for a model run for point forecasts
        only), the rank of each model by sMAPE, MASE and OWA, and ``seconds`` (fit + predict
        wall time).
    per_series : pd.DataFrame
        One row per model and series, one column per metric.
    forecasts : pd.DataFrame
        ``unique_id, ds, cutoff, y, y_pred, model, window`` (and ``q<level>`` columns after
        ``y_pred`` when quantiles were asked).
    train : pd.DataFrame
        The training frame the models were fitted on (plots draw its tail).
    horizon, season_length : int
    tracking : TrackedRun or None
        The MLflow run the comparison was logged to (``tracking_uri``);
        :func:`~forecastkit.evaluation.report.write_report` adds the report to it.
    """

    metrics: pd.DataFrame
    per_series: pd.DataFrame
    forecasts: pd.DataFrame
    train: pd.DataFrame
    horizon: int
    season_length: int
    tracking: TrackedRun | None = None

    def table(self) -> str:
        """The ranked metrics as a Markdown table."""
        return metrics_table(self.metrics)

    @property
    def is_probabilistic(self) -> bool:
        """Whether some model's forecasts carry quantiles (``q<level>`` columns with values;
        models skipped as point-only leave theirs empty)."""
        columns = quantile_columns(self.forecasts)
        return bool(columns) and bool(self.forecasts[list(columns.values())].notna().any().any())

    def probabilistic_table(self) -> str:
        """The probabilistic scores as a Markdown table ("" without quantiles)."""
        return probabilistic_table(self.metrics) if self.is_probabilistic else ""


def compare(
    models,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    horizon: int,
    season_length: int,
    out_dir=None,
    seed: int | None = 0,
    combinations: dict[str, list[str]] | None = None,
    n_jobs: int | None = -1,
    backend="joblib",
    progress: bool = True,
    fresh: bool = False,
    quantiles=None,
    skip_unsupported: bool = False,
    tracking_uri: str | None = None,
    X=None,
    static=None,
) -> Comparison:
    """Fit each model on ``train``, forecast ``test``'s horizon, score and rank.

    Parameters
    ----------
    models : dict of str to forecaster, or list of str
        Unfitted forecasters by name, or names from :func:`forecastkit.evaluation.registry.
        list_models` (built for ``horizon``/``season_length`` with ``seed``). Naive2 is added
        when missing, since OWA is relative to it.
    train, test : pd.DataFrame
        Long frames ``unique_id, ds, y``; ``test`` holds exactly ``horizon`` points of every
        training series, right after its end (e.g. the M3/M4 official split).
    horizon, season_length : int
    out_dir : str or Path, optional
        Folder where finished models are kept (``out_dir/units``, each checked by a sealed
        record in ``out_dir/records``, listed in ``out_dir/manifest.json``) so a rerun skips
        them; the report may go there too.
    seed : int or None
        ``random_state`` of the models built from names.
    combinations : dict of str to list of str, optional
        Extra rows ``{"lstm+theta": ["lstm", "theta"]}``: the mean of the named models'
        forecasts, scored like any model (its run time is the sum of its members').
    n_jobs, backend, progress, fresh
        As in :func:`backtest` (``fresh``: forget the units stored in ``out_dir``).
    quantiles : sequence of float, optional
        Quantile levels to forecast and score beside the point forecasts, e.g. ``[0.025,
        0.1, 0.5, 0.9, 0.975]`` for the 80% and 95% intervals (see :func:`backtest`).
    skip_unsupported : bool, default=False
        With ``quantiles``, score models without quantile support on their point forecasts
        only, instead of raising NotProbabilisticError. The Naive2 that ``compare`` adds for
        OWA never needs quantiles.
    X, static : pd.DataFrame, optional
        Covariates (:mod:`forecastkit.data.covariates`), ``X`` over every stamp of ``train``
        and, for future-known columns, of ``test``. Every model compared reads them (one that
        cannot is named by a CovariateError), except Naive2: the benchmark OWA is relative to
        is fitted on the target alone, as in M4, so that OWA keeps its meaning. With
        ``out_dir``, its units are kept apart in ``out_dir/reference``.

    Returns
    -------
    Comparison
    """
    named = [models] if isinstance(models, str) else list(models)
    added = [] if NAIVE2 in named else [NAIVE2]  # compare's own Naive2, for OWA only
    models = _resolve(models, horizon, season_length, seed)
    # Raise here, before any work, for the user's models; backtest then lets the rest pass.
    check_quantile_support(models, quantiles, skip_unsupported, exempt=added)
    full = _join(train, test, horizon)
    run_backtest = partial(backtest, y=full, horizon=horizon, n_windows=1, n_jobs=n_jobs,
                           backend=backend, progress=progress, fresh=fresh,
                           quantiles=quantiles, skip_unsupported=True)
    if X is None and static is None:
        cv = run_backtest(models, out_dir=out_dir)
    else:
        # The reference reads the target alone; its stored units (made from other inputs)
        # live in a folder of their own.
        readers = {k: v for k, v in models.items() if k != NAIVE2}
        if not readers:
            raise InvalidInputError("covariates given to compare, but no model besides "
                                    "naive2 (which reads the target alone) to give them to")
        reference_dir = None if out_dir is None else Path(out_dir) / "reference"
        cv = concat_backtests(run_backtest(readers, out_dir=out_dir, X=X, static=static),
                              run_backtest({NAIVE2: models[NAIVE2]}, out_dir=reference_dir))
    if combinations:
        cv = add_combinations(cv, combinations)
    per_series = backtest_metrics(cv, full, season_length)
    metrics = summarize_models(per_series, seconds=cv.attrs.get("seconds"))
    run = None
    if tracking_uri is not None:
        params = {"horizon": horizon, "season_length": season_length,
                  "n_series": per_series["unique_id"].nunique(), "seed": seed,
                  "quantiles": None if quantiles is None else list(quantiles),
                  "combinations": combinations}
        run = track_run(tracking_uri, kind="compare", models=models, params=params,
                        metrics=metrics)
    return Comparison(metrics=metrics, per_series=per_series, forecasts=cv, train=train,
                      horizon=horizon, season_length=season_length, tracking=run)


def concat_backtests(*frames: pd.DataFrame) -> pd.DataFrame:
    """Backtest frames of different models stacked, with their ``attrs["seconds"]`` merged."""
    out = pd.concat(frames, ignore_index=True)
    out.attrs["seconds"] = {k: v for f in frames for k, v in f.attrs.get("seconds", {}).items()}
    return out


def add_combinations(cv: pd.DataFrame, combinations: dict[str, list[str]]) -> pd.DataFrame:
    """Append the mean forecast of groups of models to a backtest frame.

    Parameters
    ----------
    cv : pd.DataFrame
        Output of :func:`~forecastkit.evaluation.backtest.backtest` (all members present).
    combinations : dict of str to list of str
        New model name -> names of the models whose forecasts are averaged
        (:func:`~forecastkit.forecasters.combination.combine_forecasts`).

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
        # Rows in the order of the model that comes first in cv, as each model's are.
        first = cv[cv["model"] == next(m for m in cv["model"].unique() if m in members)]
        index = pd.MultiIndex.from_frame(first[keys])
        forecasts = [cv[cv["model"] == m].set_index(keys)["y_pred"].reindex(index).to_numpy()
                     for m in members]
        combined = first.assign(y_pred=combine_forecasts(forecasts), model=name)
        for col in quantile_columns(cv).values():
            # Averaging quantile functions (level by level) keeps quantiles non-crossing; a
            # point-only member's NaN makes the combination point-only as well.
            members_q = [cv[cv["model"] == m].set_index(keys)[col].reindex(index).to_numpy()
                         for m in members]
            combined[col] = combine_forecasts(members_q)
        blocks.append(combined)
        seconds[name] = float(sum(seconds.get(m, np.nan) for m in members))
    out = pd.concat(blocks, ignore_index=True)
    out.attrs["seconds"] = seconds
    return out


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
    if isinstance(models, str) or not isinstance(models, dict):
        models = make_models(models, horizon=horizon, season_length=season_length, seed=seed)
    models = dict(models)
    if NAIVE2 not in models:
        if any(type(f).__name__ == "Naive2" for f in models.values()):
            raise InvalidInputError(
                f"name the Naive2 model {NAIVE2!r}: OWA is computed against that name"
            )
        models[NAIVE2] = make_model(NAIVE2, horizon=horizon, season_length=season_length,
                                    seed=seed)
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
