"""The ``clv`` config section: customer lifetime value from BG/NBD + Gamma-Gamma (pymc-marketing)."""

from __future__ import annotations

from dataclasses import dataclass

from rfmlab.errors import ConfigError, options

DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0}
# time units per month in the CLV sum: pymc-marketing's customer_lifetime_value factors ("D": 30, "W": 4.345)
UNITS_PER_MONTH = {"days": 30.0, "weeks": 4.345}
METHODS = ("map", "mcmc")
PRIORS = ("flat", "pymc")


@dataclass(frozen=True, kw_only=True)
class ClvSpec:
    enabled: bool = False
    time_unit: str = "weeks"  # days | weeks: recency and T are counted in this unit (frequency is in days)
    horizon_days: int = 90  # expected_purchases and expected_spend over this many days
    horizon_months: int = 12  # clv: expected spend over this many months, discounted monthly
    discount_rate: float = 0.01  # monthly
    holdout_days: int = 0  # > 0: the last days of the log validate a fit on the days before them
    method: str = "map"  # map (maximum a posteriori; the ML estimate with flat priors) | mcmc (NUTS posterior)
    priors: str = "flat"  # flat (HalfFlat: MAP = maximum likelihood) | pymc (pymc-marketing's default priors)
    draws: int = 500  # mcmc: draws per chain
    chains: int = 2  # mcmc: chains

    @classmethod
    def from_dict(cls, d: dict | None) -> ClvSpec:
        """Validated before any data is read; a wrong value is a one-line ConfigError naming it."""
        spec = options(cls, d=d, where="clv")
        _check(spec.time_unit in DAYS_PER_UNIT, f"clv.time_unit={spec.time_unit!r}; use days or weeks")
        _check(spec.method in METHODS, f"clv.method={spec.method!r}; use map or mcmc")
        _check(spec.priors in PRIORS, f"clv.priors={spec.priors!r}; use flat or pymc")
        for key in ("horizon_days", "horizon_months", "draws", "chains"):
            _check(int(getattr(spec, key)) >= 1, f"clv.{key}={getattr(spec, key)!r}; use a whole number >= 1")
        _check(int(spec.holdout_days or 0) >= 0, f"clv.holdout_days={spec.holdout_days!r}; use 0 (off) or more days")
        _check(
            0 <= float(spec.discount_rate) < 1,
            f"clv.discount_rate={spec.discount_rate!r}; use a monthly rate in [0, 1)",
        )
        return cls(
            enabled=bool(spec.enabled),
            time_unit=spec.time_unit,
            horizon_days=int(spec.horizon_days),
            horizon_months=int(spec.horizon_months),
            discount_rate=float(spec.discount_rate),
            holdout_days=int(spec.holdout_days or 0),
            method=spec.method,
            priors=spec.priors,
            draws=int(spec.draws),
            chains=int(spec.chains),
        )

    @property
    def horizon(self) -> float:
        """``horizon_days`` in ``time_unit``."""
        return self.horizon_days / DAYS_PER_UNIT[self.time_unit]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)
