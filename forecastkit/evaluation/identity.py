"""Stable identities of a run: a forecaster's class and parameters as text, and a digest of a
panel's data; result stores and tuning studies recognise a run they can resume by them."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from forecastkit.data.frames import Panel

__all__ = ["describe", "fingerprint"]


def describe(forecaster) -> str:
    """A stable text of a forecaster's class and parameters (to recognise it on resume).

    Estimators inside parameters (a combination's members) are described the same way, in
    full: their ``repr`` would show only non-default parameters and scikit-learn cuts it short
    past 700 characters, so two combinations differing deep inside could read the same.
    """
    params = forecaster.get_params(deep=False) if hasattr(forecaster, "get_params") else {}
    # Parameters a class added after runs were stored are left out at the value that behaves
    # as before, so those runs still resume (BaseForecaster._identity_defaults).
    before = getattr(type(forecaster), "_identity_defaults", {})
    params = {k: v for k, v in params.items()
              if not (k in before and isinstance(v, str | type(None)) and v == before[k])}
    if params.get("callbacks") is not None:  # objects: their types, not their addresses
        params["callbacks"] = [type(cb).__name__ for cb in params["callbacks"]]
    body = ", ".join(f"{k}={describe_value(params[k])}" for k in sorted(params))
    return f"{type(forecaster).__name__}({body})"


def describe_value(value) -> str:
    """:func:`describe` of an estimator, element by element of a list or tuple, else repr."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        return describe(value)
    if isinstance(value, list | tuple):
        inner = [describe_value(v) for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(inner) + "]"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
    return repr(value)


def fingerprint(panel: Panel, X=None, static=None) -> str:
    """SHA-1 of a panel's ids, lengths, values and time stamps (hex), and of the covariate
    frames when given (without covariates, the digest of the panel alone, as before)."""
    h = hashlib.sha1()
    h.update(json.dumps([str(i) for i in panel.ids]).encode())
    h.update(np.ascontiguousarray(panel.lengths).tobytes())
    h.update(np.ascontiguousarray(panel.values).tobytes())
    h.update(np.ascontiguousarray(panel.times).view(np.int64).tobytes())
    for frame in (X, static):
        if frame is not None:
            import pandas as pd

            h.update(json.dumps([str(c) for c in frame.columns]).encode())
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()
