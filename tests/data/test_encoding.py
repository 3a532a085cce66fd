"""Calendar one-hots (checked against pandas fields via pd.get_dummies) and id encodings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastkit.data import (
    calendar_feature_names,
    calendar_features,
    encode_ids,
    seasonal_position_onehot,
)
from forecastkit.exceptions import FrequencyError, InvalidInputError

CASES = [
    # freq alias, pandas field it should one-hot, number of columns, first value
    ("MS", "month", 12, 1),
    ("ME", "month", 12, 1),
    ("QS", "quarter", 4, 1),
    ("D", "day_of_week", 7, 0),
    ("B", "day_of_week", 7, 0),
    ("h", "hour", 24, 0),
    ("30min", "hour", 24, 0),
]


def _reference(idx, field, n, first):
    codes = pd.Categorical(getattr(idx, field), categories=range(first, first + n))
    return pd.get_dummies(codes).to_numpy(dtype=np.float32)


@pytest.mark.parametrize(("freq", "field", "n", "first"), CASES)
def test_calendar_by_frequency(freq, field, n, first):
    idx = pd.date_range("2021-03-05", periods=400, freq=freq)
    got = calendar_features(idx.values, freq)
    np.testing.assert_array_equal(got, _reference(idx, field, n, first))
    assert got.shape == (400, n)
    assert calendar_feature_names(freq)[0] == f"{field}_{first}"


def test_weekly_is_iso_week_of_year():
    idx = pd.date_range("2019-12-01", periods=120, freq="W-SUN")
    got = calendar_features(idx, "W-SUN")
    np.testing.assert_array_equal(got.argmax(axis=1) + 1, idx.isocalendar().week.to_numpy())
    assert got.shape[1] == 53 and np.all(got.sum(axis=1) == 1)


def test_yearly_has_no_calendar_columns_and_period_input_works():
    assert calendar_features(pd.date_range("2000", periods=5, freq="YS"), "YS").shape == (5, 0)
    pidx = pd.period_range("2000-01", periods=24, freq="M")
    got = calendar_features(pidx, pidx.freq)
    np.testing.assert_array_equal(got.argmax(axis=1) + 1, pidx.month)


def test_integer_time_uses_season_position():
    t = np.arange(-5, 30)
    got = calendar_features(t, None, season_length=7)
    np.testing.assert_array_equal(got, np.eye(7, dtype=np.float32)[t % 7])
    np.testing.assert_array_equal(seasonal_position_onehot(t, 7), got)
    with pytest.raises(InvalidInputError, match="season_length"):
        calendar_features(t, None)
    with pytest.raises(InvalidInputError, match="integer"):
        seasonal_position_onehot(t.astype(float), 7)
    with pytest.raises(FrequencyError, match="unknown frequency"):
        calendar_features(pd.date_range("2000", periods=3, freq="D"), "not-a-freq")


def test_encode_ids_round_trip_and_unknown_ids():
    ids = np.array(["b", "a", "b", "c"], dtype=object)
    codes, mapping = encode_ids(ids, kind="integer")
    np.testing.assert_array_equal(codes, [0, 1, 0, 2])
    assert mapping == {"b": 0, "a": 1, "c": 2}
    onehot, _ = encode_ids(["c", "b"], mapping=mapping)
    np.testing.assert_array_equal(onehot, np.eye(3)[[2, 0]])
    with pytest.raises(InvalidInputError, match="'zz'.*not seen"):
        encode_ids(["a", "zz"], kind="integer", mapping=mapping)
    with pytest.raises(InvalidInputError, match="kind"):
        encode_ids(ids, kind="hash")
    int_codes, int_map = encode_ids([10, 20, 10], kind="integer")
    np.testing.assert_array_equal(int_codes, [0, 1, 0])
    assert int_map == {10: 0, 20: 1}
