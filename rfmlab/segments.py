"""Segments stage: per-cluster profiles (and, later, business names and rule schemes)."""

from __future__ import annotations

import polars as pl

RFM = ("recency", "frequency", "monetary")


def cluster_profile(customers: pl.DataFrame, cluster_col: str = "cluster") -> pl.DataFrame:
    """One row per cluster: size, share, mean and median R/F/M, revenue share, mean extras.

    ``customers`` is the customer table with a ``cluster`` column; noise (-1) gets its own row.
    """
    n = customers.height
    total = customers["monetary"].sum()
    extras = [c for c in ("tenure_days", "avg_order_value", "return_rate") if c in customers.columns]
    return (
        customers.group_by(cluster_col)
        .agg(
            pl.len().alias("size"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in RFM],
            *[pl.col(c).median().alias(f"{c}_median") for c in RFM],
            pl.col("monetary").sum().alias("revenue"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in extras],
        )
        .with_columns(
            (pl.col("size") / n).alias("share"),
            (pl.col("revenue") / total).alias("revenue_share"),
        )
        .select(
            cluster_col, "size", "share", "revenue_share", pl.exclude(cluster_col, "size", "share", "revenue_share")
        )
        .sort(cluster_col)
    )
