"""sMAPE, MASE and OWA of M4 Weekly test forecasts (OWA against M4's Naive2 on Weekly:
sMAPE 9.161, MASE 2.777), computed here by plain loops over the series.

    python score.py old-code-seed0-shuffle100.csv.gz ...
"""
import sys

import numpy as np
import pandas as pd

import forecastkit as fk

NAIVE2_SMAPE, NAIVE2_MASE = 9.16129, 2.77729


def main(files: list[str]) -> None:
    train, test, _ = fk.datasets.load_m4("weekly")
    test = test.sort_values(["unique_id", "ds"])
    history = train.sort_values(["unique_id", "ds"]).groupby("unique_id")["y"]
    scale = history.apply(lambda v: np.mean(np.abs(np.diff(v.to_numpy()))))  # period 1
    for file in files:
        p = pd.read_csv(file).sort_values(["unique_id", "ds"])
        assert (test["unique_id"].to_numpy() == p["unique_id"].to_numpy()).all()
        y, yhat = test["y"].to_numpy(), p["y_pred"].to_numpy()
        ids = test["unique_id"].to_numpy()
        smape = pd.Series(200 * np.abs(y - yhat) / (np.abs(y) + np.abs(yhat))).groupby(ids)
        mase = pd.Series(np.abs(y - yhat)).groupby(ids).mean() / scale
        s, m = smape.mean().mean(), mase.mean()
        owa = 0.5 * (s / NAIVE2_SMAPE + m / NAIVE2_MASE)
        print(file, round(s, 4), round(m, 4), round(owa, 4))


if __name__ == "__main__":
    main(sys.argv[1:])
