"""How forecasters take covariates: checks at ``fit``/``predict`` and the panel they forecast.

A forecaster that reads covariates sets ``supports_covariates = True`` and has the parameters
``futr_exog``, ``hist_exog``, ``stat_exog``, ``calendar`` and ``holidays``. ``fit(y, X,
static)`` learns a :class:`~forecastkit.data.covariates.CovariateSpec` (``covariate_spec_``)
and hands ``_fit`` a panel whose ``covariates`` hold the aligned arrays; every forecasting
method hands ``_predict`` (and the probabilistic hooks) a panel whose covariates also hold the
future-known values of the horizon. Any other forecaster refuses ``X`` and ``static`` with a
CovariateError instead of ignoring them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import ClassVar

from forecastkit.data.covariates import (
    build_covariates,
    future_covariates,
    resolve_spec,
    static_matrix,
)
from forecastkit.exceptions import CovariateError

__all__ = ["CovariatesMixin", "COVARIATE_PARAMS"]

COVARIATE_PARAMS = ("futr_exog", "hist_exog", "stat_exog", "calendar", "holidays")


class CovariatesMixin:
    """Covariate handling shared by every forecaster (see the module docstring)."""

    supports_covariates: ClassVar[bool] = False

    def _check_covariates_supported(self, X, static) -> None:
        if (X is not None or static is not None) and not self.supports_covariates:
            raise CovariateError(
                f"{type(self).__name__} cannot use covariates (X, static); RNNForecaster and "
                f"ARIMA can, or pass X=None and static=None"
            )

    def _with_fit_covariates(self, panel, X, static):
        """``panel`` with its covariates attached (sets ``covariate_spec_``)."""
        if not self.supports_covariates:
            return panel
        params = {k: getattr(self, k, None) for k in COVARIATE_PARAMS}
        spec = resolve_spec(X, static, panel, **params)
        self.covariate_spec_ = spec
        if spec is None:
            return panel
        return replace(panel, covariates=build_covariates(spec, X, static, panel))

    @property
    def _reads_covariates(self) -> bool:
        return getattr(self, "covariate_spec_", None) is not None

    @contextmanager
    def _covariates_request(self, X, static, horizon: int):
        """Hold the covariates of one forecasting call for :meth:`_with_forecast_covariates`."""
        self._check_covariates_supported(X, static)
        if (X is not None or static is not None) and not self._reads_covariates:
            raise CovariateError(f"this {type(self).__name__} was fitted without covariates; "
                                 f"pass X=None and static=None, or fit it with them")
        self._request = (X, static, horizon)
        try:
            yield
        finally:
            del self._request

    def _with_forecast_covariates(self, panel, new: bool):
        """The panel to forecast from, with its covariates and those of the horizon.

        ``new``: ``panel`` holds new histories (their covariates come from the request's ``X``
        and ``static``); otherwise it is the training panel, whose history covariates are
        known from ``fit``.
        """
        if not self._reads_covariates:
            return panel
        X, static, horizon = getattr(self, "_request", (None, None, None))
        if horizon is None:
            raise CovariateError(f"{type(self).__name__} forecasts from covariates; call it "
                                 f"through predict, predict_interval or sample_paths")
        spec = self.covariate_spec_
        horizon = self._covariate_horizon(horizon)
        if spec.futr and X is None:
            raise CovariateError(f"{type(self).__name__} was fitted with future-known "
                                 f"covariates {list(spec.futr)}: pass X covering the horizon")
        if new:
            return replace(panel, covariates=build_covariates(spec, X, static, panel, horizon))
        cov = panel.covariates
        if static is not None:
            cov = replace(cov, static=static_matrix(spec, static, panel))
        return replace(panel, covariates=cov.with_future(future_covariates(spec, X, panel,
                                                                            horizon)))

    def _covariate_horizon(self, horizon: int) -> int:
        """Steps of future-known covariates a forecast of ``horizon`` steps reads."""
        return horizon

    def _fit_copy(self, fresh, panel):
        """``fresh`` (an unfitted clone) fitted on new histories, with the request's
        covariates when the model reads them."""
        if not self._reads_covariates:
            return fresh.fit(panel)
        X, static, horizon = self._request
        fitted = fresh.fit(panel, X=X, static=static)
        fitted._request = self._request
        return fitted
