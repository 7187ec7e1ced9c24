"""Cluster profiles, segment summaries (with their marketing actions) and contingency tables."""

from __future__ import annotations

import polars as pl

from rfmlab.segments._schemes import RFM


def _value(customers: pl.DataFrame) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Expected value per group when the table has CLV's columns (clv.enabled): total, mean and share of ``clv``,
    mean ``p_alive``, total expected purchases in the horizon; nothing otherwise."""
    if "clv" not in customers.columns:
        return [], []
    grand = float(customers["clv"].sum()) or 1.0
    aggs = [
        pl.col("clv").sum().alias("clv_total"),
        pl.col("clv").mean().alias("clv_mean"),
        pl.col("p_alive").mean().alias("p_alive_mean"),
        pl.col("expected_purchases").sum().alias("expected_purchases_total"),
    ]
    return aggs, [(pl.col("clv_total") / grand).alias("clv_share")]


def cluster_profile(customers: pl.DataFrame, *, cluster_col: str = "cluster") -> pl.DataFrame:
    """One row per cluster: size, share, mean and median R/F/M, revenue share, mean extras (and expected value with
    CLV's columns: ``clv_total``, ``clv_mean``, ``clv_share``, ``p_alive_mean``, ``expected_purchases_total``).

    ``customers`` is the customer table with a ``cluster`` column; noise (-1) gets its own row.
    """
    n = customers.height
    total = customers["monetary"].sum()
    extras = [c for c in ("tenure_days", "avg_order_value", "return_rate") if c in customers.columns]
    first = [cluster_col] + (["segment"] if "segment" in customers.columns and cluster_col != "segment" else [])
    value, share = _value(customers)
    return (
        customers.group_by(first)
        .agg(
            pl.len().alias("size"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in RFM],
            *[pl.col(c).median().alias(f"{c}_median") for c in RFM],
            pl.col("monetary").sum().alias("revenue"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in extras],
            *value,
        )
        .with_columns(
            (pl.col("size") / n).alias("share"),
            (pl.col("revenue") / total).alias("revenue_share"),
            *share,
        )
        .select(*first, "size", "share", "revenue_share", pl.exclude(*first, "size", "share", "revenue_share"))
        .sort(cluster_col)
    )


def summary(customers: pl.DataFrame, *, column: str, actions: dict[str, str] | None = None) -> pl.DataFrame:
    """Marketing summary per segment: count, share, revenue share, median R/F/M, suggested action (a qualified
    cluster name, ``Champions: high spend``, gets its segment's: ``Champions``); with CLV's columns also the
    expected value (``clv_total``, ``clv_mean``, ``clv_share``, ``p_alive_mean``) before the action."""
    actions = actions or {}
    n, total = customers.height, customers["monetary"].sum()
    value, share = _value(customers)
    out = (
        customers.group_by(column)
        .agg(
            pl.len().alias("customers"),
            pl.col("monetary").sum().alias("revenue"),
            *[pl.col(c).median().alias(f"median_{c}") for c in RFM],
            *value,
        )
        .with_columns(
            (pl.col("customers") / n).alias("share"), (pl.col("revenue") / total).alias("revenue_share"), *share
        )
        .sort("revenue", descending=True)
        .rename({column: "segment"})
    )
    out = out.with_columns(pl.col("segment").cast(pl.String))

    def action(segment: str) -> str:
        return actions.get(segment, actions.get(segment.split(": ", 1)[0], ""))

    return out.with_columns(pl.col("segment").map_elements(action, return_dtype=pl.String).alias("action")).select(
        "segment",
        "customers",
        "share",
        "revenue_share",
        "median_recency",
        "median_frequency",
        "median_monetary",
        *([c for c in ("clv_total", "clv_mean", "clv_share", "p_alive_mean") if value]),
        "action",
    )


def contingency(customers: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Counts of customers for every (a, b) pair, as a wide table with one row per value of ``a``."""
    long = customers.group_by(a, b).agg(pl.len().alias("n"))
    return long.pivot(on=b, index=a, values="n").fill_null(0).sort(a)
