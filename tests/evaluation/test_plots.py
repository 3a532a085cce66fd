import numpy as np
import pandas as pd
import pytest
from _dummies import LastValue

from forecastkit.evaluation.backtest import backtest, backtest_metrics
from forecastkit.evaluation.plots import (
    plot_error_by_step,
    plot_error_distribution,
    plot_forecasts,
)


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
