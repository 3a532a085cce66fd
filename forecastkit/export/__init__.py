"""Deployment: TensorFlow SavedModel export and estimator save/load.

>>> import forecastkit as fk
>>> fk.export_saved_model(forecaster, "model_dir")   # model_dir/1/, signature "serve"
>>> forecaster.save("est_dir"); same = fk.load("est_dir")
"""

from forecastkit.export.persistence import load, save
from forecastkit.export.saved_model import export_saved_model

__all__ = ["export_saved_model", "save", "load"]
