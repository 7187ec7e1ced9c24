"""Customers between snapshots: paths, transition matrices, activity, largest moves, feeders, retention."""

from __future__ import annotations

from datetime import date

import polars as pl

NEW, GONE = "(new)", "(gone)"  # a customer not yet in the previous snapshot / no longer in this one


def paths(segmented: dict[date, pl.DataFrame]) -> pl.DataFrame:
    """customer_id, snapshot, segment: one row per customer and snapshot they are in."""
    return pl.concat(
        [df.select("customer_id", pl.lit(d).alias("snapshot"), pl.col("segment").cast(pl.String)) for d, df in
         segmented.items()]
    ).sort("customer_id", "snapshot")  # fmt: skip


def transitions(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Counts of customers by segment in ``before`` (rows, plus ``(new)``) and ``after`` (columns, plus
    ``(gone)``): a row of a segment sums to its count in ``before``; a column to its count in ``after``."""
    both = before.select("customer_id", pl.col("segment").alias("from")).join(
        after.select("customer_id", pl.col("segment").alias("to")), on="customer_id", how="full", coalesce=True
    )
    both = both.with_columns(pl.col("from").fill_null(NEW), pl.col("to").fill_null(GONE))
    counts = both.group_by("from", "to").len()
    rows = sorted(set(before["segment"])) + ([NEW] if (both["from"] == NEW).any() else [])
    cols = sorted(set(after["segment"])) + ([GONE] if (both["to"] == GONE).any() else [])
    wide = counts.pivot(on="to", index="from", values="len").fill_null(0)
    for c in cols:
        if c not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.UInt32).alias(c))
    order = pl.DataFrame({"from": rows})
    return order.join(wide, on="from", how="left").fill_null(0).select("from", *cols)


def activity(tables: dict[date, pl.DataFrame]) -> pl.DataFrame:
    """Per snapshot: customers, new (first seen), active (bought in the period just ended), returning (active
    after a period without a purchase), lapsed (active the period before, not in this one)."""
    out, prev, prev_active, prev_date = [], None, set(), None
    for d, t in tables.items():
        ids = set(t["customer_id"])
        period = (d - prev_date).days if prev_date else None
        active = set(t.filter(pl.col("recency") <= period)["customer_id"]) if period else set(ids)
        new = ids - (prev or set())
        returning = (active - prev_active) - new if prev is not None else set()
        lapsed = prev_active - active if prev is not None else set()
        out.append({"snapshot": d, "customers": len(ids), "new": len(new), "active": len(active),
                    "returning": len(returning), "lapsed": len(lapsed)})  # fmt: skip
        prev, prev_active, prev_date = ids, active, d
    return pl.DataFrame(out)


def largest_moves(matrices: dict[tuple[date, date], pl.DataFrame], *, top: int = 5) -> list[tuple[str, str, int]]:
    """The biggest flows between two different segments, summed over all consecutive snapshots."""
    total: dict[tuple[str, str], int] = {}
    for m in matrices.values():
        for row in m.iter_rows(named=True):
            for col, n in row.items():
                if col != "from" and col != row["from"] and row["from"] != NEW and col != GONE and n:
                    total[(row["from"], col)] = total.get((row["from"], col), 0) + int(n)
    return [(a, b, n) for (a, b), n in sorted(total.items(), key=lambda kv: -kv[1])[:top]]


def feeders(matrices: dict[tuple[date, date], pl.DataFrame], target: str) -> list[tuple[str, int]]:
    """Which segments (and new customers) feed ``target``, most first, summed over all steps."""
    total: dict[str, int] = {}
    for m in matrices.values():
        if target not in m.columns:
            continue
        for src, n in m.select("from", target).iter_rows():
            if src != target and n:
                total[src] = total.get(src, 0) + int(n)
    return sorted(total.items(), key=lambda kv: -kv[1])


def retention(matrices: dict[tuple[date, date], pl.DataFrame], segment: str) -> list[float]:
    """Per step, the share of ``segment``'s customers still in it at the next snapshot."""
    out = []
    for m in matrices.values():
        row = m.filter(pl.col("from") == segment)
        if row.height and segment in m.columns:
            total = sum(int(v) for k, v in row.row(0, named=True).items() if k != "from")
            out.append(int(row[segment][0]) / total if total else float("nan"))
    return out
