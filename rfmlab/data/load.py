"""Map a transaction source to the canonical schema: resolve the columns, parse amounts and dates (the date
format detected when not given), flag unreadable values, and refuse a log with any (``check``).

Reading the source lives in ``source`` and the dataset description in ``spec``; both are re-exported here
(``load.scan``, ``load.DatasetSpec``...) because every stage reads a dataset through this module.
"""

from __future__ import annotations

import polars as pl

from rfmlab.data import dates
from rfmlab.data import schema as S
from rfmlab.data.dates import (  # noqa: F401
    DATE_FORMATS,
    date_candidates,
    detect_date_format,
    resolve_date_format,
    zone_note,
)
from rfmlab.data.source import (  # noqa: F401
    Source,
    cache_root,
    ensure_unchanged,
    fetch,
    is_synthetic,
    pass_error,
    read,
    refuse_ragged,
    scan,
    source_path,
)
from rfmlab.data.spec import ROLES, Columns, DatasetSpec  # noqa: F401
from rfmlab.errors import ConfigError, DataError

ROW = "_row"  # position of the line in the source, 0-based
HASH = "_hash"  # 32-bit hash of the raw line (all its columns): lines that share one may repeat each other
NOINV = "_noinv"  # the line has no invoice id
BAD = "_bad"  # 0, or 1 + the index in BAD_ROLES of the first unreadable value on the line
BAD_ROLES = ("customer", "amount", "quantity", "price", "date")
REPLACED = "_replaced"  # the line had bytes its encoding could not decode (now U+FFFD) in some text column
FFFD = "\ufffd"
TAIL = "_tail"  # the last column is empty, as in a line with fewer fields than the header (``source.refuse_ragged``)


def _numeric(dtype: pl.DataType, column: str) -> tuple[pl.Expr, pl.Expr]:
    """The column as Float64 and a flag for values that are there but are not numbers."""
    if dtype.is_numeric():
        return pl.col(column).cast(pl.Float64), pl.lit(False)
    txt = pl.col(column).cast(pl.String).str.strip_chars()
    out = txt.cast(pl.Float64, strict=False)
    return out, out.is_null() & txt.is_not_null() & (txt != "")


def _text_id(dtype: pl.DataType, column: str, float_suffix: bool = True) -> pl.Expr:
    """An id column as text: integers as they are, text stripped of spaces, and with ``float_suffix`` without
    a trailing ``.0`` (``17850.0`` from a spreadsheet is customer ``17850``)."""
    if dtype.is_integer():
        return pl.col(column).cast(pl.String)
    txt = pl.col(column).cast(pl.String)
    txt = txt if dtype.is_float() else txt.str.strip_chars()
    return txt.str.strip_suffix(".0") if float_suffix else txt


def _amount(c: Columns, schema: dict) -> tuple[pl.Expr, pl.Expr, list[tuple[str, str, pl.Expr]]]:
    """(amount, price or null, [(role, column, bad flag)]) from a line amount or quantity x price."""
    if c.amount is not None:
        amount, bad = _numeric(schema[c.amount], c.amount)
        return amount, pl.lit(None, dtype=pl.Float64), [("amount", c.amount, bad)]
    price, bad_p = _numeric(schema[c.price], c.price)
    qty, bad_q = _numeric(schema[c.quantity], c.quantity)
    return qty * price, price, [("quantity", c.quantity, bad_q), ("price", c.price, bad_p)]


def short_hash(line_hash: pl.Expr) -> pl.Expr:
    """The low 32 bits of a line's hash: half the memory a line in the first cleaning pass, at the cost of
    more lines to compare in full (about n^2 / 2^33 chance pairs: 0.3M on 50M lines)."""
    return (line_hash & 0xFFFFFFFF).cast(pl.UInt32)


def _first_bad(checks: list[tuple[str, str, pl.Expr]]) -> pl.Expr:
    """Index + 1 into BAD_ROLES of a line's first unreadable value, 0 when none."""
    bad = pl.lit(0, dtype=pl.UInt8)
    for role, _, flag in reversed(checks):
        bad = pl.when(flag).then(pl.lit(BAD_ROLES.index(role) + 1, dtype=pl.UInt8)).otherwise(bad)
    return bad


def _text_flags(schema: dict, *, replaced: bool, tail: bool) -> list[pl.Expr]:
    """As asked: ``_replaced`` (undecodable bytes in some text column), ``_tail`` (the last column is empty)."""
    texts = [n for n, t in schema.items() if t == pl.String]
    out = []
    if replaced and texts:
        out.append(pl.any_horizontal(pl.col(texts).str.contains(FFFD, literal=True)).fill_null(False).alias(REPLACED))
    if tail:
        out.append(pl.col(list(schema)[-1]).is_null().alias(TAIL))
    return out


def canonical(
    lf: pl.LazyFrame,
    spec: DatasetSpec,
    *,
    head: pl.DataFrame,
    with_hash: bool = False,
    row_ids: bool = True,
    own_ids: bool = True,
    replaced: bool = False,
    tail: bool = False,
) -> pl.LazyFrame:
    """The canonical columns (``schema.CANONICAL_SCHEMA``) plus ``price`` (or null), ``_bad`` (an unreadable
    value, see ``check``), with ``with_hash`` ``_hash`` (of the raw line) and with ``row_ids`` ``_row`` (position
    in the source), as a lazy query over ``lf``.

    A line without an invoice id is a purchase of its own: ``#row<n>`` with ``row_ids``, else ``#<line hash>``.
    Numbering lines forces polars to stream in order (3x slower on 50M lines); the hash gives the same counts
    whenever exact repeats are dropped (``cleaning.duplicates: drop``), the only lines that share it. Either id
    is computed for every line (polars evaluates both branches), so ``own_ids=False`` skips it for a log known
    to have every invoice id (``with_hash`` adds ``_noinv``, the flag to count them by). With ``with_hash`` and
    ``replaced`` (a source decoded from text) ``_replaced`` flags lines with undecodable bytes in any text column,
    and with ``tail`` ``_tail`` lines whose last column is empty (the only ones that can be short of fields).
    """
    c = spec.columns
    if c.amount is None and (c.quantity is None or c.price is None):
        raise ConfigError("set dataset.columns.amount, or both dataset.columns.quantity and dataset.columns.price")
    schema = dict(lf.collect_schema())
    c = c.resolve(list(schema))
    amount, price, checks = _amount(c, schema)
    ts, bad_date = dates.timestamp(schema[c.date], c.date, fmt=spec.date_format, head=head, timezone=spec.timezone)
    checks.append(("date", c.date, bad_date))
    customer = _text_id(schema[c.customer], c.customer)
    checks.insert(0, ("customer", c.customer, customer.str.contains(FFFD, literal=True).fill_null(False)))
    bad = _first_bad(checks)
    line_hash = pl.struct(list(schema)).hash()
    own = pl.format("#row{}", pl.col(ROW)) if row_ids else pl.format("#{}", line_hash)
    noinv = pl.lit(True)
    if c.invoice is not None:
        inv = _text_id(schema[c.invoice], c.invoice, float_suffix=False)
        noinv = inv.is_null() | (inv == "")
        invoice = pl.when(noinv).then(own).otherwise(inv) if own_ids else inv
    else:
        invoice = own
    is_return = amount < 0
    if c.invoice is not None and spec.return_prefix:
        is_return = is_return | invoice.str.starts_with(spec.return_prefix).fill_null(False)
    extra = ([short_hash(line_hash).alias(HASH), noinv.alias(NOINV)] if with_hash else []) + (
        [pl.col(ROW)] if row_ids else []
    )
    extra += _text_flags(schema, replaced=with_hash and replaced, tail=with_hash and tail)
    return (lf.with_row_index(ROW) if row_ids else lf).select(
        *extra,
        customer.alias(S.CUSTOMER),
        invoice.alias(S.INVOICE),
        ts.alias(S.TIMESTAMP),
        amount.alias(S.AMOUNT),
        is_return.fill_null(False).alias(S.IS_RETURN),
        price.alias(S.PRICE),
        bad.alias(BAD),
    )


def check(raw: pl.LazyFrame, *, head: pl.DataFrame, bad_rows: int, spec: DatasetSpec) -> None:
    """Refuse a log with unreadable values (``bad_rows`` lines flagged in ``_bad``), naming the first one."""
    if not bad_rows:
        return
    tx = canonical(raw, spec, head=head, row_ids=True)
    first = tx.filter(pl.col(BAD) > 0).select(BAD, ROW).head(1).collect().row(0)
    role, row = BAD_ROLES[first[0] - 1], first[1]
    column = getattr(spec.columns.resolve(list(raw.collect_schema())), role)
    value = str(raw.with_row_index(ROW).filter(pl.col(ROW) == row).select(column).collect().item()).strip()
    if role == "customer":
        raise DataError(
            f"customer ids in column {column!r} have bytes that are not valid {spec.encoding} (line {row + 1}: "
            f"{value!r}; {bad_rows:,} line(s)): ids would merge; set dataset.encoding to the file's encoding, "
            "e.g. latin1 or cp1252"
        )
    if role == "date":
        raise dates.bad_date(value, column=column, fmt=spec.date_format, line=row + 1, count=bad_rows)
    raise DataError(
        f"column {column!r} (dataset.columns.{role}) has non-numeric values such as {value!r} "
        f"(line {row + 1}; {bad_rows:,} line(s) in all); fix the file or map another column"
    )


def canonical_in_memory(raw: pl.DataFrame, *, spec: DatasetSpec) -> pl.DataFrame:
    """``canonical`` on an in-memory frame, checked, plus ``_duplicate`` (every exact repeat of an earlier raw
    row), the reference the streaming path is tested against."""
    tx = canonical(raw.lazy(), spec, head=raw.head(2000)).collect()
    check(raw.lazy(), head=raw.head(2000), bad_rows=int((tx[BAD] > 0).sum()), spec=spec)
    return tx.drop(BAD).with_columns(
        (~raw.select(pl.struct(pl.all()).is_first_distinct()).to_series()).alias("_duplicate")
    )
