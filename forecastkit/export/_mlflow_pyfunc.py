"""The MLflow ``pyfunc`` model of a saved forecaster, logged as MLflow's "model from code".

MLflow copies this file into the logged model and runs it when the model is loaded (the file
ends by naming its model with ``mlflow.models.set_model``), so no pickled object travels with
the model: the forecaster itself is the forecastkit folder logged beside it as the artifact
``forecaster``, read back with :func:`forecastkit.export.load` (checksummed, pickle-free).
:mod:`forecastkit.export.mlflow_model` logs and loads it.
"""

from __future__ import annotations

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

from forecastkit.export.persistence import load


class ForecasterPyfunc(PythonModel):
    """``predict(histories)``: forecasts after the end of each series of a long frame.

    The input is a long frame ``unique_id, ds, y`` (the column names the forecaster was fitted
    with) of the histories to forecast from; a global network forecasts them with its fitted
    weights, a local model is fitted anew on each (as ``predict(y=...)`` does). Parameters:
    ``horizon`` (default: the forecaster's) and ``quantiles`` (levels in (0, 1); empty for
    point forecasts only). The output is the long frame ``predict`` returns: ``unique_id, ds,
    y_pred`` and one ``q<level>`` column per level.
    """

    def load_context(self, context) -> None:
        self.forecaster = load(context.artifacts["forecaster"])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        params = params or {}
        horizon = params.get("horizon")
        levels = list(params.get("quantiles") or []) or None
        out = self.forecaster.predict(
            horizon=None if horizon is None or int(horizon) <= 0 else int(horizon),
            y=model_input, quantiles=levels,
        )
        return out.reset_index() if isinstance(out, pd.Series) else out


set_model(ForecasterPyfunc())
