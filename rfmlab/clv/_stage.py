"""The CLV stage of a run: summary -> fits -> per-customer predictions (+ a holdout validation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from rfmlab.clv import _fit, _holdout, _predict
from rfmlab.clv._spec import ClvSpec
from rfmlab.clv._summary import summary as summarise
from rfmlab.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class ClvResult:
    params: _predict.ClvParams
    summary: pl.DataFrame  # SUMMARY_COLUMNS per customer
    predictions: pl.DataFrame  # customer_id + PREDICTION_COLUMNS
    spend_correlation: float  # Gamma-Gamma's independence assumption checked (near 0 is what it needs)
    method: str
    priors: str
    holdout: _holdout.Holdout | None = None

    def metrics(self) -> dict[str, float]:
        rep = self.summary["frequency"] > 0
        out = {
            **self.params.metrics(),
            "clv.gg.freq_spend_corr": self.spend_correlation,
            "clv.repeat_share": float(rep.mean()),
            "clv.total": float(self.predictions["clv"].sum()),
            "clv.expected_purchases_total": float(self.predictions["expected_purchases"].sum()),
            "clv.p_alive_mean": float(self.predictions["p_alive"].mean()),
        }
        return {**out, **(self.holdout.metrics if self.holdout else {})}

    def params_logged(self) -> dict[str, str]:
        return {"clv.time_unit": self.params.time_unit, "clv.method": self.method, "clv.priors": self.priors}


def fit_params(summary: pl.DataFrame, *, spec: ClvSpec, seed: int = 0) -> _predict.ClvParams:
    """Both models fitted on ``summary``; the prediction settings from ``spec``."""
    kw = {"method": spec.method, "draws": spec.draws, "chains": spec.chains, "seed": seed}
    bg = _fit.fit_bgnbd(summary, priors=spec.priors, **kw)
    gg = _fit.fit_gamma_gamma(summary, **kw)
    return _predict.ClvParams(
        **bg,
        **gg,
        time_unit=spec.time_unit,
        horizon_days=spec.horizon_days,
        horizon_months=spec.horizon_months,
        discount_rate=spec.discount_rate,
    )


def run(days: pl.DataFrame, *, as_of: date, spec: ClvSpec, seed: int = 0, customers: pl.Series | None = None):
    """``ClvResult`` of a log's purchase days (``purchase_days``) as of ``as_of``; ``customers`` keeps only those
    ids (the customer table's: a customer cleaning dropped is not predicted). A holdout (``spec.holdout_days``)
    fits the calibration period once more and validates it on the days after."""

    def kept(frame: pl.DataFrame) -> pl.DataFrame:
        return frame if customers is None else frame.filter(pl.col("customer_id").is_in(customers.implode()))

    summary = kept(summarise(days, as_of=as_of, time_unit=spec.time_unit))
    cal = start = holdout = None
    if spec.holdout_days:  # checked before any fit
        cal, start = _holdout.split(days, as_of=as_of, holdout_days=spec.holdout_days, time_unit=spec.time_unit)
        cal = kept(cal)
        if cal.height < 2 or start <= days["day"].min():
            raise ConfigError(f"clv.holdout_days={spec.holdout_days} leaves no calibration period; use fewer days")
    params = fit_params(summary, spec=spec, seed=seed)
    if cal is not None:
        holdout = _holdout.validate(days, cal, start=start, end=as_of, params=fit_params(cal, spec=spec, seed=seed))
    return ClvResult(
        params=params,
        summary=summary,
        predictions=_predict.predict(summary, params),
        spend_correlation=_fit.spend_correlation(summary),
        method=spec.method,
        priors=spec.priors,
        holdout=holdout,
    )
