"""Log a fitted forecaster as an MLflow model and load it back.

The logged model is a standard MLflow ``pyfunc`` model, so anything that serves or loads
MLflow models (``mlflow.pyfunc.load_model``, ``mlflow models serve``, a registry) can forecast
with it; :func:`load_model` gives back the forecastkit forecaster itself. Inside, the model is
the forecaster saved by :func:`forecastkit.export.save` (no pickle) plus a small model-from-code
file (:mod:`forecastkit.export._mlflow_pyfunc`) that loads it.

>>> uri = fk.export.log_model(fitted, "forecaster")          # doctest: +SKIP
>>> mlflow.pyfunc.load_model(uri).predict(history_frame, params={"horizon": 6})  # doctest: +SKIP
>>> forecaster = fk.export.load_model(uri)                     # doctest: +SKIP

MLflow is an optional dependency: ``pip install "forecastkit[tracking]"``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecastkit import __version__
from forecastkit.evaluation.tracking import import_mlflow, start_run
from forecastkit.exceptions import ExportError
from forecastkit.export.persistence import save

__all__ = ["log_model", "load_model"]

_PYFUNC_FILE = Path(__file__).with_name("_mlflow_pyfunc.py")


def log_model(forecaster, name: str = "forecaster", *, run_id: str | None = None,
              tracking_uri: str | None = None, n_example_rows: int = 200) -> str:
    """Log a fitted forecaster as an MLflow pyfunc model.

    Parameters
    ----------
    forecaster : BaseForecaster
        Fitted; anything :func:`forecastkit.export.save` can save.
    name : str, default="forecaster"
        Artifact path of the model inside the run.
    run_id : str, optional
        Run to log into. Default: the active run (``with mlflow.start_run():``) if there is
        one, else a new run named ``name`` in ``tracking_uri``.
    tracking_uri : str, optional
        Tracking store of ``run_id`` or of the new run; default: the active run's store, else
        :data:`forecastkit.evaluation.tracking.DEFAULT_TRACKING_URI`.
    n_example_rows : int, default=200
        Rows of the training data (the end of its first series) logged as the input example,
        from which MLflow records the model's input and output signature.

    Returns
    -------
    str
        The model URI ``runs:/<run_id>/<name>``, for :func:`load_model` or
        ``mlflow.pyfunc.load_model``.

    Raises
    ------
    PersistenceError
        The forecaster is not fitted or cannot be saved.
    """
    mlflow = import_mlflow()
    from mlflow.models import infer_signature
    from mlflow.types import ParamSchema, ParamSpec

    active = mlflow.active_run()
    if run_id is None and active is not None:
        run_id, tracking_uri = active.info.run_id, tracking_uri or mlflow.get_tracking_uri()
    if run_id is None:
        run = start_run(tracking_uri, kind="model", run_name=name,
                        models={name: forecaster})
        run_id, tracking_uri = run.run_id, run.tracking_uri
    client = mlflow.tracking.MlflowClient(tracking_uri=tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        saved = save(forecaster, Path(tmp) / "forecaster")
        example = _input_example(forecaster, n_example_rows)
        horizon = int(forecaster._check_horizon(None))
        output = forecaster.predict(horizon=horizon, y=example)
        output = output.reset_index() if isinstance(output, pd.Series) else output
        signature = infer_signature(example, output)
        # No quantiles unless asked (and a point-only model gives none).
        signature.params = ParamSchema([ParamSpec("horizon", "long", horizon),
                                        ParamSpec("quantiles", "double", [], shape=(-1,))])
        mlflow.pyfunc.save_model(
            Path(tmp) / "model", python_model=str(_PYFUNC_FILE),
            artifacts={"forecaster": str(saved)}, signature=signature,
            input_example=example,
            pip_requirements=[f"forecastkit=={__version__}", f"mlflow=={mlflow.__version__}"],
        )
        client.log_artifacts(run_id, str(Path(tmp) / "model"), artifact_path=name)
    return f"runs:/{run_id}/{name}"


def load_model(model_uri: str, *, tracking_uri: str | None = None):
    """The forecastkit forecaster inside a model logged by :func:`log_model`.

    Parameters
    ----------
    model_uri : str
        ``runs:/<run_id>/<name>``, or any URI or local folder MLflow resolves.
    tracking_uri : str, optional
        Store that resolves a ``runs:/`` URI; default: MLflow's current tracking URI.

    Returns
    -------
    BaseForecaster
        Fitted; predicts as the logged one did.

    Raises
    ------
    ExportError
        The model is not a forecastkit model.
    """
    mlflow = import_mlflow()
    local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri,
                                                tracking_uri=tracking_uri)
    model = mlflow.pyfunc.load_model(local).unwrap_python_model()
    forecaster = getattr(model, "forecaster", None)
    if forecaster is None:
        raise ExportError(f"{model_uri!r} is not a model logged by forecastkit.export.log_model")
    return forecaster


def _input_example(forecaster, n_rows: int):
    """The last ``n_rows`` points of the first training series, as a long frame with the
    default column names (those ``predict(y=...)`` reads)."""
    frame = forecaster.panel_.take(np.array([0])).to_long()
    frame.columns = ["unique_id", "ds", "y"]
    return frame.tail(max(int(n_rows), forecaster._min_train_length())).reset_index(drop=True)
