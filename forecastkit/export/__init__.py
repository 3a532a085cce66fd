"""Deployment: TensorFlow SavedModel export and estimator save/load.

>>> import forecastkit as fk
>>> fk.export_saved_model(forecaster, "model_dir")   # model_dir/1/, signature "serve"
>>> forecaster.save("est_dir"); same = fk.load("est_dir")
>>> uri = fk.export.log_model(forecaster)   # an MLflow pyfunc model (forecastkit[tracking])
"""

from forecastkit.export.mlflow_model import load_model, log_model
from forecastkit.export.persistence import load, save
from forecastkit.export.saved_model import export_saved_model

__all__ = ["export_saved_model", "save", "load", "log_model", "load_model"]
