"""Experiment tracking with MLflow: a comparison or backtest as an MLflow run.

A run holds what is needed to tell runs apart and to find the best model: the parameters of the
run (horizon, windows, series) and the full description of every model
(:func:`~forecastkit.evaluation.identity.describe`), one metric per model and score
(``theta.owa``, ``lstm.msis_95``), and the report, tables and plots as artifacts.

Runs are written through :class:`mlflow.tracking.MlflowClient` with an explicit run id, never
through MLflow's global "active run": a library call must not end, reuse or redirect a run the
user has open, nor change the process' tracking URI. The default store is MLflow's own default,
a SQLite file ``mlflow.db`` with artifacts under ``mlruns/`` in the working directory: no
server is needed (MLflow 3 refuses its older plain-folder store unless told otherwise).

MLflow is an optional dependency: ``pip install "forecastkit[tracking]"``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecastkit._optional import optional_import
from forecastkit.evaluation.identity import describe
from forecastkit.evaluation.scoring import backtest_metrics, summarize_models

__all__ = ["DEFAULT_TRACKING_URI", "TrackedRun", "track_run", "track_backtest", "start_run",
           "log_metrics_table", "log_report", "name_run", "REPORT_PATTERNS"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_EXPERIMENT = "forecastkit"
# MLflow's limit on a parameter value; longer model descriptions go to models.json only.
_MAX_PARAM_LENGTH = 6000
# Report files logged as artifacts: the out folder also holds the result store (units,
# records), which may be large and is an implementation detail of resuming.
REPORT_PATTERNS = ("*.md", "*.csv", "*.csv.gz", "*.png")


@dataclass(frozen=True)
class TrackedRun:
    """An MLflow run that forecastkit logged to.

    Attributes
    ----------
    tracking_uri : str
        The tracking store (``sqlite:///mlflow.db``, ``http://host:5000``, ...).
    run_id : str
    experiment_id : str
    """

    tracking_uri: str
    run_id: str
    experiment_id: str

    def client(self):
        """An ``MlflowClient`` on the run's store."""
        return import_mlflow().tracking.MlflowClient(tracking_uri=self.tracking_uri)


def import_mlflow():
    """The ``mlflow`` module, or an InvalidInputError saying how to install it."""
    return optional_import("mlflow", "tracking", "tracking")


def track_run(tracking_uri: str | None, *, kind: str, models: dict, params: dict,
              metrics: pd.DataFrame, run_name: str | None = None) -> TrackedRun:
    """A finished run holding a comparison's or backtest's parameters and per-model metrics.

    Parameters
    ----------
    tracking_uri : str or None
        See :func:`start_run`.
    kind : str
    models : dict of str to forecaster
    params : dict
    metrics : pd.DataFrame
        Per-model table (:func:`~forecastkit.evaluation.scoring.summarize_models`).
    run_name : str, optional

    Returns
    -------
    TrackedRun
        Its report files are added by :func:`log_report` (``write_report`` does so for a
        comparison that carries its run).
    """
    run = start_run(tracking_uri, kind=kind, models=models, params=params, run_name=run_name)
    try:
        log_metrics_table(run, metrics)
    except Exception:
        fail_run(run)
        raise
    run.client().set_terminated(run.run_id, status="FINISHED")
    return run


def track_backtest(tracking_uri: str | None, models: dict, cv: pd.DataFrame, panel,
                   split: dict, season_length: int) -> TrackedRun:
    """:func:`track_run` for a backtest: metrics over series and windows per model.

    Parameters
    ----------
    tracking_uri : str or None
    models : dict of str to forecaster
    cv : pd.DataFrame
        The backtest's forecasts.
    panel : Panel
        The data backtested (actuals and histories for the scaled errors).
    split : dict
        Parameters of the split, logged.
    season_length : int
        Season of MASE.

    Returns
    -------
    TrackedRun
    """
    per_series = backtest_metrics(cv, panel, season_length)
    metrics = summarize_models(per_series, seconds=cv.attrs.get("seconds"))
    return track_run(tracking_uri, kind="backtest", models=models,
                     params={**split, "season_length": season_length}, metrics=metrics)


def start_run(
    tracking_uri: str | None,
    *,
    kind: str,
    models: dict | None = None,
    params: dict | None = None,
    run_name: str | None = None,
    experiment: str | None = None,
) -> TrackedRun:
    """Create a run and log its parameters and model descriptions.

    Parameters
    ----------
    tracking_uri : str or None
        Tracking store; None: :data:`DEFAULT_TRACKING_URI`.
    kind : str
        What the run is (``"compare"``, ``"backtest"``): the default run name and a tag.
    models : dict of str to forecaster, optional
        Logged as ``model.<name>`` parameters (their full description) and ``models.json``.
    params : dict, optional
        Other parameters of the run (horizon, n_windows, ...).
    run_name : str, optional
    experiment : str, optional
        Experiment name; default: the ``MLFLOW_EXPERIMENT_NAME`` environment variable (MLflow's
        own convention), else ``"forecastkit"``. Created when missing.

    Returns
    -------
    TrackedRun
    """
    mlflow = import_mlflow()
    from mlflow.entities import Param

    uri = tracking_uri or DEFAULT_TRACKING_URI
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    name = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found is not None else client.create_experiment(name)
    run = client.create_run(experiment_id, run_name=run_name or kind,
                            tags={"forecastkit.kind": kind})
    tracked = TrackedRun(uri, run.info.run_id, experiment_id)
    described = {n: describe(m) for n, m in (models or {}).items()}
    values = {k: str(v) for k, v in (params or {}).items()}
    values.update({f"model.{metric_key(n)}": _param_text(d) for n, d in described.items()})
    client.log_batch(tracked.run_id, params=[Param(k, v) for k, v in values.items()])
    if described:
        _log_text(client, tracked.run_id, json.dumps(described, indent=1), "models.json")
    return tracked


def log_metrics_table(run: TrackedRun, metrics: pd.DataFrame, prefix: str = "") -> int:
    """Log every finite number of a per-model metrics table as ``<prefix><model>.<column>``.

    Parameters
    ----------
    run : TrackedRun
    metrics : pd.DataFrame
        Indexed by model name (as :func:`~forecastkit.evaluation.compare.summarize_models`
        returns it), numeric columns.
    prefix : str
        Put before every key, e.g. ``"m3-monthly/"`` for one set of several.

    Returns
    -------
    int
        Number of metrics logged.
    """
    from mlflow.entities import Metric

    stamp = _now_ms()
    entries = []
    for model, row in metrics.iterrows():
        for column, value in row.items():
            number = pd.to_numeric(value, errors="coerce")
            if pd.notna(number) and abs(float(number)) != float("inf"):
                key = f"{prefix}{metric_key(str(model))}.{metric_key(str(column))}"
                entries.append(Metric(key, float(number), stamp, 0))
    client = run.client()
    # MLflow takes at most 1000 metrics a batch.
    for a in range(0, len(entries), 1000):
        client.log_batch(run.run_id, metrics=entries[a:a + 1000])
    return len(entries)


def log_report(run: TrackedRun, folder) -> list[str]:
    """Log a report folder's files (:data:`REPORT_PATTERNS`) as the run's artifacts.

    Parameters
    ----------
    run : TrackedRun
    folder : str or Path
        Where :func:`~forecastkit.evaluation.report.write_report` (or the CLI) wrote.

    Returns
    -------
    list of str
        The file names logged.
    """
    client = run.client()
    folder = Path(folder)
    names = sorted({p.name for pattern in REPORT_PATTERNS for p in folder.glob(pattern)})
    for name in names:
        client.log_artifact(run.run_id, str(folder / name))
    return names


def name_run(run: TrackedRun, name: str, **params) -> None:
    """Rename a run and add parameters to it (the command line names its runs after the
    command and dataset)."""
    from mlflow.entities import Param

    client = run.client()
    client.set_tag(run.run_id, "mlflow.runName", name)
    if params:
        client.log_batch(run.run_id, params=[Param(k, str(v)) for k, v in params.items()])


def fail_run(run: TrackedRun) -> None:
    """Mark a run failed (the work it tracked raised)."""
    run.client().set_terminated(run.run_id, status="FAILED")


def metric_key(name: str) -> str:
    """``name`` with the characters MLflow refuses in a key (anything but letters, digits,
    ``_ - . /`` and space) replaced: ``lstm+theta`` -> ``lstm_theta``."""
    return re.sub(r"[^\w\-./ ]", "_", name)


def _param_text(text: str) -> str:
    if len(text) <= _MAX_PARAM_LENGTH:
        return text
    return text[: _MAX_PARAM_LENGTH - 40] + " ... (in full in models.json)"


def _log_text(client, run_id: str, text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text)
        client.log_artifact(run_id, str(path))


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)
