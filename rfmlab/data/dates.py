"""Reading a log's dates: the format (strptime syntax, or an epoch unit: ``%s``, ``ms``, ``us`` since 1970 UTC),
detected when not given, and the time zone.

Times are the customers' local wall-clock time, since days (recency, the analysis date) are counted on it: a
timestamp with a UTC offset or a zone is read as its own local time (the offset dropped) unless
``dataset.timezone`` names a zone, to which every zoned timestamp is converted first. Timestamps without a zone
are taken as they are; epoch numbers are UTC instants.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import DataError

# tried in order when dataset.date_format is null: detected once on a sample, then parsed with it
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",  # what polars' write_csv gives a Datetime column
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y-%m-%dT%H:%M:%S%.f%#z",  # ISO 8601 with a UTC offset (+05:00, +0500, Z), fractions of a second or not
    "%Y-%m-%d %H:%M:%S%.f%#z",
)
# epoch units: microseconds in one, and the lowest magnitude a detected column of them has (1973-03-03)
EPOCH = {"%s": 1_000_000, "ms": 1_000, "us": 1}
EPOCH_NAMES = {"%s": "seconds", "ms": "milliseconds", "us": "microseconds"}
EPOCH_FROM = {"%s": 1e8, "ms": 1e11, "us": 1e14}
EPOCH_HELP = "%s (seconds), ms (milliseconds) or us (microseconds) since 1970-01-01 UTC"
# an epoch timestamp outside these years is a wrong unit (milliseconds read as seconds fall in year 42,000)
YEARS = (datetime(1900, 1, 1), datetime(2200, 1, 1))
ZONED = ("%z", "%#z", "%:z", "%+")


def is_zoned(fmt: str | None) -> bool:
    """The format reads a UTC offset."""
    return bool(fmt) and fmt not in EPOCH and any(z in fmt for z in ZONED)


def describe(fmt: str) -> str:
    """``fmt`` for people: an epoch unit spelled out."""
    return f"{fmt} ({EPOCH_NAMES[fmt]} since 1970-01-01 UTC)" if fmt in EPOCH else fmt


def date_candidates(values: pl.Series, *, sample: int = 2000) -> list[str]:
    """The formats of ``DATE_FORMATS`` that parse the most of a sample of ``values`` (at least half of it), in
    ``DATE_FORMATS`` order; empty when none does."""
    present = values.drop_nulls()
    head = present.filter(present != "").head(sample)
    if head.is_empty():
        return []
    parse = lambda fmt: head.str.strptime(pl.Datetime("us"), fmt, strict=False)  # noqa: E731
    counts = {fmt: head.len() - parse(fmt).null_count() for fmt in DATE_FORMATS}
    best = max(counts.values())
    return [f for f, n in counts.items() if n == best] if best * 2 >= head.len() else []


def epoch_unit(values: pl.Series, *, sample: int = 2000) -> str | None:
    """The epoch unit of numbers (or number text) by their magnitude: a median of 1e8..1e11 is seconds, 1e11..1e14
    milliseconds, 1e14..1e17 microseconds (each from 1973 to 5138); None when the values are not all numbers or
    fit no unit."""
    present = values.drop_nulls().head(sample)
    if not present.dtype.is_numeric():
        present = present.cast(pl.String).str.strip_chars()
        present = present.filter(present != "")
    numbers = present.cast(pl.Float64, strict=False)
    if numbers.is_empty() or numbers.null_count():
        return None
    median = abs(float(numbers.median()))
    return next((u for u, low in EPOCH_FROM.items() if low <= median < low * 1000), None)


def detect_date_format(values: pl.Series, *, sample: int = 2000) -> str | None:
    """The first of ``date_candidates``, else the ``epoch_unit`` (the eager reference path; the job uses
    ``resolve_date_format``)."""
    return next(iter(date_candidates(values.cast(pl.String), sample=sample)), None) or epoch_unit(values)


def _unrecognised(column: str, values: pl.Series) -> DataError:
    example = values.drop_nulls().head(1).to_list()
    return DataError(
        f"cannot recognise the dates in column {column!r} (e.g. {example[0] if example else ''!r}); "
        f"set dataset.date_format, e.g. '%m/%d/%Y %H:%M', or for numbers {EPOCH_HELP}"
    )


def resolve_date_format(spec: DatasetSpec, lf: pl.LazyFrame, head: pl.DataFrame) -> tuple[DatasetSpec, str | None]:
    """``spec`` with ``date_format`` set when it is null and the dates are text or numbers, and the format detected
    (None when it was given or the column holds dates already). Formats that fit the first rows equally well are
    tried on the whole column; if several still fit and read some date differently (day/month against month/day),
    the log is refused: guessing would silently swap days and months. Numbers are epoch time in the unit their
    magnitude gives."""
    import dataclasses

    schema = dict(lf.collect_schema())
    column = spec.columns.resolve(list(schema)).date
    if spec.date_format or schema[column] in (pl.Date,) or isinstance(schema[column], pl.Datetime):
        return spec, None
    txt = pl.col(column).cast(pl.String).str.strip_chars()
    found = date_candidates(head[column].cast(pl.String).str.strip_chars())
    if not found:
        unit = epoch_unit(head[column])
        if unit is None:
            raise _unrecognised(column, head[column])
        found = [unit]
    if len(found) > 1:
        found = _fit_whole_column(lf, txt, found, column)
    return dataclasses.replace(spec, date_format=found[0]), found[0]


def _fit_whole_column(lf: pl.LazyFrame, txt: pl.Expr, formats: list[str], column: str) -> list[str]:
    """The ``formats`` that parse every date of the column (one streaming pass); refuses when two of them fit
    everywhere but read a date differently."""
    parsed = [txt.str.strptime(pl.Datetime("us"), f, strict=False) for f in formats]
    fails = [(p.is_null() & txt.is_not_null() & (txt != "")).sum().alias(f"f{i}") for i, p in enumerate(parsed)]
    differ = [(parsed[0] != p).fill_null(False).any().alias(f"d{i}") for i, p in enumerate(parsed)]
    first_diff = txt.filter(pl.any_horizontal([(parsed[0] != p).fill_null(False) for p in parsed[1:]])).first()
    row = lf.select(*fails, *differ, first_diff.alias("example")).collect(engine="streaming").row(0, named=True)
    fit = [f for i, f in enumerate(formats) if row[f"f{i}"] == 0] or formats[:1]
    clash = [f for i, f in enumerate(formats) if f in fit and row[f"d{i}"]]
    if len(fit) > 1 and clash:
        raise DataError(
            f"the dates in column {column!r} fit both {fit[0]!r} and {clash[0]!r} (e.g. {row['example']!r}): "
            "day and month cannot be told apart; set dataset.date_format to the one the file uses"
        )
    return fit


def _local(utc: pl.Expr, timezone: str | None) -> pl.Expr:
    """A UTC-aware timestamp as naive wall-clock time in ``timezone`` (naive UTC when None)."""
    return (utc.dt.convert_time_zone(timezone) if timezone else utc).dt.replace_time_zone(None)


def _epoch(dtype: pl.DataType, column: str, unit: str, timezone: str | None) -> tuple[pl.Expr, pl.Expr]:
    """Epoch numbers (or number text) in ``unit`` as timestamps; values outside ``YEARS`` (a wrong unit) are bad."""
    txt = pl.col(column).cast(pl.String).str.strip_chars()
    num = pl.col(column).cast(pl.Float64) if dtype.is_numeric() else txt.cast(pl.Float64, strict=False)
    us = num * EPOCH[unit]
    low, high = ((d - datetime(1970, 1, 1)).total_seconds() * 1e6 for d in YEARS)
    fits = (us >= low) & (us < high)  # false for NaN and inf too
    ts = pl.when(fits).then(us.round(0).cast(pl.Int64)).cast(pl.Datetime("us"))
    out = _local(ts.dt.replace_time_zone("UTC"), timezone) if timezone else ts
    present = txt.is_not_null() & (txt != "")
    return out, present & ~fits.fill_null(False)


def _offset(txt: pl.Expr) -> pl.Expr:
    """The UTC offset that ends a timestamp's text (``+05:00``, ``-0330``, ``+05``; ``Z`` is 0) as a duration."""
    g = txt.str.extract_groups(r"([+-])(\d{2}):?(\d{2})?$")
    minutes = g.struct[1].cast(pl.Int64) * 60 + g.struct[2].cast(pl.Int64).fill_null(0)
    sign = pl.when(g.struct[0] == "-").then(-1).otherwise(1)
    return pl.duration(minutes=(sign * minutes).fill_null(0))


def timestamp(
    dtype: pl.DataType, column: str, *, fmt: str | None, head: pl.DataFrame, timezone: str | None = None
) -> tuple[pl.Expr, pl.Expr]:
    """The column as naive Datetime(us) wall-clock time (format detected on ``head`` when not given; zones as the
    module says) and a flag for values that are there but are not dates of that format."""
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        col = pl.col(column)
        zoned = isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
        return (_local(col, timezone) if zoned else col).cast(pl.Datetime("us")), pl.lit(False)
    fmt = fmt or detect_date_format(head[column])
    if fmt is None:
        raise _unrecognised(column, head[column])
    if fmt in EPOCH:
        return _epoch(dtype, column, fmt, timezone)
    txt = pl.col(column).cast(pl.String).str.strip_chars()
    if is_zoned(fmt):
        utc = txt.str.strptime(pl.Datetime("us", "UTC"), fmt, strict=False)
        out = _local(utc, timezone) if timezone else utc.dt.replace_time_zone(None) + _offset(txt)
    else:
        out = txt.str.strptime(pl.Datetime("us"), fmt, strict=False)
    return out, out.is_null() & txt.is_not_null() & (txt != "")


def bad_date(value: str, *, column: str, fmt: str | None, line: int, count: int) -> DataError:
    """The error for a value of the date column that ``fmt`` does not read."""
    if fmt in EPOCH:
        return DataError(
            f"date {value!r} in column {column!r} (line {line}; {count:,} line(s)) is out of range as "
            f"{EPOCH_NAMES[fmt]} since 1970 (dataset.date_format={fmt!r}); set dataset.date_format to {EPOCH_HELP}"
        )
    hint = f"it does not match dataset.date_format={fmt!r}" if fmt else "set dataset.date_format"
    return DataError(f"unparseable date {value!r} (line {line}) in column {column!r}: {hint}")


def zone_note(spec: DatasetSpec, dtype: pl.DataType) -> str | None:
    """What the job says of time zones for a date column of ``dtype`` read with ``spec``: None when there is none to
    speak of (naive timestamps, no ``dataset.timezone``)."""
    tz, fmt = spec.timezone, spec.date_format
    native = dtype.time_zone if isinstance(dtype, pl.Datetime) else None
    text = not (dtype == pl.Date or isinstance(dtype, pl.Datetime))  # read with ``fmt``
    if text and fmt in EPOCH:
        if tz:
            return f"epoch timestamps converted to {tz} local time (dataset.timezone)"
        return "epoch timestamps read in UTC (set dataset.timezone=ZONE to count days in local time)"
    if not (native or (text and is_zoned(fmt))):
        return f"dataset.timezone={tz} changes nothing: the dates carry no time zone" if tz else None
    what = f"in time zone {native}" if native else "with UTC offsets"
    if tz:
        return f"timestamps {what} converted to {tz} local time (dataset.timezone)"
    return f"timestamps {what} read as their own local time (set dataset.timezone=ZONE to convert them to one zone)"
