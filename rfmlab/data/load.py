"""Read a transaction source (embedded synthetic data or a file) and map it to the canonical schema.

``DatasetSpec`` is a plain description of the source and its layout (built from the ``dataset``
config group by the CLI); ``read`` returns the raw frame and ``canonicalize`` validates and maps it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from rfmlab.data import schema as S
from rfmlab.data import synthetic
from rfmlab.errors import ConfigError, DataError


@dataclass
class Columns:
    customer: str
    date: str
    invoice: str | None = None
    quantity: str | None = None
    price: str | None = None
    amount: str | None = None


@dataclass
class DatasetSpec:
    name: str
    kind: str = "ecommerce"
    path: str | None = None  # None: the embedded synthetic generator of ``kind``
    synthetic: dict = field(default_factory=dict)
    columns: Columns = field(default_factory=lambda: Columns("CustomerID", "InvoiceDate"))
    date_format: str | None = None
    separator: str = ","
    encoding: str = "utf8"
    return_prefix: str | None = "C"
    cleaning: dict = field(default_factory=dict)
    analysis_date: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> DatasetSpec:
        d = dict(d)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown dataset option(s) {unknown}; valid options are {sorted(known)}")
        cols = d.pop("columns", None) or {}
        try:
            columns = Columns(**cols)
        except TypeError as e:
            raise ConfigError(f"dataset.columns: {e}; valid keys are {list(Columns.__dataclass_fields__)}") from e
        return cls(columns=columns, **d)


def read(spec: DatasetSpec) -> pl.DataFrame:
    """The raw frame, as the file (or the generator) has it."""
    if spec.path in (None, "", "synthetic"):
        return synthetic.generate(spec.kind, **spec.synthetic)
    path = Path(spec.path).expanduser()
    if not path.exists():
        raise DataError(f"dataset file not found: {path}; set dataset.path to an existing file")
    if path.stat().st_size == 0:
        raise DataError(f"dataset file is empty: {path}")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            df = pl.read_parquet(path)
        elif name.endswith((".xlsx", ".xls")):
            df = pl.read_excel(path)
        else:
            encoding = "utf8-lossy" if spec.encoding.lower() in ("utf8", "utf-8") else spec.encoding
            df = pl.read_csv(path, separator=spec.separator, infer_schema=False, encoding=encoding, quote_char='"')
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot read {path}: {first}; check dataset.separator / dataset.encoding") from e
    if df.height == 0:
        raise DataError(f"dataset file has no rows: {path}")
    return df


def digest(spec: DatasetSpec, raw: pl.DataFrame) -> str:
    """sha256 of the source file, or of the generated frame's CSV text for synthetic data."""
    h = hashlib.sha256()
    if spec.path in (None, "", "synthetic"):
        h.update(raw.write_csv().encode())
    else:
        with open(Path(spec.path).expanduser(), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _require(raw: pl.DataFrame, role: str, column: str | None) -> None:
    if column is not None and column not in raw.columns:
        raise DataError(
            f"column {column!r} (dataset.columns.{role}) not in the data; the file has columns {raw.columns}"
        )


def _numeric(raw: pl.DataFrame, column: str, role: str) -> pl.Series:
    s = raw[column]
    if s.dtype.is_numeric():
        return s.cast(pl.Float64)
    txt = s.cast(pl.String).str.strip_chars()
    out = txt.cast(pl.Float64, strict=False)
    bad = out.is_null() & txt.is_not_null() & (txt != "")
    if bad.any():
        example = txt.filter(bad)[0]
        raise DataError(
            f"column {column!r} (dataset.columns.{role}) has non-numeric values such as {example!r}; "
            "fix the file or map another column"
        )
    return out


def _timestamps(raw: pl.DataFrame, column: str, fmt: str | None) -> pl.Series:
    s = raw[column]
    if s.dtype == pl.Datetime or s.dtype == pl.Date:
        return s.cast(pl.Datetime("us"))
    txt = s.cast(pl.String).str.strip_chars()
    try:
        if fmt:
            out = txt.str.strptime(pl.Datetime("us"), fmt, strict=False)
        else:
            out = txt.str.to_datetime(time_unit="us", strict=False)
    except pl.exceptions.ComputeError as e:
        raise DataError(
            f"cannot parse dates in column {column!r}; set dataset.date_format (e.g. '%m/%d/%Y %H:%M')"
        ) from e
    bad = out.is_null() & txt.is_not_null() & (txt != "")
    if bad.any():
        example = txt.filter(bad)[0]
        hint = f"it does not match dataset.date_format={fmt!r}" if fmt else "set dataset.date_format"
        raise DataError(f"unparseable date {example!r} in column {column!r}: {hint}")
    return out


def canonicalize(raw: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """Map the raw frame to the canonical schema, plus ``price`` (or null) and ``_duplicate``.

    ``_duplicate`` marks every exact repeat of an earlier raw row, so cleaning can drop it.
    """
    c = spec.columns
    for role in ("customer", "date", "invoice", "quantity", "price", "amount"):
        _require(raw, role, getattr(c, role))
    if c.amount is None and (c.quantity is None or c.price is None):
        raise ConfigError("set dataset.columns.amount, or both dataset.columns.quantity and dataset.columns.price")

    customer = raw[c.customer].cast(pl.String).str.strip_chars().str.replace(r"\.0$", "")
    if c.amount is not None:
        amount = _numeric(raw, c.amount, "amount")
        price = pl.Series(S.PRICE, [None] * raw.height, dtype=pl.Float64)
    else:
        price = _numeric(raw, c.price, "price")
        amount = _numeric(raw, c.quantity, "quantity") * price
    if c.invoice is not None:
        invoice = raw[c.invoice].cast(pl.String).str.strip_chars()
    else:
        invoice = pl.Series([str(i) for i in range(raw.height)], dtype=pl.String)
    is_return = amount < 0
    if c.invoice is not None and spec.return_prefix:
        is_return = is_return | invoice.str.starts_with(spec.return_prefix).fill_null(False)
    return pl.DataFrame(
        {
            S.CUSTOMER: customer,
            S.INVOICE: invoice,
            S.TIMESTAMP: _timestamps(raw, c.date, spec.date_format),
            S.AMOUNT: amount,
            S.IS_RETURN: is_return.fill_null(False),
            S.PRICE: price,
            "_duplicate": ~raw.select(pl.struct(pl.all()).is_first_distinct()).to_series(),
        }
    )
