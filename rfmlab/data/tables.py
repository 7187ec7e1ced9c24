"""A customer table as training input (``dataset.kind: customers``): one row per customer, computed elsewhere (a
warehouse, Spark), with a column for recency, frequency, monetary and any extras (``dataset.columns``).

Validated with one-line errors: a missing column, a customer id missing or on more than one row (the count and an
example), a negative, missing or non-finite value, a frequency of 0 (no purchase: no RFM profile). Recency is
``dataset.recency_unit=days`` (days since the last purchase, the analysis date unknown unless
``dataset.analysis_date`` says it) or ``date`` (the last purchase's date: recency is counted in calendar days to
``dataset.analysis_date``, by default the day after the latest one, as for a log).

What needs the transactions is not made up: there is no cleaning report (``source: customer table``, rows in =
rows out = customers) and no ``tenure_days`` or ``return_rate`` unless the table has them; ``avg_order_value``
without a column is monetary / frequency, its definition.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from rfmlab.data import dates, load
from rfmlab.data import schema as S
from rfmlab.data.clean import CleaningReport
from rfmlab.data.spec import TABLE_ROLES, DatasetSpec
from rfmlab.errors import DataError

SOURCE = "customer table"
NUMBERS = ("frequency", "monetary", "tenure_days", "avg_order_value", "return_rate")


def note(customers: pl.DataFrame) -> str:
    """What a run on a customer table cannot say, in words."""
    absent = [c for c in ("tenure_days", "return_rate") if c not in customers.columns]
    lacks = f"; no {' or '.join(absent)} (the table has no column for it)" if absent else ""
    return f"a customer table: no transactions were read, so there is no cleaning report{lacks}"


def report(customers: pl.DataFrame, *, spec: DatasetSpec) -> CleaningReport:
    """The cleaning report of a customer table: nothing cleaned, said so."""
    n = customers.height
    out = CleaningReport(rows_in=n, rows_out=n, customers_out=n, source=SOURCE, note=note(customers))
    out.filter = spec.filter or None
    return out


def _number(df: pl.DataFrame, column: str, *, role: str) -> pl.Series:
    """A column as numbers (text read as numbers), refusing text that is not one."""
    s = df[column]
    if s.dtype.is_numeric():
        return s
    txt = s.cast(pl.String).str.strip_chars()
    out = txt.cast(pl.Float64, strict=False)
    bad = out.is_null() & txt.is_not_null() & (txt != "")
    if bad.any():
        raise DataError(
            f"column {column!r} (dataset.columns.{role}) has non-numeric values such as {txt.filter(bad)[0]!r} "
            f"({int(bad.sum()):,} row(s)); fix the table or map another column"
        )
    return out


def _refuse_bad(values: pl.Series, ids: pl.Series, *, column: str, role: str) -> None:
    """Refuse negative, missing or non-finite values (a return rate above 1, a frequency of 0), naming one."""
    v = values.cast(pl.Float64)
    bad = v.is_null() | ~v.is_finite().fill_null(False) | (v < 0)
    what = "negative, missing or non-finite"
    if role == "return_rate":
        bad, what = bad | (v > 1), "missing or outside 0..1"
    if role == "frequency":
        bad, what = bad | (v == 0), "missing, non-finite, negative or 0 (no purchase: no RFM profile)"
    if bad.any():
        i = int(bad.arg_max())
        raise DataError(
            f"column {column!r} (dataset.columns.{role}) has {int(bad.sum()):,} {what} value(s), e.g. {v[i]} for "
            f"customer {ids[i]!r}; a customer table needs one real value per customer"
        )


def _ids(df: pl.DataFrame, column: str) -> pl.Series:
    """Customer ids as text, refusing a missing id and an id on several rows."""
    ids = df.select(load._text_id(df.schema[column], column)).to_series().alias(S.CUSTOMER)
    missing = ids.is_null() | (ids == "")
    if missing.any():
        raise DataError(
            f"{int(missing.sum()):,} row(s) of the customer table have no customer id (column {column!r}); "
            "every row is one customer"
        )
    counts = ids.value_counts().filter(pl.col("count") > 1).sort(["count", S.CUSTOMER], descending=[True, False])
    if counts.height:
        example, n = counts.row(0)
        raise DataError(
            f"{counts.height:,} customer id(s) appear on more than one row of column {column!r} (e.g. {example!r} "
            f"on {n} rows); a customer table has one row per customer: aggregate it first"
        )
    return ids


def _recency_days(df: pl.DataFrame, *, column: str, spec: DatasetSpec, as_of: date | None, ids: pl.Series):
    """Recency in days from a last-purchase date column, and the analysis date (default: the day after the latest
    last purchase)."""
    ts, bad = dates.timestamp(df.schema[column], column, fmt=spec.date_format, head=df.head(2000),
                              timezone=spec.timezone)  # fmt: skip
    got = df.select(ts.alias("t"), bad.alias("b"))
    if got["b"].any():
        i = int(got["b"].arg_max())
        raise dates.bad_date(str(df[column][i]), column=column, fmt=spec.date_format, line=i + 1,
                             count=int(got["b"].sum()))  # fmt: skip
    day = got["t"].dt.date()
    if day.null_count():
        i = int(day.is_null().arg_max())
        raise DataError(f"customer {ids[i]!r} has no last purchase date (column {column!r}, dataset.columns.recency)")
    as_of = as_of or day.max() + timedelta(days=1)
    late = day >= as_of
    if late.any():
        i = int(late.arg_max())
        raise DataError(
            f"{int(late.sum()):,} customer(s) bought on or after dataset.analysis_date={as_of} (e.g. {ids[i]!r} on "
            f"{day[i]}); set a later dataset.analysis_date"
        )
    return (pl.Series([as_of] * len(day)) - day).dt.total_days().cast(pl.Int64), as_of


def customers(src: load.Source, *, spec: DatasetSpec, as_of: date | None) -> tuple[pl.DataFrame, date | None]:
    """The customer table (``schema.CUSTOMER_COLUMNS`` the table has, sorted by id) and its analysis date (None
    with recency in days and no ``dataset.analysis_date``)."""
    cols = spec.columns.resolve(src.lf.collect_schema().names())
    mapped = {role: getattr(cols, role) for role in TABLE_ROLES if getattr(cols, role) is not None}
    df = src.lf.select(list(dict.fromkeys(mapped.values()))).collect()
    ids = _ids(df, mapped["customer"])
    out = {S.CUSTOMER: ids}
    if spec.recency_unit == "date":
        out["recency"], as_of = _recency_days(df, column=mapped["recency"], spec=spec, as_of=as_of, ids=ids)
    else:
        out["recency"] = _number(df, mapped["recency"], role="recency")
        _refuse_bad(out["recency"], ids, column=mapped["recency"], role="recency")
    for role in NUMBERS:
        if role in mapped:
            out[role] = _number(df, mapped[role], role=role)
            _refuse_bad(out[role], ids, column=mapped[role], role=role)
    table = pl.DataFrame({k: v.alias(k) for k, v in out.items()})
    table = table.with_columns(pl.col(c).cast(pl.Float64) for c in ("monetary", "avg_order_value", "return_rate")
                               if c in table.columns)  # fmt: skip
    if "avg_order_value" not in table.columns:
        table = table.with_columns((pl.col("monetary") / pl.col("frequency")).alias("avg_order_value"))
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    return table.select([c for c in S.CUSTOMER_COLUMNS if c in table.columns]).sort(S.CUSTOMER), as_of
