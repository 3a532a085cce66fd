import numpy as np
import pandas as pd
import pytest
from _dummies import GaussianLast, LastValue

from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.evaluation.plots import (
    plot_calibration,
    plot_error_by_step,
    plot_error_distribution,
    plot_forecasts,
)
from forecastkit.exceptions import InvalidInputError


@pytest.fixture
def cv(panel_df):
    return backtest({"last": LastValue(), "other": LastValue(horizon=5)}, panel_df, horizon=5,
                    n_windows=2, n_jobs=1, progress=False)


def _labelled(fig):
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert axes
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    return axes


def test_forecast_plot(cv, panel_df, tmp_path):
    fig = plot_forecasts(cv, panel_df, n_series=3, path=tmp_path / "f.png")
    axes = _labelled(fig)
    assert len(axes) == 3
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["history", "actual", "last", "other"]
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    # the drawn forecast is the last window's
    line = next(ln for ln in axes[0].get_lines() if ln.get_label() == "last")
    sid = axes[0].get_title().removeprefix("series ")
    last = cv[(cv.unique_id == sid) & (cv.model == "last") & (cv.window == 1)]
    np.testing.assert_array_equal(line.get_ydata(), last.y_pred)


def test_error_plots(cv, panel_df, tmp_path):
    per = backtest_metrics(cv, panel_df, season_length=12)
    fig = plot_error_distribution(per, "smape", path=tmp_path / "d.png")
    _labelled(fig)
    assert fig.axes[0].get_legend() is not None
    fig = plot_error_by_step(cv, "smape", path=tmp_path / "s.png")
    (ax,) = _labelled(fig)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"last", "other"}
    np.testing.assert_array_equal(lines["last"].get_xdata(), np.arange(1, 6))
    # step 1 error = mean over series and windows of the first step's symmetric APE
    first = cv[(cv.model == "last")].groupby(["unique_id", "window"]).head(1)
    ape = 200 * np.abs(first.y - first.y_pred) / (first.y.abs() + first.y_pred.abs())
    assert lines["last"].get_ydata()[0] == pytest.approx(ape.mean())
    assert (tmp_path / "d.png").exists() and (tmp_path / "s.png").exists()


def test_period_time_stamps_are_drawn(monthly_series):
    s = monthly_series.copy()
    s.index = s.index.to_period("M")
    cv = backtest(LastValue(), s, horizon=6, n_windows=1, n_jobs=1, progress=False)
    assert isinstance(cv["ds"].dtype, pd.PeriodDtype)
    hist = s.reset_index().rename(columns={"index": "ds", "sales": "y"}).assign(unique_id="sales")
    _labelled(plot_forecasts(cv, hist, n_series=1))


LEVELS = [0.025, 0.1, 0.5, 0.9, 0.975]


@pytest.fixture
def prob_cv(panel_df):
    return backtest({"gauss": GaussianLast(), "wide": GaussianLast(scale=3.0),
                     "plain": LastValue()}, panel_df, horizon=5, n_windows=2, n_jobs=1,
                    progress=False, quantiles=LEVELS, skip_unsupported=True)


def _band_bounds(collection):
    """Lower and upper edges of a fill_between band, ordered by x."""
    path = collection.get_paths()[0].vertices
    xs = np.unique(path[:, 0])
    lo = np.array([path[path[:, 0] == x, 1].min() for x in xs])
    hi = np.array([path[path[:, 0] == x, 1].max() for x in xs])
    return xs, lo, hi


def test_forecast_plot_draws_80_and_95_bands(prob_cv, panel_df, tmp_path):
    fig = plot_forecasts(prob_cv, panel_df, n_series=2, path=tmp_path / "bands.png")
    axes = _labelled(fig)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["history", "actual", "gauss", "wide", "plain", "95% interval",
                      "80% interval"]
    ax = axes[0]
    sid = ax.get_title().removeprefix("series ")
    bands = {c.get_label(): c for c in ax.collections}
    # two bands per model with quantiles, none for the point-only model
    assert set(bands) == {"_gauss 95%", "_gauss 80%", "_wide 95%", "_wide 80%"}
    rows = prob_cv[(prob_cv.unique_id == sid) & (prob_cv.model == "wide")
                   & (prob_cv.window == 1)]
    xs, lo, hi = _band_bounds(bands["_wide 95%"])
    np.testing.assert_array_equal(xs, rows.ds)
    np.testing.assert_allclose(lo, rows["q0.025"])
    np.testing.assert_allclose(hi, rows["q0.975"])
    _, lo, hi = _band_bounds(bands["_gauss 80%"])
    g = prob_cv[(prob_cv.unique_id == sid) & (prob_cv.model == "gauss") & (prob_cv.window == 1)]
    np.testing.assert_allclose(lo, g["q0.1"])
    np.testing.assert_allclose(hi, g["q0.9"])
    assert (tmp_path / "bands.png").read_bytes()[:4] == b"\x89PNG"


def test_interval_columns_of_predict_interval_are_drawn_too(prob_cv, panel_df):
    renamed = prob_cv.rename(columns={"q0.025": "lo-95", "q0.975": "hi-95"})
    renamed = renamed.drop(columns=["q0.1", "q0.9"])
    fig = plot_forecasts(renamed, panel_df, n_series=1)
    assert {c.get_label() for c in fig.axes[0].collections} == {"_gauss 95%", "_wide 95%"}


def test_calibration_plot_values_equal_a_hand_count(prob_cv, tmp_path):
    fig = plot_calibration(prob_cv, path=tmp_path / "calibration.png")
    (ax,) = _labelled(fig)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"perfect calibration", "gauss", "wide"}  # the point model left out
    np.testing.assert_array_equal(lines["perfect calibration"].get_xdata(), [0, 1])
    np.testing.assert_array_equal(lines["perfect calibration"].get_ydata(), [0, 1])
    for model in ("gauss", "wide"):
        rows = prob_cv[prob_cv.model == model]
        expected = []
        for level in LEVELS:
            col = f"q{level:g}"
            below = sum(1 for y, q in zip(rows.y, rows[col], strict=True) if y <= q)
            expected.append(below / len(rows))
        np.testing.assert_array_equal(lines[model].get_xdata(), LEVELS)
        np.testing.assert_allclose(lines[model].get_ydata(), expected)
    # wider intervals put fewer actuals below the low quantiles, more below the high ones
    assert lines["wide"].get_ydata()[0] <= lines["gauss"].get_ydata()[0]
    assert lines["wide"].get_ydata()[-1] >= lines["gauss"].get_ydata()[-1]
    assert (tmp_path / "calibration.png").read_bytes()[:4] == b"\x89PNG"


def test_calibration_plot_needs_quantiles(cv):
    with pytest.raises(InvalidInputError, match="no quantiles"):
        plot_calibration(cv)
