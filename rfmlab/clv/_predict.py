"""Per-customer predictions from fitted BG/NBD and Gamma-Gamma parameters, in closed form (numpy/scipy).

The same formulas as pymc-marketing's ``BetaGeoModel.expected_probability_alive`` / ``expected_purchases``,
``GammaGammaModel.expected_customer_spend`` and ``customer_lifetime_value`` (tested equal), evaluated with point
parameters: no chain x draw x customer arrays (pymc-marketing's memory problem at 200k+ customers), and nothing
but numpy and scipy at scoring time, so a promoted model scores new customers without pymc installed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy.special import expit, hyp2f1

from rfmlab.clv._spec import DAYS_PER_UNIT, UNITS_PER_MONTH

PREDICTION_COLUMNS = ["p_alive", "expected_purchases", "expected_spend", "clv"]


@dataclass(frozen=True, kw_only=True)
class ClvParams:
    """Fitted parameters and how to predict with them (what a promoted model carries)."""

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    v: float
    time_unit: str = "weeks"
    horizon_days: int = 90
    horizon_months: int = 12
    discount_rate: float = 0.01

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ClvParams:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def metrics(self) -> dict[str, float]:
        bg = {f"clv.bgnbd.{k}": getattr(self, k) for k in ("r", "alpha", "a", "b")}
        return {**bg, **{f"clv.gg.{k}": getattr(self, k) for k in ("p", "q", "v")}}


def _arrays(summary: pl.DataFrame):
    return (summary[c].cast(pl.Float64).to_numpy() for c in ("frequency", "recency", "T"))


def p_alive(summary: pl.DataFrame, params: ClvParams) -> np.ndarray:
    """P(alive) (Fader, Hardie & Lee 2008): 1 for a customer with no repeat purchase, as BG/NBD defines it."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = _arrays(summary)
    log_div = (r + x) * np.log((alpha + T) / (alpha + t_x)) + np.log(a / (b + np.maximum(x, 1) - 1))
    return np.where(x == 0, 1.0, expit(-log_div))


def expected_purchases(summary: pl.DataFrame, params: ClvParams, *, t: float) -> np.ndarray:
    """Expected purchases in the next ``t`` time units (BG/NBD, Fader, Hardie & Lee 2005, eq. 10)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x, t_x, T = _arrays(summary)
    num = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    num *= (a + b + x - 1) / (a - 1)
    den = 1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return num / den


def expected_spend(summary: pl.DataFrame, params: ClvParams) -> np.ndarray:
    """Expected spend per purchase (Gamma-Gamma, Fader & Hardie 2013 eq. 5): the population mean pulled towards the
    customer's own mean repeat spend by their number of repeats (the population mean with none)."""
    p, q, v = params.p, params.q, params.v
    x = summary["frequency"].cast(pl.Float64).to_numpy()
    z = summary["monetary_value"].cast(pl.Float64).to_numpy()
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * (v * p / (q - 1)) + weight * z


def lifetime_value(summary: pl.DataFrame, params: ClvParams, *, spend: np.ndarray | None = None) -> np.ndarray:
    """Discounted expected spend over ``horizon_months`` (pymc-marketing's ``customer_lifetime_value``: each month's
    expected purchases times expected spend, divided by (1 + discount_rate) ** month)."""
    spend = expected_spend(summary, params) if spend is None else spend
    factor, rate, months = UNITS_PER_MONTH[params.time_unit], params.discount_rate, params.horizon_months
    steps = np.arange(months, months + 1) if rate == 0.0 else np.arange(1, months + 1)
    clv, previous = np.zeros(summary.height), 0.0
    for month in steps:
        cumulative = expected_purchases(summary, params, t=month * factor)
        clv += spend * (cumulative - previous) / (1 + rate) ** month
        previous = cumulative
    return clv


def predict(summary: pl.DataFrame, params: ClvParams) -> pl.DataFrame:
    """``customer_id`` and ``PREDICTION_COLUMNS`` for every customer of ``summary``."""
    horizon = params.horizon_days / DAYS_PER_UNIT[params.time_unit]
    spend = expected_spend(summary, params)
    purchases = expected_purchases(summary, params, t=horizon)
    return pl.DataFrame(
        {
            "customer_id": summary["customer_id"],
            "p_alive": p_alive(summary, params),
            "expected_purchases": purchases,
            "expected_spend": purchases * spend,
            "clv": lifetime_value(summary, params, spend=spend),
        }
    )
