"""The classical baselines inside a TensorFlow graph equal the baselines' own predict.

Each method of ``GRAPH_METHODS`` is run in a graph on a left-padded batch and compared with the
baseline fitted on the same series (``predict_array``), on M3 Monthly series, on synthetic
seasonal series, on seasonal series that cross zero (additive decomposition), on non-seasonal
series and on series too short for the method (Naive2 fallback). The smoothing search itself
is compared with its NumPy twin on a batch padded to different lengths.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

tf = pytest.importorskip("tensorflow")

from forecastkit.data.frames import to_panel  # noqa: E402
from forecastkit.data.windowing import last_windows  # noqa: E402
from forecastkit.export._classical_graph import GRAPH_METHODS, classical_forecast  # noqa: E402
from forecastkit.forecasters import _smoothing as sm  # noqa: E402

H = 12


def _frame(series: dict) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": np.arange(len(v)), "y": v})
                      for k, v in series.items()], ignore_index=True)


@pytest.fixture(scope="module")
def panels() -> dict[str, tuple[pd.DataFrame, int]]:
    import forecastkit as fk

    rng = np.random.default_rng(0)
    t = np.arange(72.0)
    season = 10 * np.sin(2 * np.pi * t / 12)
    train, _, _ = fk.datasets.load_m3("monthly")
    m3 = train[train["unique_id"].isin(train["unique_id"].unique()[::60])]
    return {
        "m3-monthly": (m3, 12),
        "seasonal": (fk.datasets.make_trend_seasonal(n_series=6, length=(40, 72),
                                                     season_length=12, seed=5), 12),
        "crossing-zero": (_frame({  # seasonal, not strictly positive: additive
            "sin": season + rng.normal(0, 0.5, 72),
            "low": 3 + season[:50] + 0.1 * t[:50],
            "neg": -50 + season[:60] + rng.normal(0, 1, 60),
        }), 12),
        "non-seasonal": (_frame({
            "walk": 100 + np.cumsum(rng.normal(0.3, 2, 60)),
            "flat": np.full(30, 4.0),
            "trend": 5 + 0.2 * t[:45] + rng.normal(0, 0.3, 45),
        }), 1),
        "short": (_frame({"one": [5.0], "two": [5.0, 6.0], "four": [3.0, 1.0, 4.0, 1.0],
                          "long": 10 + np.sin(t[:40])}), 4),
    }


def _graph_inputs(df):
    panel = to_panel(df)
    history, mask = last_windows(panel, int(panel.lengths.max()))
    return tf.constant(history, tf.float64), tf.constant(mask, tf.float64)


@pytest.mark.parametrize("cls", list(GRAPH_METHODS), ids=lambda c: c.__name__)
def test_graph_equals_the_baselines_predict(cls, panels):
    for name, (df, m) in panels.items():
        kwargs = {"season_length": m, "horizon": H}
        if "n_jobs" in cls().get_params():
            kwargs["n_jobs"] = 1
        f = cls(**kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = f.fit(df).predict_array()
        history, mask = _graph_inputs(df)
        got = tf.function(lambda h, k, f=f: classical_forecast(f, h, k, H),
                          autograph=False)(history, mask).numpy()
        scale = np.maximum(1.0, np.abs(expected).max(axis=1, keepdims=True))
        np.testing.assert_allclose(got / scale, expected / scale, rtol=0, atol=1e-6,
                                   err_msg=f"{cls.__name__} on {name}")


def test_the_graph_decomposes_as_the_baselines_do(panels):
    # The cases above hold each kind of season: check that they do, or they test nothing.
    from forecastkit.forecasters import _classical as cl

    kinds = {}
    for name, (df, m) in panels.items():
        panel = to_panel(df)
        kinds[name] = {cl.deseasonalise(panel.series(i), m).kind for i in range(panel.n_series)}
    assert "multiplicative" in kinds["m3-monthly"] | kinds["seasonal"]
    assert "additive" in kinds["crossing-zero"]
    assert kinds["non-seasonal"] == {"none"}


@pytest.mark.parametrize("kind", sm.KINDS)
def test_graph_search_equals_the_numpy_search(kind, panels):
    from forecastkit.export._smoothing_graph import smoothing_forecast

    df, _ = panels["m3-monthly"]
    history, mask = _graph_inputs(df)
    expected, _ = sm.smoothing_forecast(history.numpy(), mask.numpy(), kind, H)
    got = tf.function(lambda h, k: smoothing_forecast(h, k, kind, H),
                      autograph=False)(history, mask).numpy()
    scale = np.abs(expected).max(axis=1, keepdims=True)
    np.testing.assert_allclose(got / scale, expected / scale, rtol=0, atol=1e-6)
