"""A fitted forecaster as an MLflow pyfunc model: logged, loaded by MLflow and by forecastkit.

The reference is the forecaster's own ``predict`` on the same histories; MLflow's loader
(``mlflow.pyfunc.load_model``) is the independent reader of what was logged.
"""

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import HORIZON, SEASON, make_query
from mlflow.tracking import MlflowClient

import forecastkit as fk
from forecastkit.exceptions import ExportError


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)  # for mlflow.pyfunc.load_model's runs:/ URIs
    yield uri
    mlflow.set_tracking_uri(previous)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def test_a_network_served_through_mlflow_forecasts_as_predict(fitted_cases, store):
    case = fitted_cases["lstm_ensemble_direct"]
    uri = fk.export.log_model(case.forecaster, "lstm", tracking_uri=store)
    assert uri.startswith("runs:/") and uri.endswith("/lstm")
    served = mlflow.pyfunc.load_model(uri).predict(case.query)
    expected = case.forecaster.predict(y=case.query)
    pd.testing.assert_frame_equal(_sorted(served), _sorted(expected), rtol=1e-6)
    again = fk.export.load_model(uri, tracking_uri=store)
    assert type(again) is type(case.forecaster)
    np.testing.assert_allclose(again.predict_array(y=case.query), case.expected, rtol=1e-6)


def test_a_local_model_takes_horizon_and_quantiles_as_parameters(store):
    train = make_query(calendar=True)
    theta = fk.baselines.Theta(season_length=SEASON, horizon=HORIZON).fit(train)
    uri = fk.export.log_model(theta, tracking_uri=store)
    history = train[train["unique_id"] == train["unique_id"].iloc[-1]]
    served = mlflow.pyfunc.load_model(uri).predict(history,
                                                   params={"horizon": 2, "quantiles": [0.1, 0.9]})
    expected = theta.predict(2, y=history, quantiles=[0.1, 0.9])
    assert list(served.columns) == ["unique_id", "ds", "y_pred", "q0.1", "q0.9"]
    pd.testing.assert_frame_equal(served.reset_index(drop=True),
                                  expected.reset_index(drop=True))


def test_logging_goes_to_the_active_run_when_there_is_one(fitted_cases, store):
    mlflow.set_experiment("deploy")
    with mlflow.start_run() as run:
        uri = fk.export.log_model(fitted_cases["rnn_stacked_direct_level"].forecaster, "net")
    assert uri == f"runs:/{run.info.run_id}/net"
    logged = {a.path for a in MlflowClient(tracking_uri=store).list_artifacts(run.info.run_id)}
    assert logged == {"net"}


def test_without_a_run_a_new_one_holds_the_model_and_its_description(fitted_cases, store):
    forecaster = fitted_cases["gru_bidirectional_seq2seq"].forecaster
    uri = fk.export.log_model(forecaster, "gru", tracking_uri=store)
    run = MlflowClient(tracking_uri=store).get_run(uri.split("/")[1])
    assert run.data.tags["forecastkit.kind"] == "model"
    assert "strategy='seq2seq'" in run.data.params["model.gru"]


def test_an_unfitted_forecaster_cannot_be_logged(store):
    from forecastkit.exceptions import PersistenceError

    with pytest.raises((PersistenceError, fk.exceptions.NotFittedError)):
        fk.export.log_model(fk.baselines.Naive(), tracking_uri=store)


def test_loading_a_model_that_forecastkit_did_not_log_is_a_clear_error(store):
    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    mlflow.set_experiment("others")
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="echo", python_model=Echo(),
                                       pip_requirements=["pandas"])
    with pytest.raises(ExportError, match="not a model logged by forecastkit"):
        fk.export.load_model(info.model_uri, tracking_uri=store)
