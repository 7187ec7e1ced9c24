"""Transaction logs simulated from the BG/NBD and Gamma-Gamma generative processes with known parameters.

Each customer makes a first purchase on an entry day, then buys at Poisson rate lambda ~ Gamma(r, alpha) (per
time unit) while active, and after each purchase drops out with probability p ~ Beta(a, b) (Fader, Hardie & Lee
2005, section 2). Every purchase's spend is Gamma(p_gg, nu) with nu ~ Gamma(q, v) per customer (Fader & Hardie
2013). Used by the known-answer tests and the scale benchmark.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

from rfmlab.clv._spec import DAYS_PER_UNIT
from rfmlab.data import schema as S


def _purchases(rng, *, n: int, r, alpha, a, b, entry: np.ndarray, end: float):
    """(customer index, time) of every purchase, first ones included; times in time units from day 0."""
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    drop = rng.beta(a, b, size=n)
    who, when = [np.arange(n)], [entry.copy()]
    t, active = entry.copy(), np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        t[idx] += rng.exponential(1.0 / lam[idx])
        buys = idx[t[idx] < end]
        who.append(buys)
        when.append(t[buys])
        active[:] = False
        active[buys] = rng.random(buys.size) >= drop[buys]  # after a purchase: still active with 1 - p
    return np.concatenate(who), np.concatenate(when)


def simulate(
    n: int,
    *,
    bgnbd: dict[str, float],
    gg: dict[str, float],
    days: int = 273,
    entry_days: int = 84,
    time_unit: str = "weeks",
    seed: int = 0,
    start: datetime = datetime(2020, 1, 1),
) -> pl.DataFrame:
    """A canonical log of ``n`` customers entering uniformly in the first ``entry_days`` and observed for ``days``;
    one invoice per purchase, at noon (two purchases of a customer on one day make one purchase day)."""
    rng = np.random.default_rng(seed)
    unit = DAYS_PER_UNIT[time_unit]
    entry = np.floor(rng.uniform(0, entry_days, size=n)) / unit
    who, when = _purchases(rng, n=n, entry=entry, end=days / unit, **bgnbd)
    nu = rng.gamma(gg["q"], 1.0 / gg["v"], size=n)
    amount = rng.gamma(gg["p"], 1.0 / nu[who])
    day = np.floor(when * unit).astype("int64")
    ts = pl.Series(day, dtype=pl.Int64) * 86_400_000_000 + 12 * 3_600_000_000
    base = pl.lit(start).cast(pl.Datetime("us"))
    return (
        pl.DataFrame({S.CUSTOMER: who, "_us": ts, S.AMOUNT: amount})
        .select(
            pl.format("c{}", pl.col(S.CUSTOMER)).alias(S.CUSTOMER),
            pl.int_range(pl.len()).cast(pl.String).alias(S.INVOICE),
            (base + pl.duration(microseconds=pl.col("_us"))).alias(S.TIMESTAMP),
            pl.col(S.AMOUNT).round(2),
            pl.lit(False).alias(S.IS_RETURN),
        )
        .sort(S.CUSTOMER, S.TIMESTAMP)
    )


def end_of(days: int, *, start: datetime = datetime(2020, 1, 1)):
    """The analysis date of a simulated log observed for ``days``."""
    return (start + timedelta(days=days)).date()
