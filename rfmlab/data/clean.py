"""Cleaning: drop what cannot be a customer's purchase, and say how many rows each reason took.

Reasons, applied in this order (each counts the rows it removed from what was left):

1. ``missing_customer``: no customer id (guest checkouts).
2. ``missing_date``: no timestamp.
3. ``duplicate``: an exact repeat of an earlier raw row.
4. ``nonpositive_price``: unit price <= 0 (or, without a price column, amount == 0).
5. ``cancellation``: return / cancellation lines, when ``cancellations: drop``; with ``net`` they stay
   and reduce the customer's monetary value (and feed ``return_rate``).
6. ``nonpositive_customer``: every row of a customer with no purchase or a net value <= 0 (to the cent).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from rfmlab.data import schema as S
from rfmlab.errors import ConfigError, DataError

DEFAULT_POLICY = {
    "missing_customer": "drop",
    "duplicates": "drop",
    "nonpositive_price": "drop",
    "cancellations": "net",
}


@dataclass
class CleaningReport:
    rows_in: int
    dropped: dict[str, int] = field(default_factory=dict)
    rows_out: int = 0
    customers_out: int = 0
    returns_kept: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def _policy(policy: dict | None) -> dict:
    p = {**DEFAULT_POLICY, **(policy or {})}
    unknown = sorted(set(p) - set(DEFAULT_POLICY))
    if unknown:
        raise ConfigError(f"unknown dataset.cleaning option(s) {unknown}; valid are {sorted(DEFAULT_POLICY)}")
    for key in ("missing_customer", "duplicates", "nonpositive_price"):
        if p[key] not in ("drop", "keep"):
            raise ConfigError(f"dataset.cleaning.{key} must be 'drop' or 'keep', not {p[key]!r}")
    if p["cancellations"] not in ("drop", "net"):
        raise ConfigError(f"dataset.cleaning.cancellations must be 'drop' or 'net', not {p['cancellations']!r}")
    return p


def clean(tx: pl.DataFrame, policy: dict | None = None) -> tuple[pl.DataFrame, CleaningReport]:
    """Filter canonical transactions (from ``load.canonicalize``); returns canonical columns only."""
    p = _policy(policy)
    report = CleaningReport(rows_in=tx.height)
    has_price = S.PRICE in tx.columns and tx[S.PRICE].null_count() < tx.height
    steps: list[tuple[str, pl.Expr | None]] = [
        ("missing_customer", pl.col(S.CUSTOMER).is_null() | (pl.col(S.CUSTOMER) == "")),
        ("missing_date", pl.col(S.TIMESTAMP).is_null()),
        ("duplicate", pl.col("_duplicate") if "_duplicate" in tx.columns else None),
        (
            "nonpositive_price",
            (pl.col(S.PRICE) <= 0) | pl.col(S.PRICE).is_null() if has_price else pl.col(S.AMOUNT) == 0,
        ),
        ("cancellation", pl.col(S.IS_RETURN)),
    ]
    enabled = {
        "missing_customer": p["missing_customer"] == "drop",
        "missing_date": True,
        "duplicate": p["duplicates"] == "drop",
        "nonpositive_price": p["nonpositive_price"] == "drop",
        "cancellation": p["cancellations"] == "drop",
    }
    for reason, cond in steps:
        if cond is None or not enabled[reason]:
            continue
        before = tx.height
        tx = tx.filter(~cond.fill_null(False))
        report.dropped[reason] = before - tx.height

    # customers who never bought, or whose returns cancel their purchases, have no RFM profile
    net = tx.group_by(S.CUSTOMER).agg(pl.col(S.AMOUNT).sum().alias("net"), (~pl.col(S.IS_RETURN)).any().alias("bought"))
    # to the cent: a purchase fully cancelled nets to 0, not to a float residue like 1e-14
    keep = net.filter(pl.col("bought") & (pl.col("net").round(2) > 0)).select(S.CUSTOMER)
    before = tx.height
    tx = tx.join(keep, on=S.CUSTOMER, how="semi")
    report.dropped["nonpositive_customer"] = before - tx.height

    tx = tx.select(list(S.CANONICAL_SCHEMA))
    report.rows_out = tx.height
    report.customers_out = tx[S.CUSTOMER].n_unique()
    report.returns_kept = int(tx[S.IS_RETURN].sum())
    if report.customers_out == 0:
        raise DataError(
            f"no valid customer left after cleaning ({report.rows_in} rows in, dropped {report.dropped}); "
            "check the column mapping and dataset.cleaning"
        )
    return tx, report
