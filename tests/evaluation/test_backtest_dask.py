"""The Dask backend runs the same units as joblib and gives the same forecasts."""

import pandas as pd
import pytest
from _dummies import GlobalMean, LastValue

from forecastkit.evaluation.backtest import backtest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    # Threads in this process keep the test light; a real cluster is only an address away.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as c:
        yield c


def test_dask_equals_joblib_with_address_and_client(panel_df, cluster, tmp_path):
    models = {"g": GlobalMean(), "last": LastValue()}
    kw = dict(horizon=4, n_windows=3, progress=False)
    local = backtest(models, panel_df, n_jobs=1, **kw)
    by_address = backtest(models, panel_df, backend=cluster.scheduler_address, out_dir=tmp_path,
                          **kw)
    pd.testing.assert_frame_equal(local, by_address)
    assert len(list((tmp_path / "units").glob("*.csv.gz"))) == 6  # written as units finished
    with distributed.Client(cluster) as client:
        by_client = backtest(models, panel_df, backend=client, **kw)
        assert client.status == "running"  # a client the caller passed stays open
    pd.testing.assert_frame_equal(local, by_client)


def test_classical_baselines_run_on_a_dask_cluster_through_joblib(panel_df, cluster):
    import joblib
    import numpy as np

    from forecastkit.forecasters.baselines import Theta

    local = Theta(season_length=12, horizon=6, n_jobs=1).fit(panel_df).predict_array()
    with distributed.Client(cluster) as client, joblib.parallel_backend("dask"):
        with distributed.get_task_stream(client) as tasks:
            remote = Theta(season_length=12, horizon=6, n_jobs=-1).fit(panel_df).predict_array()
    assert len(tasks.data) >= 2  # the chunks of series ran as tasks on the cluster
    np.testing.assert_array_equal(remote, local)
