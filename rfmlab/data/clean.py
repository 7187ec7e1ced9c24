"""Cleaning: drop what cannot be a customer's purchase, and say how many rows each reason took.

Reasons, applied in this order (each counts the rows it removed from what was left):

1. ``missing_customer``: no customer id (guest checkouts).
2. ``missing_date``: no timestamp.
3. ``missing_amount``: an empty amount (or quantity, or price): not a purchase worth 0.
4. ``nonfinite_amount``: an amount that is NaN, inf or -inf (as written in the file, or quantity x price).
5. ``duplicate``: an exact repeat of an earlier raw row.
6. ``nonpositive_price``: unit price <= 0 (or, without a price column, amount == 0).
7. ``cancellation``: return / cancellation lines, when ``cancellations: drop``; with ``net`` they stay
   and reduce the customer's monetary value (and feed ``return_rate``).
8. ``after_analysis_date``: lines on or after ``dataset.analysis_date`` (when one is set).
9. ``nonpositive_customer``: every row of a customer with no purchase or a net value <= 0 (to the cent).

Lines of a text file with bytes its encoding cannot decode are kept and counted (``replaced_lines``); in
the customer id they are refused (``load.check``), since ids would merge.

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
BAD_CODE = 63  # reason code of a line with an unreadable value (refused by ``load.check``)
NOINV_BIT = 64  # added to a line's reason code in the first pass when it has no invoice id
REPLACED_BIT = 128  # added when the line had undecodable bytes (``load.REPLACED``)

DEFAULT_POLICY = {
    "missing_customer": "drop",
    "duplicates": "drop",
    "nonpositive_price": "drop",
    "cancellations": "net",
}


@dataclass(kw_only=True)
class CleaningReport:
    rows_in: int
    dropped: dict[str, int] = field(default_factory=dict)
    rows_out: int = 0
    customers_out: int = 0
    returns_kept: int = 0
    replaced_lines: int = 0  # lines with bytes the encoding could not decode (kept; shown as U+FFFD)
    filter: str | None = None  # dataset.filter: rows_in counts the rows it kept (the source's other rows are not read)
    source: str | None = None  # "customer table": no transactions, so no cleaning (``note`` says what is missing)
    note: str | None = None

    def to_dict(self) -> dict:
        """The report as logged (``data/cleaning_report.json``); ``filter``, ``source`` and ``note`` when set."""
        out = asdict(self)
        return {k: v for k, v in out.items() if v is not None or k not in ("filter", "source", "note")}


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
        ("missing_amount", pl.col(S.AMOUNT).is_null()),
        ("nonfinite_amount", ~pl.col(S.AMOUNT).is_finite()),
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
        "missing_amount": True,
        "nonfinite_amount": True,
        "duplicate": p["duplicates"] == "drop",
        "nonpositive_price": p["nonpositive_price"] == "drop",
        "cancellation": p["cancellations"] == "drop",
        "after_analysis_date": True,
    }
    return [(name, cond) for name, cond in steps if enabled[name]]


def reason_names(policy: dict | None, *, as_of: date | None) -> list[str]:
    """The enabled row-level reasons of ``policy`` in the order they are applied (what ``data.pushdown`` writes for
    an engine)."""
    return [name for name, _ in _reasons(_policy(policy), True, as_of)]


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


def finish(
    report: CleaningReport, *, dropped_customers_lines: int, rows_out: int, customers: int, returns: int, as_of=None
):
    """Complete ``report`` with the customer-level reason and what is left; refuse a log with no customer."""
    report.dropped["nonpositive_customer"] = dropped_customers_lines
    report.rows_out, report.customers_out, report.returns_kept = rows_out, customers, returns
    late = report.dropped.get("after_analysis_date", 0)
    if customers == 0 and late and late == max(report.dropped.values()):
        raise DataError(
            f"dataset.analysis_date={as_of} is on or before every transaction that cleaning kept ({late:,} lines "
            "after it); set a later dataset.analysis_date, or null for the day after the last transaction"
        )
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


def clean(tx: pl.DataFrame, *, policy: dict | None = None, as_of: date | None = None):
    """Filter canonical transactions in memory (from ``load.canonical_in_memory``, with ``_duplicate``); returns the
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
    finish(
        report,
        dropped_customers_lines=tx.height - out.height,
        rows_out=out.height,
        customers=keep.height,
        returns=int(out[S.IS_RETURN].sum()),
        as_of=as_of,
    )
    return out, report


def repeated(hashes: pl.Series) -> pl.Series:
    """The values that occur more than once in ``hashes``."""
    a = hashes.sort().to_numpy()
    return pl.Series(load.HASH, np.unique(a[1:][a[1:] == a[:-1]]), dtype=hashes.dtype)


def _repeats(raw: pl.LazyFrame, again: pl.Series) -> pl.DataFrame:
    """Each distinct raw line whose hash is in ``again`` and that occurs more than once, with ``_copies`` =
    its number of occurrences minus one (the lines cleaning counts as duplicates). They are few: read again
    by hash and compared in full."""
    wanted = again.implode()
    cand = raw.filter(load.short_hash(pl.struct(pl.all()).hash()).is_in(wanted)).collect(engine="streaming")
    groups = cand.group_by(cand.columns).agg((pl.len() - 1).alias("_copies"))
    return groups.filter(pl.col("_copies") > 0)


def scan(raw: pl.LazyFrame, *, tx: pl.LazyFrame, has_price: bool, policy: dict | None, as_of, canonical):
    """Streaming cleaning of ``tx`` = ``canonical(raw, with_hash=True)`` (``canonical`` maps any raw lazy frame).

    Returns the kept lines (lazy, exact repeats still in), the repeats to take off the customers' aggregates
    (canonical lines with ``_copies``, see ``remove_repeats``), the report so far (the customer-level reason is
    added with the aggregates, see ``finish``), the number of lines with unreadable values (``load.check``) and the
    number of lines whose last column is empty (with ``load.TAIL`` in ``tx``: the lines that may be short of fields).

    Duplicates are found exactly without holding the log or numbering its lines: the first pass keeps a
    4-byte hash of every raw line beside its reason code (5 bytes a line); the few lines whose hash occurs
    twice (repeats, and chance pairs) are read again and compared in full. A repeat has its original's
    invoice, dates and reasons, so it changes only sums and line counts, corrected per customer afterwards.
    """
    p = _policy(policy)
    reasons = _reasons(p, has_price, as_of)
    names = [name for name, _ in reasons]
    hashing = "duplicate" in names
    code = pl.when(pl.col(load.BAD) > 0).then(pl.lit(BAD_CODE, pl.UInt8)).otherwise(_code(reasons, pl.lit(False)))
    code = code | (pl.col(load.NOINV).cast(pl.UInt8) * NOINV_BIT)
    schema = tx.collect_schema()
    if load.REPLACED in schema:
        code = code | (pl.col(load.REPLACED).cast(pl.UInt8) * REPLACED_BIT)
    tails = [pl.col(load.TAIL)] if load.TAIL in schema else []  # 1 bit a line
    pass1 = tx.select(code.alias(REASON), *([pl.col(load.HASH)] if hashing else []), *tails).collect(engine="streaming")
    tail = int(pass1.drop_in_place(load.TAIL).sum()) if tails else 0
    noinv = int(((pass1[REASON] & NOINV_BIT) > 0).sum())
    replaced = int(((pass1[REASON] & REPLACED_BIT) > 0).sum())
    pass1 = pass1.with_columns(pl.col(REASON) % NOINV_BIT)
    counts = dict(pass1[REASON].value_counts().iter_rows())
    bad, rows_in = counts.pop(BAD_CODE, 0), pass1.height
    repeats = None
    if hashing and not bad:
        # a line's other reasons depend only on its values, so a repeat has its original's: only lines that
        # a reason after "duplicate" drops (or none does) can count as duplicates
        after = [0, *range(names.index("duplicate") + 2, len(names) + 1)]
        hashes = pass1.filter(pl.col(REASON).is_in(after)).drop_in_place(load.HASH)
        del pass1
        again = repeated(hashes)
        del hashes
        if len(again):
            groups = _repeats(raw, again)
            coded = canonical(groups.drop("_copies").lazy()).with_columns(_code(reasons, pl.lit(False)))
            repeats = pl.concat([coded.collect(), groups.select("_copies")], how="horizontal")
            dup_code = names.index("duplicate") + 1
            for c, n in repeats.group_by(REASON).agg(pl.col("_copies").sum()).iter_rows():
                counts[c] -= n
                counts[dup_code] = counts.get(dup_code, 0) + n
            repeats = repeats.filter(pl.col(REASON) == 0)
    # the kept lines, read again (pass 3): without a line's own id when every line has an invoice id
    lines = canonical(raw, own_ids=noinv > 0)
    kept = lines.filter(_code(reasons, pl.lit(False)) == 0).drop(load.BAD)
    report = _report(rows_in, reasons, counts)
    report.replaced_lines = replaced
    return kept, repeats, report, bad, tail


def remove_repeats(agg: pl.DataFrame, repeats: pl.DataFrame | None) -> pl.DataFrame:
    """Per-customer aggregates (``features.aggregate``) without the exact repeats of kept lines: their
    amounts and line counts come off (invoices and dates are their originals', so nothing else changes)."""
    if repeats is None or repeats.height == 0:
        return agg
    n = pl.col("_copies")
    ret = pl.col(S.IS_RETURN)
    less = repeats.group_by(S.CUSTOMER).agg(
        (pl.col(S.AMOUNT) * n).sum().alias("_m"),
        pl.when(ret).then(-pl.col(S.AMOUNT) * n).otherwise(0.0).sum().alias("_r"),
        n.sum().alias("_l"),
        pl.when(ret).then(n).otherwise(0).sum().alias("_rl"),
    )
    out = agg.join(less, on=S.CUSTOMER, how="left").with_columns(pl.col("_m", "_r", "_l", "_rl").fill_null(0))
    return out.with_columns(
        pl.col("monetary") - pl.col("_m"),
        pl.col("_returned") - pl.col("_r"),
        (pl.col("_lines") - pl.col("_l")).cast(agg.schema["_lines"]),
        (pl.col("_return_lines") - pl.col("_rl")).cast(agg.schema["_return_lines"]),
    ).drop("_m", "_r", "_l", "_rl")
