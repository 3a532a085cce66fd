"""drop_unusable_series: late starters trimmed, empty and short series dropped with a record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import forecastkit as fk
from forecastkit.exceptions import ForecastkitWarning, InvalidInputError


def _frame():
    rows = []
    for sid, values in {"full": [1.0, 2, 3, 4, 5, 6], "late": [np.nan, np.nan, 3, 4, 5, 6],
                        "empty": [np.nan] * 6, "short": [np.nan] * 4 + [5.0, 6]}.items():
        rows.append(pd.DataFrame({"unique_id": sid, "ds": np.arange(6), "y": values}))
    return pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=0)


def test_drops_with_a_record_and_trims_late_starters():
    y = _frame()
    with pytest.warns(ForecastkitWarning, match="dropped 2 of 4 series"):
        kept, dropped = fk.data.drop_unusable_series(y, min_length=3)
    assert dict(zip(dropped.unique_id, dropped.reason, strict=True)) == {
        "empty": "no observed value",
        "short": "2 steps from its first observation, fewer than 3"}
    assert dropped.set_index("unique_id").n_rows.to_dict() == {"empty": 6, "short": 6}
    assert kept.groupby("unique_id").size().to_dict() == {"full": 6, "late": 4}
    assert kept["y"].notna().all()
    assert list(kept.index) == [i for i in y.index if i in set(kept.index)]  # y's row order
    model = fk.baselines.Naive(horizon=2)
    assert model.fit(kept.sort_values(["unique_id", "ds"])).predict().unique_id.nunique() == 2


def test_a_model_minimum_and_bad_input():
    kept, dropped = fk.data.drop_unusable_series(_frame().query("unique_id == 'full'"),
                                                 min_length=fk.baselines.ARIMA().min_train_length)
    assert len(dropped) == 0 or dropped.unique_id.tolist() == ["full"]
    with pytest.raises(InvalidInputError, match="min_length"):
        fk.data.drop_unusable_series(_frame(), min_length=0)
    with pytest.raises(InvalidInputError, match="columns"):
        fk.data.drop_unusable_series(_frame().rename(columns={"y": "value"}))
