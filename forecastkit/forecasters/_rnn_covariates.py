"""What :class:`~forecastkit.forecasters.rnn.RNNForecaster` does with covariates: the members'
covariate inputs and scaling at ``fit``, and the serving model's covariate inputs at ``predict``.
"""

from __future__ import annotations

import numpy as np

from forecastkit.data.frames import Panel

__all__ = ["covariate_layout", "covariate_inputs"]


def covariate_layout(f, panel: Panel) -> dict | None:
    """The members' covariate inputs and their scaling (None without covariates).

    Covariate columns of ``X`` and numeric statics are standardised with the mean and
    standard deviation over all training rows (all series pooled: a global model needs one
    scale per column); calendar, holiday and category columns are 0/1 and left as they are.
    """
    from forecastkit.exceptions import CovariateError
    from forecastkit.forecasters._network import CovariateLayout

    cov = panel.covariates
    if cov is None:
        return None
    spec = cov.spec
    if f.strategy == "recursive" and spec.hist:
        # The loop appends each forecast step's covariates to the history it feeds back: the
        # future-known ones are there, past-only ones are not.
        raise CovariateError(
            f"the recursive strategy reads future-known covariates only: {list(spec.hist)} "
            f"(hist_exog) have no values over the steps it feeds back; use strategy='direct' "
            f"or 'seq2seq', or name them in futr_exog if they are known ahead"
        )
    mean, std = _column_stats(cov.past, spec.n_scaled_past)
    future = [mean[j] for j in spec.future_in_past], [std[j] for j in spec.future_in_past]
    static = _column_stats(cov.static, len(spec.static_numeric))
    return CovariateLayout((mean, std), future, static).to_dict()


def _column_stats(x: np.ndarray, n_scaled: int) -> tuple[list[float], list[float]]:
    """Mean and std of the first ``n_scaled`` columns (std 1 for a constant one); 0 and 1
    for the rest."""
    mean, std = np.zeros(x.shape[1]), np.ones(x.shape[1])
    if n_scaled and len(x):
        mean[:n_scaled] = x[:, :n_scaled].mean(axis=0)
        sd = x[:, :n_scaled].std(axis=0)
        std[:n_scaled] = np.where(sd > 1e-12 * np.maximum(np.abs(mean[:n_scaled]), 1.0), sd,
                                  1.0)
    return mean.tolist(), std.tolist()


def covariate_inputs(f, panel: Panel) -> dict[str, np.ndarray]:
    """The serving model's covariate inputs for the end of every series of ``panel``."""
    from forecastkit.exceptions import CovariateError
    from forecastkit.forecasters._network import CovariateLayout

    cov = panel.covariates
    n_past, n_future, n_static = CovariateLayout.from_dict(f.covariate_layout_).dims
    if cov is None:
        raise CovariateError("this RNNForecaster was fitted with covariates; forecast through "
                             "predict(X=..., static=...)")
    out = {}
    if n_past:
        window = f.window_
        hist = np.minimum(panel.lengths, window)
        steps = np.arange(window)
        pos = panel.indptr[1:, None] - window + steps[None, :]
        padded = steps[None, :] < (window - hist)[:, None]
        past = cov.past[np.clip(pos, 0, max(len(cov.past) - 1, 0))]
        out["past_cov"] = np.where(padded[..., None], 0.0, past).astype(np.float32)
    if n_future:
        if cov.future is None or cov.future.shape[1] < f.horizon:
            raise CovariateError(f"the future-known covariates must cover the {f.horizon} "
                                 f"steps the network forecasts")
        # A recursive network reads as many steps as it forecasts, possibly beyond horizon.
        steps = cov.future.shape[1] if f.strategy == "recursive" else f.horizon
        out["future_cov"] = np.ascontiguousarray(cov.future[:, :steps], np.float32)
    if n_static:
        out["static"] = np.asarray(cov.static, np.float32)
    return out
