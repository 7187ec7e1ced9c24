"""Expected value per group of customers (a rule scheme's segments, the clusters): total, mean and share."""

from __future__ import annotations

import polars as pl


def by_group(customers: pl.DataFrame, *, by: str, value: str = "clv") -> pl.DataFrame:
    """``by``, customers, ``<value>_total``, ``<value>_mean``, ``<value>_share`` (of the total over all groups),
    mean ``p_alive``; largest total first."""
    grand = float(customers[value].sum()) or 1.0
    return (
        customers.group_by(by)
        .agg(
            pl.len().alias("customers"),
            pl.col(value).sum().alias(f"{value}_total"),
            pl.col(value).mean().alias(f"{value}_mean"),
            pl.col("p_alive").mean().alias("p_alive_mean"),
        )
        .with_columns((pl.col(f"{value}_total") / grand).alias(f"{value}_share"))
        .sort(f"{value}_total", descending=True)
    )
