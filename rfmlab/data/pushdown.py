"""The customer-table stage as ONE Ibis expression, run by the engine that holds the log (``data.engines``):
canonical mapping, the cleaning reasons, exact duplicate lines, cancellations netted or dropped, the analysis-date
cut and the per-customer RFM aggregates. Only one row per customer and reason code comes back (``groups``); the
cleaning report and the aggregates ``features.table`` turns into the customer table are read from it, so the
definitions (recency in days, ratios, rounding, net <= 0 customers) stay those of the polars path.

How each polars-path step is written for an engine:

- exact duplicate lines: the distinct raw lines with their ``_w`` copies (DuckDB: a hash a line, only lines whose
  hash repeats grouped in full, as polars does; elsewhere every line grouped by every column); a line's
  reasons depend only on its values, so its copies share them: a distinct line that an earlier reason drops counts
  ``_w`` lines there, one that none drops counts 1 kept (or dropped by a later reason) and ``_w - 1`` duplicates;
- a line without an invoice id is a purchase of its own (counted, not named: no ``#row<n>`` id is made);
- an unreadable value (a number or date the format does not read, bytes that are not text in a customer id)
  refuses the log as polars does, with the number of lines but not the first one's line number (an engine does
  not number a file's lines);
- dates: text read with ``dataset.date_format`` (detected on the first rows when null) by the engine's own
  strptime; timestamps with a UTC offset, epoch numbers and ``dataset.timezone`` are the polars path's only.
"""

from __future__ import annotations

import polars as pl

from rfmlab.data import clean, dates, load
from rfmlab.data import schema as S
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError, DataError

CODE, WEIGHT = "_code", "_w"
BAD_BASE = 100  # a line whose first unreadable value is BAD_ROLES[code - BAD_BASE - 1]
NUMBER = r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[iI]nf(inity)?|[nN]a[nN])$"  # what a float cast reads
AGGREGATES = ("_last", "_first", "monetary", "_returned", "frequency", "_latest", "_lines", "_return_lines")


def _numeric(ibis, t, column: str, *, engine: str):
    """The column as float64 and a flag for values that are there but are not numbers (as ``load._numeric``)."""
    col = t[column]
    if col.type().is_numeric():
        return col.cast("float64"), ibis.literal(False)
    txt = col.cast("string").strip()
    if engine == "postgres":  # no TRY_CAST: cast only what reads as a number
        out = txt.re_search(NUMBER).ifelse(txt.cast("float64"), ibis.null("float64"))
    else:
        out = txt.try_cast("float64")
    return out, out.isnull() & txt.notnull() & (txt != "")


def _text_id(t, column: str, *, float_suffix: bool = True):
    """An id as text (as ``load._text_id``): integers as they are, text stripped, and with ``float_suffix`` without
    a trailing ``.0``."""
    col = t[column]
    dtype = col.type()
    if dtype.is_integer():
        return col.cast("string")
    txt = col.cast("string") if dtype.is_floating() else col.cast("string").strip()
    if not float_suffix:
        return txt
    return txt.endswith(".0").ifelse(txt.substr(0, txt.length() - 2), txt)


def _timestamp(ibis, t, column: str, *, spec: DatasetSpec, engine: str):
    """The date column as a naive timestamp and a flag for values that are there but are not dates."""
    col = t[column]
    dtype = col.type()
    if dtype.is_timestamp() or dtype.is_date():
        if getattr(dtype, "timezone", None) or spec.timezone:
            raise ConfigError(
                f"dataset.engine={engine}: column {column!r} has zoned timestamps (or dataset.timezone is set); "
                "time zones are converted by dataset.engine=polars only"
            )
        return col.cast("timestamp"), ibis.literal(False)
    fmt = spec.date_format
    if dtype.is_numeric() or fmt in dates.EPOCH or dates.is_zoned(fmt) or spec.timezone or "%." in str(fmt):
        raise ConfigError(
            f"dataset.engine={engine} reads dates written without a time zone in strptime formats such as "
            f"'%Y-%m-%d %H:%M:%S'; column {column!r} (dataset.date_format={fmt!r}, dataset.timezone="
            f"{spec.timezone!r}) needs dataset.engine=polars (epoch numbers, UTC offsets, fractions, time zones)"
        )
    txt = col.cast("string").strip()
    absent = txt.isnull() | (txt == "")
    ts = absent.ifelse(ibis.null("timestamp"), txt.as_timestamp(fmt))
    return ts, ts.isnull() & ~absent


def canonical(ibis, t, spec: DatasetSpec, *, engine: str, text: bool) -> dict:
    """The canonical columns of the raw table ``t`` as Ibis expressions, plus ``price`` (or null), ``noinv`` (no
    invoice id), ``bad`` (index + 1 into ``load.BAD_ROLES`` of a line's first unreadable value, 0 when none) and,
    for text, ``replaced`` (U+FFFD, an undecodable byte, in some text column)."""
    c = spec.columns
    if c.amount is None and (c.quantity is None or c.price is None):
        raise ConfigError("set dataset.columns.amount, or both dataset.columns.quantity and dataset.columns.price")
    c = c.resolve(list(t.columns))
    checks = []
    if c.amount is not None:
        amount, bad = _numeric(ibis, t, c.amount, engine=engine)
        price, checks = ibis.null("float64"), [("amount", bad)]
    else:
        price, bad_p = _numeric(ibis, t, c.price, engine=engine)
        qty, bad_q = _numeric(ibis, t, c.quantity, engine=engine)
        amount, checks = qty * price, [("quantity", bad_q), ("price", bad_p)]
    ts, bad_date = _timestamp(ibis, t, c.date, spec=spec, engine=engine)
    customer = _text_id(t, c.customer)
    checks = [("customer", customer.contains(load.FFFD).fill_null(False)), *checks, ("date", bad_date)]
    bad = ibis.cases(*((flag, load.BAD_ROLES.index(role) + 1) for role, flag in checks), else_=0)
    if c.invoice is not None:
        invoice = _text_id(t, c.invoice, float_suffix=False)
        noinv = invoice.isnull() | (invoice == "")
    else:
        invoice, noinv = ibis.null("string"), ibis.literal(True)
    is_return = amount < 0
    if c.invoice is not None and spec.return_prefix:
        is_return = is_return | invoice.startswith(spec.return_prefix).fill_null(False)
    texts = [n for n in t.columns if t[n].type().is_string()]
    replaced = ibis.literal(False)
    if text and texts:
        replaced = ibis.or_(*(t[n].contains(load.FFFD).fill_null(False) for n in texts))
    return {S.CUSTOMER: customer, S.INVOICE: invoice, S.TIMESTAMP: ts, S.AMOUNT: amount,
            S.IS_RETURN: is_return.fill_null(False), S.PRICE: price, "noinv": noinv, "bad": bad,
            "replaced": replaced}  # fmt: skip


def _reason_code(ibis, tx, names: list[str], *, has_price: bool, as_of):
    """Per line: BAD_BASE + role of its first unreadable value, else index + 1 of the first reason in ``names`` that
    drops it (``duplicate`` apart: see ``expression``), 0 when it is kept."""
    from datetime import datetime

    amount = tx[S.AMOUNT]
    conds = {
        "missing_customer": tx[S.CUSTOMER].isnull() | (tx[S.CUSTOMER] == ""),
        "missing_date": tx[S.TIMESTAMP].isnull(),
        "missing_amount": amount.isnull(),
        "nonfinite_amount": amount.isnan() | amount.isinf(),
        "nonpositive_price": (tx[S.PRICE] <= 0) | tx[S.PRICE].isnull() if has_price else amount == 0,
        "cancellation": tx[S.IS_RETURN],
    }
    if as_of is not None:
        cut = ibis.literal(datetime.combine(as_of, datetime.min.time()), type="timestamp")
        conds["after_analysis_date"] = tx[S.TIMESTAMP] >= cut
    cases = [(tx["bad"] > 0, tx["bad"] + BAD_BASE)]
    cases += [(conds[name].fill_null(False), i + 1) for i, name in enumerate(names) if name != "duplicate"]
    return ibis.cases(*cases, else_=0)


def _distinct_lines(ibis, t, spec: DatasetSpec, *, engine: str, text: bool):
    """PostgreSQL: the distinct raw lines with their canonical values as grouping keys (functions of the line, so the
    groups are the same), or None elsewhere. PostgreSQL computes an expression at every place it is written (no
    common subexpressions), and merges plain subqueries into their query: grouped, the canonical values are
    computed once a line (the UCI file: 33 s -> 8 s) instead of once per reason that reads them."""
    if engine != "postgres":
        return None
    canon = canonical(ibis, t, spec, engine=engine, text=text)
    keys = [t[c] for c in t.columns] + [value.name(f"__{name}") for name, value in canon.items()]
    lines = t.group_by(keys).agg(**{WEIGHT: t.count()})
    return lines.select(**{name: lines[f"__{name}"] for name in canon}, **{WEIGHT: lines[WEIGHT]})


def _copies_by_hash(ibis, t):
    """The distinct raw lines with their number of copies ``_w``, grouping in full only the lines whose hash repeats
    (repeats, and chance pairs): the others are one copy each. DuckDB grouping every line by every column held them
    all (7.65 GiB on the 50M-line log); a hash a line and the few repeated lines are what polars keeps too. The
    hash is written once per use (``_h0``, ``_h1``, ``_h2``): one shared subquery would be a CTE that DuckDB keeps
    whole in memory."""

    def hashed(name: str):
        return t.mutate(**{name: ibis.struct({c: t[c] for c in t.columns}).hash()})

    counted = hashed("_h0")
    again = counted.group_by("_h0").agg(_c=counted.count())
    again = again.filter(again["_c"] > 1).select(_h=again["_h0"])
    one, two = hashed("_h1"), hashed("_h2")
    once = one.anti_join(again, one["_h1"] == again["_h"]).drop("_h1")
    once = once.mutate(**{WEIGHT: ibis.literal(1, type="int64")})
    repeated = two.semi_join(again, two["_h2"] == again["_h"]).drop("_h2")
    repeated = repeated.group_by(list(t.columns)).agg(**{WEIGHT: repeated.count()})
    return once.union(repeated, distinct=False)


def expression(ibis, t, spec: DatasetSpec, *, engine: str, text: bool, as_of=None):
    """The stage as one Ibis expression over the raw table ``t``: one row per customer id and reason code with the
    lines it counts (``_n``), the exact duplicates among them (``_dup``), the lines with undecodable bytes
    (``_replaced``) and the per-customer aggregates of ``features.aggregate`` (meaningful for code 0, the kept
    lines)."""
    names = clean.reason_names(spec.cleaning, as_of=as_of)
    has_price = spec.columns.amount is None
    dedup = "duplicate" in names
    tx = _distinct_lines(ibis, t, spec, engine=engine, text=text) if dedup else None
    if tx is None:
        if not dedup:
            raw = t.mutate(**{WEIGHT: ibis.literal(1)})
        else:
            raw = _copies_by_hash(ibis, t) if engine == "duckdb" else t.group_by(list(t.columns)).agg(_w=t.count())
        tx = raw.select(**canonical(ibis, raw, spec, engine=engine, text=text), **{WEIGHT: raw[WEIGHT]})
    tx = tx.mutate(**{CODE: _reason_code(ibis, tx, names, has_price=has_price, as_of=as_of)})
    w, code = tx[WEIGHT], tx[CODE]
    # a distinct line dropped before "duplicate" counts all its copies there; any other counts one, the rest repeats
    early = (code > 0) & (code < (names.index("duplicate") + 1 if dedup else 0)) | (code > BAD_BASE)
    own = early.ifelse(w, 1) if dedup else w
    tx = tx.mutate(_own=own, _dupn=w - own)
    buy, ret = ~tx[S.IS_RETURN], tx[S.IS_RETURN]
    ts, amount = tx[S.TIMESTAMP], tx[S.AMOUNT]
    return tx.group_by([S.CUSTOMER, CODE]).agg(
        _n=tx["_own"].sum(),
        _dup=tx["_dupn"].sum(),
        _replaced=w.sum(where=tx["replaced"]),
        _last=ts.max(where=buy),
        _first=ts.min(where=buy),
        monetary=amount.sum(),
        _returned=(-amount).sum(where=ret),
        frequency=tx[S.INVOICE].nunique(where=buy & ~tx["noinv"]) + (buy & tx["noinv"]).ifelse(1, 0).sum(),
        _latest=ts.max(),
        _return_lines=ret.ifelse(1, 0).sum(),
    )


def report_and_aggregates(groups: pl.DataFrame, spec: DatasetSpec, *, as_of, engine: str, shown: str):
    """The cleaning report so far (``clean.finish`` adds the customer-level reason) and the aggregates of the kept
    lines, one row per customer, from ``expression``'s rows; a log with unreadable values is refused."""
    names = clean.reason_names(spec.cleaning, as_of=as_of)
    groups = groups.with_columns(pl.col("_n", "_dup", "_replaced", "_return_lines").fill_null(0).cast(pl.Int64))
    bad = groups.filter(pl.col(CODE) > BAD_BASE)
    if bad.height:
        raise _unreadable(bad, spec, engine=engine, shown=shown)
    counts = dict(groups.group_by(CODE).agg(pl.col("_n").sum()).iter_rows())
    report = clean.CleaningReport(rows_in=int(groups["_n"].sum() + groups["_dup"].sum()))
    dups = int(groups["_dup"].sum())
    report.dropped = {n: dups if n == "duplicate" else int(counts.get(i + 1, 0)) for i, n in enumerate(names)}
    report.replaced_lines = int(groups["_replaced"].sum())
    kept = groups.filter(pl.col(CODE) == 0)
    time = [pl.col(c).dt.replace_time_zone(None).cast(pl.Datetime("us")) for c in ("_last", "_first", "_latest")]
    agg = kept.select(
        pl.col(S.CUSTOMER).cast(pl.String),
        *time,
        pl.col("monetary").cast(pl.Float64).fill_null(0.0),
        pl.col("_returned").cast(pl.Float64).fill_null(0.0),
        pl.col("frequency").cast(pl.Int64).fill_null(0),
        pl.col("_n").alias("_lines"),
        pl.col("_return_lines"),
    )
    return report, agg


def _unreadable(bad: pl.DataFrame, spec: DatasetSpec, *, engine: str, shown: str) -> DataError:
    """The DataError for lines with unreadable values (which role first, how many lines; no line number)."""
    first = int(bad[CODE].min()) - BAD_BASE - 1
    role, count = load.BAD_ROLES[first], int(bad["_n"].sum())
    column = getattr(spec.columns, role)
    where = f"{count:,} line(s) of {shown}; engine={engine} numbers no line: dataset.engine=polars names the first"
    if role == "customer":
        return DataError(
            f"customer ids in column {column!r} have bytes that are not valid {spec.encoding} ({where}): ids would "
            "merge; set dataset.encoding to the file's encoding, e.g. latin1 or cp1252"
        )
    if role == "date":
        return DataError(f"column {column!r} has dates that dataset.date_format={spec.date_format!r} does not read "
                         f"({where}); set dataset.date_format to the file's format")  # fmt: skip
    return DataError(f"column {column!r} (dataset.columns.{role}) has non-numeric values ({where}); fix the file "
                     "or map another column")  # fmt: skip


def resolve_date_format(spec: DatasetSpec, head: pl.DataFrame) -> tuple[DatasetSpec, str | None]:
    """``spec`` with ``date_format`` detected on the first rows when null and the dates are text; formats that fit
    those rows equally well (day/month against month/day) are refused here rather than checked on the whole column,
    which the polars path does."""
    import dataclasses

    column = spec.columns.resolve(head.columns).date
    values = head[column]
    if spec.date_format or values.dtype == pl.Date or isinstance(values.dtype, pl.Datetime):
        return spec, None
    found = dates.date_candidates(values.cast(pl.String).str.strip_chars())
    if len(found) != 1:
        shown = f"fit both {found[0]!r} and {found[1]!r}" if found else "fit none of the formats rfmlab knows"
        raise DataError(
            f"the first dates in column {column!r} {shown} (e.g. {values.drop_nulls().head(1).to_list()}); set "
            f"dataset.date_format (dataset.engine={spec.engine} does not check the whole column as polars does)"
        )
    return dataclasses.replace(spec, date_format=found[0]), found[0]
