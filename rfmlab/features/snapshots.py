"""Customer tables as of a series of dates (month, week or quarter ends) from one cleaned log.

The kept lines are read once and folded into one row per (customer, invoice, kind, day): the same sums and
counts ``features.aggregate`` takes per customer, on a table a few percent of the log's size.
Each snapshot aggregates the rows before its date, exactly as ``pipeline.customer_table`` with that
``analysis_date`` (tested): a customer with no purchase yet is absent from it, not a zero row.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from rfmlab.data import clean as clean_mod
from rfmlab.data import schema as S
from rfmlab.errors import ConfigError
from rfmlab.features._rfm import table as customer_rows

EVERY = {"week": "1w", "month": "1mo", "quarter": "3mo"}


def dates(first: date, last: date, *, every: str, start: date | None = None, end: date | None = None) -> list[date]:
    """Snapshot dates: the starts of the periods after the first one (each snapshot sees the log up to the day
    before), from ``start`` (default: the end of the first period) to ``end`` (default: the day after ``last``)."""
    if every not in EVERY:
        raise ConfigError(f"--every {every!r}: use one of {', '.join(EVERY)}")
    end = end or last + timedelta(days=1)
    anchor = pl.Series([datetime.combine(first, datetime.min.time())]).dt.truncate(EVERY[every])[0].date()
    grid = pl.date_range(anchor, end + timedelta(days=366), EVERY[every], eager=True).to_list()
    out = [d for d in grid if d > first and d <= end and (start is None or d >= start)]
    if end not in out and (not out or end > out[-1]):
        out.append(end)  # the latest snapshot: the log as it ends
    if not out:
        raise ConfigError(f"no snapshot date between {start or first} and {end}; widen --start / --end")
    return out


DAY, INV = "_day", "_inv"


def fold(kept: pl.LazyFrame) -> pl.DataFrame:
    """One row per (customer, invoice, kind, day) of the kept lines: amount and lines. The invoice is kept as
    its 64-bit hash and the time as its day (recency and tenure count days; snapshots start at midnight):
    a 50M-line log folds to ~6M rows of 30 bytes plus the customer id."""
    return (
        kept.group_by(
            S.CUSTOMER, pl.col(S.INVOICE).hash().alias(INV), S.IS_RETURN, pl.col(S.TIMESTAMP).dt.date().alias(DAY)
        )
        .agg(pl.col(S.AMOUNT).sum(), pl.len().cast(pl.UInt32).alias("_n"))
        .collect(engine="streaming")
    )


def _aggregate(rows: pl.DataFrame, before: datetime) -> pl.DataFrame:
    """``features.aggregate``'s columns from folded rows before ``before``."""
    buy = ~pl.col(S.IS_RETURN)
    day = pl.col(DAY).cast(pl.Datetime("us"))
    bought_at = pl.when(buy).then(day)
    bought_invoice = pl.when(buy).then(pl.col(INV))
    return (
        rows.lazy()
        .filter(pl.col(DAY) < before.date())
        .group_by(S.CUSTOMER)
        .agg(
            bought_at.max().alias("_last"),
            bought_at.min().alias("_first"),
            pl.col(S.AMOUNT).sum().alias("monetary"),
            pl.when(~buy).then(-pl.col(S.AMOUNT)).sum().alias("_returned"),
            day.max().alias("_latest"),
            pl.col("_n").sum().cast(pl.UInt32).alias("_lines"),
            pl.when(~buy).then(pl.col("_n")).otherwise(0).sum().cast(pl.UInt32).alias("_return_lines"),
            (bought_invoice.n_unique() - (bought_invoice.null_count() > 0)).alias("frequency"),
        )
        .collect()
    )


def table(rows: pl.DataFrame, *, repeats: pl.DataFrame | None, as_of: date) -> pl.DataFrame:
    """The customer table as of ``as_of`` (lines before it), as ``pipeline.customer_table`` computes it."""
    before = datetime.combine(as_of, datetime.min.time())
    agg = _aggregate(rows, before)
    if repeats is not None and repeats.height:
        agg = clean_mod.remove_repeats(agg, repeats.filter(pl.col(S.TIMESTAMP) < before))
    agg, _ = clean_mod.nonpositive(agg)
    return customer_rows(agg, as_of=as_of)[0]


def tables(rows: pl.DataFrame, *, repeats: pl.DataFrame | None, when: list[date]) -> dict[date, pl.DataFrame]:
    return {d: table(rows, repeats=repeats, as_of=d) for d in when}
