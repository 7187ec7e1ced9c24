"""The standard BG/NBD summary of a cleaned log, in polars (Fader, Hardie & Lee 2005).

Per customer, counted on days with a purchase (purchase lines; returns are not netted into a day's spend):

- ``frequency``: repeat purchase periods, days with a purchase minus one;
- ``recency``: first to last purchase day, in the time unit;
- ``T``: first purchase day to the analysis date, in the time unit;
- ``monetary_value``: mean spend of the repeat days (the first day left out, as the literature defines it; 0 with
  no repeat).

The per-day table is the only thing read from the log (one streaming pass); a summary at any date, the
calibration period of a holdout and the holdout's actual purchases all come from it.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from rfmlab.clv._spec import DAYS_PER_UNIT
from rfmlab.data import schema as S

SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]


def purchase_days(tx: pl.DataFrame | pl.LazyFrame, *, repeats: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per customer and day with a purchase line: ``spend`` that day. ``repeats`` (exact repeats of kept lines, with
    ``_copies``; ``clean.scan``'s) come off the spend; a repeat never adds a day (its original is there)."""
    buy = tx.lazy().filter(~pl.col(S.IS_RETURN))
    day = pl.col(S.TIMESTAMP).dt.date().alias("day")
    out = buy.group_by(S.CUSTOMER, day).agg(pl.col(S.AMOUNT).sum().alias("spend")).collect(engine="streaming")
    if repeats is not None and repeats.height:
        less = (
            repeats.filter(~pl.col(S.IS_RETURN))
            .group_by(S.CUSTOMER, day)
            .agg((pl.col(S.AMOUNT) * pl.col("_copies")).sum().alias("_less"))
        )
        out = out.join(less, on=[S.CUSTOMER, "day"], how="left").with_columns(
            pl.col("spend") - pl.col("_less").fill_null(0.0)
        )
        out = out.drop("_less")
    return out.with_columns(pl.col("spend").round(6))


def before(days: pl.DataFrame, cutoff: date) -> pl.DataFrame:
    """The purchase days before ``cutoff`` (a calibration period)."""
    return days.filter(pl.col("day") < cutoff)


def summary(days: pl.DataFrame, *, as_of: date, time_unit: str = "weeks") -> pl.DataFrame:
    """``SUMMARY_COLUMNS`` per customer with a purchase day before ``as_of``, sorted by id."""
    unit = DAYS_PER_UNIT[time_unit]
    first, last = pl.col("day").min(), pl.col("day").max()
    spend = pl.col("spend").sort_by("day")
    out = (
        days.lazy()
        .filter(pl.col("day") < as_of)
        .group_by(S.CUSTOMER)
        .agg(
            (pl.len() - 1).cast(pl.Int64).alias("frequency"),
            ((last - first).dt.total_days() / unit).alias("recency"),
            ((pl.lit(as_of) - first).dt.total_days() / unit).alias("T"),
            (spend.sum() - spend.first()).alias("_repeat_spend"),
        )
        .with_columns(
            pl.when(pl.col("frequency") > 0)
            .then(pl.col("_repeat_spend") / pl.col("frequency"))
            .otherwise(0.0)
            .alias("monetary_value")
        )
        .select(SUMMARY_COLUMNS)
        .sort(S.CUSTOMER)
    )
    return out.collect()


def period_purchases(days: pl.DataFrame, *, start: date, end: date) -> pl.DataFrame:
    """Per customer: purchase days (``purchases``) and ``spend`` in [start, end)."""
    return (
        days.filter((pl.col("day") >= start) & (pl.col("day") < end))
        .group_by(S.CUSTOMER)
        .agg(pl.len().cast(pl.Int64).alias("purchases"), pl.col("spend").sum().alias("spend"))
    )


def from_timestamps(tx: pl.DataFrame, *, as_of: date | datetime, time_unit: str = "weeks") -> pl.DataFrame:
    """The summary of an in-memory canonical log (tests, scoring a small log)."""
    as_of = as_of.date() if isinstance(as_of, datetime) else as_of
    return summary(purchase_days(tx), as_of=as_of, time_unit=time_unit)
