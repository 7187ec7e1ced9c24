"""Cleaning: drop what cannot be a customer's purchase, and say how many rows each reason took.

Reasons, applied in this order (each counts the rows it removed from what was left):

1. ``missing_customer``: no customer id (guest checkouts).
2. ``missing_date``: no timestamp.
3. ``duplicate``: an exact repeat of an earlier raw row.
4. ``nonpositive_price``: unit price <= 0 (or, without a price column, amount == 0).
5. ``cancellation``: return / cancellation lines, when ``cancellations: drop``; with ``net`` they stay
   and reduce the customer's monetary value (and feed ``return_rate``).
6. ``after_analysis_date``: lines on or after ``dataset.analysis_date`` (when one is set).
7. ``nonpositive_customer``: every row of a customer with no purchase or a net value <= 0 (to the cent).

``clean`` does this in memory (the reference); ``scan`` streams it over a lazy log in three passes
(reasons and line hashes, the few repeated lines in full, then the kept lines for RFM), never holding the log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import numpy as np
import polars as pl

from rfmlab.data import load
from rfmlab.data import schema as S
from rfmlab.errors import ConfigError, DataError

REASON = "_reason"

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


def _reasons(p: dict, has_price: bool, as_of: date | None) -> list[tuple[str, pl.Expr]]:
    """The enabled row-level reasons in order, each as a condition on a canonical line (duplicates apart)."""
    steps = [
        ("missing_customer", pl.col(S.CUSTOMER).is_null() | (pl.col(S.CUSTOMER) == "")),
        ("missing_date", pl.col(S.TIMESTAMP).is_null()),
        ("duplicate", None),  # needs the whole log: see ``scan`` and ``clean``
        (
            "nonpositive_price",
            (pl.col(S.PRICE) <= 0) | pl.col(S.PRICE).is_null() if has_price else pl.col(S.AMOUNT) == 0,
        ),
        ("cancellation", pl.col(S.IS_RETURN)),
    ]
    if as_of is not None:
        steps.append(("after_analysis_date", pl.col(S.TIMESTAMP) >= datetime.combine(as_of, datetime.min.time())))
    enabled = {
        "missing_customer": p["missing_customer"] == "drop",
        "missing_date": True,
        "duplicate": p["duplicates"] == "drop",
        "nonpositive_price": p["nonpositive_price"] == "drop",
        "cancellation": p["cancellations"] == "drop",
        "after_analysis_date": True,
    }
    return [(name, cond) for name, cond in steps if enabled[name]]


def _code(reasons: list[tuple[str, pl.Expr | None]], duplicate: pl.Expr) -> pl.Expr:
    """Per line: index + 1 of the first reason in ``reasons`` that drops it, 0 when it is kept."""
    code = pl.lit(0, dtype=pl.UInt8)
    for i, (_, cond) in reversed(list(enumerate(reasons))):
        cond = duplicate if cond is None else cond
        code = pl.when(cond.fill_null(False)).then(pl.lit(i + 1, dtype=pl.UInt8)).otherwise(code)
    return code.alias(REASON)


def _report(rows_in: int, reasons, counts: dict[int, int]) -> CleaningReport:
    report = CleaningReport(rows_in=rows_in)
    report.dropped = {name: counts.get(i + 1, 0) for i, (name, _) in enumerate(reasons)}
    return report


def finish(report: CleaningReport, dropped_customers_lines: int, rows_out: int, customers: int, returns: int):
    """Complete ``report`` with the customer-level reason and what is left; refuse a log with no customer."""
    report.dropped["nonpositive_customer"] = dropped_customers_lines
    report.rows_out, report.customers_out, report.returns_kept = rows_out, customers, returns
    if customers == 0:
        raise DataError(
            f"no valid customer left after cleaning ({report.rows_in} rows in, dropped {report.dropped}); "
            "check the column mapping and dataset.cleaning"
        )
    return report


def nonpositive(agg: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Per-customer aggregates (``features.aggregate``) without the customers who never bought or whose
    returns cancel their purchases (net <= 0 to the cent), and the number of lines those customers had."""
    keep = (pl.col("frequency") > 0) & (pl.col("monetary").round(2) > 0)
    kept = agg.filter(keep)
    return kept, int(agg["_lines"].sum() - kept["_lines"].sum())


def clean(tx: pl.DataFrame, policy: dict | None = None, as_of: date | None = None):
    """Filter canonical transactions in memory (from ``load.canonicalize``, with ``_duplicate``); returns the
    canonical columns only and the report. The reference for ``scan``, which never holds the log."""
    p = _policy(policy)
    has_price = S.PRICE in tx.columns and tx[S.PRICE].null_count() < tx.height
    reasons = _reasons(p, has_price, as_of)
    dup = pl.col("_duplicate") if "_duplicate" in tx.columns else pl.lit(False)
    tx = tx.with_columns(_code(reasons, dup))
    counts = dict(tx[REASON].value_counts().iter_rows())
    report = _report(tx.height, reasons, counts)
    tx = tx.filter(pl.col(REASON) == 0)
    # customers who never bought, or whose returns cancel their purchases, have no RFM profile
    net = tx.group_by(S.CUSTOMER).agg(pl.col(S.AMOUNT).sum().alias("net"), (~pl.col(S.IS_RETURN)).any().alias("bought"))
    # to the cent: a purchase fully cancelled nets to 0, not to a float residue like 1e-14
    keep = net.filter(pl.col("bought") & (pl.col("net").round(2) > 0)).select(S.CUSTOMER)
    out = tx.join(keep, on=S.CUSTOMER, how="semi").select(list(S.CANONICAL_SCHEMA))
    finish(report, tx.height - out.height, out.height, keep.height, int(out[S.IS_RETURN].sum()))
    return out, report


def repeated(hashes: np.ndarray) -> np.ndarray:
    """The values that occur more than once in ``hashes`` (which is sorted in place)."""
    hashes.sort()
    return np.unique(hashes[1:][hashes[1:] == hashes[:-1]])


def _duplicate_rows(raw: pl.LazyFrame, candidates: np.ndarray) -> pl.Series:
    """Rows (``_row``) that repeat an earlier raw row exactly, among the lines whose hash is in ``candidates``:
    those lines are few, so they are read again and compared in full, in file order."""
    wanted = pl.Series(candidates, dtype=pl.UInt64).implode()
    cand = (
        raw.with_row_index(load.ROW)
        .filter(pl.struct(pl.all().exclude(load.ROW)).hash().is_in(wanted))
        .collect(engine="streaming")
        .sort(load.ROW)
    )
    first = cand.select(pl.struct(pl.all().exclude(load.ROW)).is_first_distinct()).to_series()
    return cand[load.ROW].filter(~first)


def scan(raw: pl.LazyFrame, tx: pl.LazyFrame, has_price: bool, policy: dict | None = None, as_of=None):
    """Streaming cleaning of ``tx`` = ``load.canonical(raw, ..., with_hash=True)``. Returns the kept lines
    (lazy; the customer-level reason is applied with the RFM aggregates, see ``finish``), the report so far
    and the number of lines with unreadable values (``load.check``).

    Duplicates are found exactly without holding the log: the first pass keeps an 8-byte hash of every raw
    line beside its reason code; the few lines whose hash occurs twice are then compared in full.
    """
    p = _policy(policy)
    reasons = _reasons(p, has_price, as_of)
    names = [name for name, _ in reasons]
    hashing = "duplicate" in names
    pass1 = tx.select(
        _code(reasons, pl.lit(False)),
        *([pl.col(load.HASH)] if hashing else []),
        pl.col(load.BAD).is_not_null().alias(load.BAD),
    ).collect(engine="streaming")
    bad, rows_in = int(pass1[load.BAD].sum()), pass1.height
    counts = dict(pass1[REASON].value_counts().iter_rows())
    dup_rows = pl.Series(load.ROW, [], dtype=pl.UInt32)
    if hashing and not bad:
        # a line's other reasons depend only on its values, so a repeat has its original's: only lines a
        # reason after "duplicate" drops (or none does) can be counted as duplicates
        after = [0, *range(names.index("duplicate") + 2, len(names) + 1)]
        mask = pass1[REASON].is_in(after)
        hashes = pass1[load.HASH].filter(mask).to_numpy().copy()
        codes = pass1[REASON]
        del pass1
        candidates = repeated(hashes)
        del hashes
        if len(candidates):
            dup_rows = _duplicate_rows(raw, candidates)
            for code in codes.gather(dup_rows):
                counts[code] -= 1
                counts[names.index("duplicate") + 1] = counts.get(names.index("duplicate") + 1, 0) + 1
    kept = tx.filter(_code(reasons, pl.lit(False)) == 0)
    if len(dup_rows):
        kept = kept.filter(~pl.col(load.ROW).is_in(dup_rows.implode()))
    return kept.drop(load.HASH, load.BAD, strict=False), _report(rows_in, reasons, counts), bad
