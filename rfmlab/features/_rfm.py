"""RFM features per customer, in polars.

- ``recency``: days from the analysis date (default: the day after the last transaction) back to the
  customer's last purchase, counted in calendar days (a purchase on the last day gives 1).
- ``frequency``: distinct purchase invoices (trades, for a broker log); returns do not count.
- ``monetary``: net amount, purchases minus returns kept by cleaning (rounded to 6 decimals, so the
  streaming engine's summation order cannot change a run's result).
- ``tenure_days``: days from the first purchase to the analysis date.
- ``avg_order_value``: monetary / frequency.
- ``return_rate``: returned value / purchased value, clipped to [0, 1] (0 when returns were dropped).
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date, datetime, timedelta

import polars as pl

from rfmlab.data import schema as S
from rfmlab.errors import ConfigError, DataError


def parse_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as e:
        raise ConfigError(f"analysis date {value!r} is not an ISO date; use YYYY-MM-DD") from e


PROBE_ROWS = 100_000  # lines read up front to guess whether a log lists its invoices in order
RUNS_CHUNK_ROWS = 25_000  # streaming morsel size when counting invoice runs (measured in benchmarks/bench_rfm.py)


def _split_lines(buy: pl.Expr) -> pl.Expr:
    """Lines that break invoice order: an id lower than the line before, or an invoice that changes customer or
    kind (purchase/return) between consecutive lines. With none, every invoice is one run of consecutive lines."""
    inv, prev = pl.col(S.INVOICE), pl.col(S.INVOICE).shift(1)
    changed = (pl.col(S.CUSTOMER) != pl.col(S.CUSTOMER).shift(1)) | (buy != buy.shift(1))
    return ((inv < prev) | ((inv == prev) & changed)).fill_null(False)


def _per_customer(lf: pl.LazyFrame, by_runs: bool) -> pl.DataFrame:
    """Raw per-customer aggregates: ``_last``/``_first`` purchase, ``monetary``, ``_returned``, ``frequency``,
    ``_latest`` line.

    ``by_runs=True`` counts purchase invoices as runs of consecutive lines with the same id, and ``_split`` counts
    the lines that break what this needs (see ``_split_lines``). When ``_split`` sums to 0 the run count is the
    exact distinct count, for about half the cost of hashing every invoice per customer (the way taken with
    ``by_runs=False``). Exported logs list an invoice's lines together and in invoice order.
    """
    # when/then rather than filters inside the aggregation: polars streams these (50M rows in ~0.5 GB)
    buy = ~pl.col(S.IS_RETURN)
    bought_at = pl.when(buy).then(pl.col(S.TIMESTAMP))
    aggs = [
        bought_at.max().alias("_last"),
        bought_at.min().alias("_first"),
        pl.col(S.AMOUNT).sum().alias("monetary"),
        pl.when(~buy).then(-pl.col(S.AMOUNT)).sum().alias("_returned"),
        pl.col(S.TIMESTAMP).max().alias("_latest"),  # any line: the default analysis date follows the last one
        pl.len().alias("_lines"),
        pl.col(S.IS_RETURN).sum().alias("_return_lines"),
    ]
    if by_runs:
        lf = lf.with_columns(
            (buy & (pl.col(S.INVOICE) != pl.col(S.INVOICE).shift(1)).fill_null(True)).alias("_new_purchase"),
            _split_lines(buy).alias("_split"),
        )
        aggs += [pl.col("_new_purchase").sum().alias("frequency"), pl.col("_split").sum()]
    else:
        bought_invoice = pl.when(buy).then(pl.col(S.INVOICE))  # null for returns: counted once, taken off
        aggs.append((bought_invoice.n_unique() - (bought_invoice.null_count() > 0)).alias("frequency"))
    # the run flags need the lines in order; smaller morsels keep that ordered stream's buffers small
    # (50M lines: peak 0.35-0.56 GB instead of 0.58-0.85 GB, same time)
    with pl.Config(streaming_chunk_size=RUNS_CHUNK_ROWS) if by_runs else nullcontext():
        return lf.group_by(S.CUSTOMER).agg(aggs).collect(engine="streaming")


def _aggregate(lf: pl.LazyFrame) -> pl.DataFrame:
    """Per-customer aggregates with an exact frequency, reading the log once when its invoices are in order.

    The first ``PROBE_ROWS`` lines choose the way; the run count checks itself, so a log in order at the top but
    not further down costs a second read, never a wrong count.
    """
    probe = lf.head(PROBE_ROWS).select(_split_lines(~pl.col(S.IS_RETURN)).sum()).collect().item()
    if probe == 0:
        agg = _per_customer(lf, by_runs=True)
        if agg["_split"].sum() == 0:
            return agg.drop("_split")
    return _per_customer(lf, by_runs=False)


def aggregate(tx: pl.DataFrame | pl.LazyFrame, *, as_of: date | None = None) -> pl.DataFrame:
    """Per-customer aggregates of the lines before ``as_of`` (every line when None): ``_last``/``_first``
    purchase, ``monetary`` (net), ``_returned``, ``frequency``, ``_latest`` line, ``_lines``, ``_return_lines``."""
    lf = tx.lazy()
    if as_of is not None:  # the default (after the last transaction) keeps every row: no per-row filter
        lf = lf.filter(pl.col(S.TIMESTAMP) < datetime.combine(as_of, datetime.min.time()))
    return _aggregate(lf)


def table(agg: pl.DataFrame, *, as_of: date | None = None) -> tuple[pl.DataFrame, date]:
    """The customer table (``schema.CUSTOMER_COLUMNS``, sorted by id) from ``aggregate``'s output, and the
    analysis date used (default: the day after the latest line)."""
    if as_of is None:
        if agg.height == 0:
            raise DataError("the transaction log is empty: no analysis date to count recency from; check the file")
        as_of = agg["_latest"].max().date() + timedelta(days=1)
    out = (
        agg.lazy()
        .with_columns(
            # streaming sums partial results in no fixed order; 6 decimals make money sums reproducible
            pl.col("monetary").round(6),
            pl.col("_returned").round(6),
            (pl.col("monetary") + pl.col("_returned")).round(6).alias("_bought"),
        )
        .filter(pl.col("frequency") > 0)
        .with_columns(
            (pl.lit(as_of) - pl.col("_last").dt.date()).dt.total_days().cast(pl.Int64).alias("recency"),
            (pl.lit(as_of) - pl.col("_first").dt.date()).dt.total_days().cast(pl.Int64).alias("tenure_days"),
            (pl.col("monetary") / pl.col("frequency")).alias("avg_order_value"),
            (pl.col("_returned") / pl.col("_bought")).clip(0.0, 1.0).fill_nan(0.0).alias("return_rate"),
            pl.col("frequency").cast(pl.Int64),
        )
        .select(S.CUSTOMER_COLUMNS)
        .sort(S.CUSTOMER)
        .collect()
    )
    return out, as_of


def rfm(tx: pl.DataFrame | pl.LazyFrame, *, analysis_date: str | date | None = None) -> tuple[pl.DataFrame, date]:
    """Customer table (``schema.CUSTOMER_COLUMNS``), sorted by customer id, and the analysis date used.

    Transactions after the analysis date are ignored, so a past date reproduces a past snapshot.
    ``tx`` may be lazy (e.g. ``pl.scan_parquet``): the query then runs on polars' streaming engine and
    never holds the whole log in memory; a log that lists its invoices in order is counted fastest (see
    ``_aggregate``).
    """
    as_of = parse_date(analysis_date)
    return table(aggregate(tx, as_of=as_of), as_of=as_of)
