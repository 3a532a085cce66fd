"""Covariates study: Chicago L-train daily ridership, models with and without drivers.

Run from the repository root::

    python experiments/covariates.py                        # every model, 4 windows (~1 h)
    python experiments/covariates.py --models snaive,theta  # minutes
    python experiments/covariates.py --validation --models lstm-cov,lstm-cov-lb56

Data: :func:`forecastkit.datasets.load_chicago` (20 stations, 2001-2016, daily, weather and
game covariates). A rolling origin over the last 56 days: 4 windows of 14 days; every model is
fitted on the days before each window's origin and forecasts its 14 days. Scored by sMAPE and
MASE (seasonal period 7, scaled by the training days), averaged over stations and windows.

``--validation`` cuts its windows from the training data instead, for choosing a
configuration without the test set: the 56 test days are dropped and the last
``VALIDATION_WINDOWS`` windows of 14 days of what is left are forecast (results in
``validation/`` under the output folder).

Covariates (chosen from what each column is, before any run):

* future-known: the games (known from the schedules), the US public holidays (the `holidays`
  package) and, for the network, the day of week and month;
* past-only: the weather (observed up to the forecast origin; ``-oracle`` rows instead give the
  network the actual weather of the horizon, the bound a perfect weather forecast would reach).

ARIMA is fitted on each window's last 730 days (two years): statsmodels' SARIMAX over 15 years
of daily data for 20 stations would take hours; the networks, Theta and the seasonal naive
read the full history. Forecasts are stored per model and window, so an interrupted run
resumes (``--fresh`` starts over). Writes experiments/results/covariates/.

``lstm-cov-lb56`` is ``lstm-cov`` with twice the default lookbacks (56, 42 and 84 days for
the three members instead of 28, 21 and 42), and ``lstm-cov-lr3`` is ``lstm-cov`` with Adam's
learning rate 3e-3 instead of 1e-3: candidates scored on the validation windows
(``experiments/results/covariates/validation/README.md`` has the rules). ``lstm-cov-lr3``
was adopted (``experiments/results/covariates/lr3/``); ``lstm-lr3`` is the network without
covariates at the same step, its reference.

A ``-closed`` suffix on any model (``lstm-cov-closed``, ``arima-cov-closed``, ``theta-closed``,
...) fits it on the training data with every day of zero rides set to NaN: a station with no
rides on a day was shut (240 such days, 2 of them since 2014, none in the test windows), and a
shutdown is not demand. The network then masks those days; ARIMA gets them interpolated. With
no zero left, the network's ``scaler="auto"`` takes log-levels, so its effects (holidays,
games, weekends) act in proportion to a station's level instead of adding the same amount to
every station's normalised level. Scores are always against the data as published.

A ``-floor`` suffix (``lstm-cov-floor``, ``arima-cov-floor``, after ``-closed`` if both) takes
that model's stored forecasts (fitting it first if they are not stored) and raises every
forecast below the station's lowest positive ride count of the last ``FLOOR_DAYS`` days before
the origin to that count. A forecast lower than anything the station carried in four weeks,
shut days aside, is most likely a holiday effect learned as one drop of the normalised level for
every station and applied to a quiet one, where it goes below zero (the rule and its choice:
``experiments/results/covariates/validation/README.md``, "A floor at the recent minimum").
``lstm-cov-recentmin`` is the same rule as the library's option
(``RNNForecaster(floor="recent_min", floor_window=FLOOR_DAYS)``), applied in the network's
serving graph and so by its SavedModel. It fits the network again, so it gives
``lstm-cov-floor``'s forecasts when ``lstm-cov`` was fitted by the same code on the same
machine; it is left out of the default ``--models``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402
from _common import RESULTS, command_line, header  # noqa: E402

import forecastkit as fk  # noqa: E402
from forecastkit.evaluation.report import markdown_table  # noqa: E402
from forecastkit.metrics import mase, smape  # noqa: E402

HORIZON, WINDOWS, SEASON = 14, 4, 7
VALIDATION_WINDOWS = 2
ARIMA_HISTORY = 730
# Baseball's four flags are one identical column in the source (the season): Cubs_Home stands
# for it (datasets/README.md).
GAMES = ["Blackhawks_Home", "Blackhawks_Away", "Bulls_Home", "Bulls_Away", "Bears_Home",
         "Bears_Away", "Cubs_Home"]
WEATHER = ["temp_min", "temp_max", "percip", "weather_rain", "weather_snow", "weather_storm"]
CALENDAR = ["dayofweek", "month"]
# The networks' covariates: games and holidays known ahead, weather observed up to now.
WITH_COVARIATES = {"futr_exog": GAMES, "hist_exog": WEATHER, "calendar": CALENDAR,
                   "holidays": "US"}


def _network(seed: int, **params):
    return fk.RNNForecaster(horizon=HORIZON, season_length=SEASON, random_state=seed, **params)


CLOSED = "-closed"
FLOOR, FLOOR_DAYS = "-floor", 28

# name -> estimator factory; seeds come from --seed
MODELS = {
    "snaive": lambda seed: fk.baselines.SeasonalNaive(season_length=SEASON),
    "theta": lambda seed: fk.baselines.Theta(season_length=SEASON),
    "arima": lambda seed: fk.baselines.ARIMA(season_length=SEASON),
    "arima-cov": lambda seed: fk.baselines.ARIMA(season_length=SEASON, futr_exog=GAMES,
                                                 holidays="US"),
    "lstm": lambda seed: _network(seed),
    # The network without covariates at the step lstm-cov-lr3 takes (a like-for-like reference).
    "lstm-lr3": lambda seed: _network(seed, learning_rate=3e-3),
    "lstm-cov": lambda seed: _network(seed, **WITH_COVARIATES),
    "lstm-cov-lb56": lambda seed: _network(seed, **WITH_COVARIATES, lookback=(56, 42, 84)),
    # Adam's step three times the defaults' (the M3 study found 1e-3 too small there).
    "lstm-cov-lr3": lambda seed: _network(seed, **WITH_COVARIATES, learning_rate=3e-3),
    # The -floor rule as the library's option, in the network's graph (so in its SavedModel).
    "lstm-cov-recentmin": lambda seed: _network(seed, **WITH_COVARIATES, floor="recent_min",
                                                floor_window=FLOOR_DAYS),
    # The weather of the horizon given as if it were known (the bound of a perfect forecast).
    "lstm-cov-oracle": lambda seed: _network(seed, **{**WITH_COVARIATES, "hist_exog": None,
                                                      "futr_exog": GAMES + WEATHER}),
}
X_COLUMNS = {"arima-cov": GAMES, **{name: GAMES + WEATHER for name in MODELS
                                     if name.startswith("lstm-cov")}}
# Rows run only when named: the library's floor (equal to lstm-cov-floor) and the candidates.
OPT_IN = ("lstm-cov-recentmin", "lstm-cov-lr3", "lstm-lr3")
OUT = RESULTS / "covariates"


def windows(y: pd.DataFrame, n: int = WINDOWS) -> list[pd.Timestamp]:
    """Forecast origins: the first day of each of the last ``n`` 14-day windows of ``y``."""
    last = y["ds"].max()
    first = last - pd.Timedelta(days=HORIZON * n - 1)
    return [first + pd.Timedelta(days=HORIZON * k) for k in range(n)]


def closures_missing(y: pd.DataFrame) -> pd.DataFrame:
    """``y`` with every day of zero rides (a station shut that day) set to NaN."""
    return y.assign(y=y["y"].where(y["y"] > 0))


def floored(forecasts: pd.DataFrame, y: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """``forecasts`` with each station's ``y_pred`` raised to at least its lowest positive
    value of ``y`` in the ``FLOOR_DAYS`` days before ``origin`` (unchanged for a station with
    none)."""
    recent = y[(y["ds"] < origin) & (y["ds"] >= origin - pd.Timedelta(days=FLOOR_DAYS))
               & (y["y"] > 0)]
    floor = forecasts["unique_id"].map(recent.groupby("unique_id")["y"].min())
    return forecasts.assign(y_pred=forecasts["y_pred"].where(
        floor.isna() | (forecasts["y_pred"] >= floor), floor))


def run_one(name: str, y: pd.DataFrame, X: pd.DataFrame, origin: pd.Timestamp, seed: int):
    """Forecasts of ``name`` for the 14 days from ``origin`` and its fit + predict seconds."""
    train = y[y["ds"] < origin]
    if name.startswith("arima"):
        train = train[train["ds"] >= origin - pd.Timedelta(days=ARIMA_HISTORY)]
    if name.endswith(CLOSED):
        train, name = closures_missing(train), name.removesuffix(CLOSED)
    model = MODELS[name](seed)
    cols = X_COLUMNS.get(name)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = None if cols is None else X[["unique_id", "ds", *cols]]
        out = model.fit(train, X=x).predict(HORIZON, X=x)
    return out, time.perf_counter() - start


def score(y: pd.DataFrame, forecasts: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    """sMAPE and MASE per station of one window's forecasts."""
    rows = []
    merged = forecasts.merge(y, on=["unique_id", "ds"], how="left")
    for sid, part in merged.groupby("unique_id"):
        history = y[(y["unique_id"] == sid) & (y["ds"] < origin)]["y"].to_numpy()
        rows.append({"unique_id": sid,
                     "smape": smape(part["y"].to_numpy(), part["y_pred"].to_numpy()),
                     "mase": mase(part["y"].to_numpy(), part["y_pred"].to_numpy(), history,
                                  SEASON)})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(m for m in MODELS if m not in OPT_IN))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="forget stored forecasts")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--validation", action="store_true",
                    help=f"forecast the last {VALIDATION_WINDOWS} windows of the training "
                    "data instead of the test windows")
    args = ap.parse_args(argv)
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in names
               if m.removesuffix(FLOOR).removesuffix(CLOSED) not in MODELS]
    if unknown:
        ap.error(f"unknown model {unknown[0]!r}; choose from {list(MODELS)}, each "
                 f"also with {CLOSED!r} and/or {FLOOR!r} (in that order)")
    train, test, X, info = fk.datasets.load_chicago(test_days=HORIZON * WINDOWS)
    y = pd.concat([train, test], ignore_index=True)
    n_windows, out_dir = WINDOWS, args.out
    if args.validation:
        # The test days are dropped, so no fit and no score can see them.
        y, n_windows, out_dir = train, VALIDATION_WINDOWS, args.out / "validation"
        X = X[X["ds"] <= train["ds"].max()]
    store = out_dir / "forecasts"
    store.mkdir(parents=True, exist_ok=True)
    # A floored model needs its base model's forecasts first.
    names = [n for name in names for n in ([name.removesuffix(FLOOR)] if name.endswith(FLOOR)
                                           else []) + [name]]
    done = set()
    for name in names:
        for k, origin in enumerate(windows(y, n_windows)):
            file = store / f"{name}-seed{args.seed}-w{k}.csv"
            if (file.exists() and not args.fresh) or file in done:
                continue
            print(f"{name} window {k} ({origin.date()})", flush=True)
            if name.endswith(FLOOR):
                base = store / f"{name.removesuffix(FLOOR)}-seed{args.seed}-w{k}.csv"
                out = floored(pd.read_csv(base, parse_dates=["ds"]), y, origin)
            else:
                out, seconds = run_one(name, y, X, origin, args.seed)
                out = out.assign(seconds=seconds, window=k)
            out.to_csv(file.with_suffix(".partial"), index=False)
            os.replace(file.with_suffix(".partial"), file)  # a stored unit is a whole one
            done.add(file)
    write_report(y, out_dir, args.seed, n_windows)
    return 0


def write_report(y: pd.DataFrame, out: Path, seed: int, n_windows: int = WINDOWS) -> None:
    rows, per_series = [], []
    origins = windows(y, n_windows)
    for file in sorted((out / "forecasts").glob(f"*-seed{seed}-w*.csv")):
        name, k = file.stem.rsplit("-seed", 1)[0], int(file.stem.rsplit("-w", 1)[1])
        forecasts = pd.read_csv(file, parse_dates=["ds"])
        scores = score(y, forecasts, origins[k]).assign(model=name, window=k)
        per_series.append(scores)
        rows.append({"model": name, "window": k, "seconds": forecasts["seconds"].iloc[0]})
    if not rows:
        return
    scores = pd.concat(per_series, ignore_index=True)
    costs = pd.DataFrame(rows).groupby("model")["seconds"].sum()
    windows_done = scores.groupby("model")["window"].nunique()
    table = scores.groupby("model")[["smape", "mase"]].mean().join(costs).join(
        windows_done.rename("windows")).sort_values("mase")
    scores.to_csv(out / "per_series.csv", index=False)
    table.to_csv(out / "metrics.csv")
    title = "Covariates study: Chicago L-train daily ridership"
    if n_windows != WINDOWS:
        title += f" (validation: the last {n_windows} windows of the training data)"
    lines = header(title, command_line())
    lines += [
        f"- Data: 20 stations, daily, {y['ds'].min().date()} .. {y['ds'].max().date()}; "
        f"{n_windows} windows of {HORIZON} days (the last {HORIZON * n_windows} days), "
        f"seed {seed}",
        f"- ARIMA rows fit the last {ARIMA_HISTORY} days before each origin; the others the full "
        "history",
        f"- Covariates: games {GAMES} and US holidays future-known; weather {WEATHER} past-only"
        + (" (the `-oracle` row: the actual weather of the horizon given as known)"
           if "lstm-cov-oracle" in table.index else "")
        + f"; the networks also read the calendar {CALENDAR}",
        "",
        "sMAPE and MASE (period 7): mean over stations and windows; seconds: fit + forecast, "
        "all windows.",
        "",
        markdown_table(table.reset_index()),
        "",
        "MASE per window (origin = the window's first forecast day):",
        "",
        markdown_table(scores.pivot_table(index="model", columns="window", values="mase")
                       .rename(columns={k: str(o.date()) for k, o in enumerate(origins)})
                       .loc[table.index].reset_index()),
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
