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

ROLES = ("customer", "date", "invoice", "quantity", "price", "amount")

# tried in order when dataset.date_format is null: detected once on a sample, then parsed with it
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


@dataclass
class Columns:
    """Which file column plays each role. A role may list several names: the first present is used."""

    customer: str | list[str]
    date: str | list[str]
    invoice: str | list[str] | None = None
    quantity: str | list[str] | None = None
    price: str | list[str] | None = None
    amount: str | list[str] | None = None

    def resolve(self, available: list[str]) -> Columns:
        """One name per role for a file with ``available`` columns; names the missing column otherwise."""
        out = {}
        for role in ROLES:
            want = getattr(self, role)
            if want is None:
                out[role] = None
                continue
            names = [want] if isinstance(want, str) else list(want)
            found = next((n for n in names if n in available), None)
            if found is None:
                shown = repr(names[0]) if len(names) == 1 else f"any of {names}"
                raise DataError(
                    f"column {shown} (dataset.columns.{role}) not in the data; the file has columns {available}"
                )
            out[role] = found
        return Columns(**out)


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
    sheet: str | None = None  # workbook sheet (xlsx); None = the first
    download: dict = field(default_factory=dict)  # {enabled, url, sha256, member, cache_dir}

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


def is_synthetic(spec: DatasetSpec) -> bool:
    return spec.path in (None, "", "synthetic") and not (spec.download or {}).get("enabled") and bool(spec.synthetic)


def source_path(spec: DatasetSpec) -> Path:
    """The file to read: ``dataset.path``, or the downloaded (cached) file when download is enabled."""
    if spec.path not in (None, ""):
        return Path(spec.path).expanduser()
    dl = spec.download or {}
    if dl.get("enabled"):
        return fetch(dl["url"], dl.get("sha256"), dl.get("cache_dir") or "~/.cache/rfmlab", dl.get("member"))
    raise DataError(
        f"dataset {spec.name} needs a file: set dataset.path=FILE"
        + (" or dataset.download.enabled=true to fetch it" if dl.get("url") else "")
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url: str, sha256: str | None, cache_dir: str, member: str | None = None) -> Path:
    """Download ``url`` once into ``cache_dir`` (checked against ``sha256`` when given); a zip's ``member``
    is extracted beside it. Offline: a DataError saying how to proceed without the network."""
    import urllib.error
    import urllib.parse
    import urllib.request
    import zipfile

    cache = Path(cache_dir).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / urllib.parse.unquote(Path(urllib.parse.urlparse(url).path).name or "download")
    if not target.exists():
        part = target.with_name(target.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as r, open(part, "wb") as f:
                for block in iter(lambda: r.read(1 << 20), b""):
                    f.write(block)
        except (urllib.error.URLError, OSError, ValueError) as e:
            part.unlink(missing_ok=True)
            reason = getattr(e, "reason", None) or e
            raise DataError(
                f"cannot download {url} ({reason}); without internet, fetch the file elsewhere and "
                "pass dataset.path=FILE"
            ) from e
        part.rename(target)
    if sha256:
        got = _sha256(target)
        if got != sha256.lower():
            target.unlink()
            raise DataError(
                f"{url} has sha256 {got}, not the expected {sha256}; the file was removed from the cache "
                "(check dataset.download.sha256)"
            )
    if member is None:
        return target
    out = cache / member
    if not out.exists():
        try:
            with zipfile.ZipFile(target) as z:
                z.extract(member, cache)
        except (zipfile.BadZipFile, KeyError) as e:
            raise DataError(f"{target} has no member {member!r}: {e}") from e
    return out


def read(spec: DatasetSpec) -> pl.DataFrame:
    """The raw frame, as the file (or the generator) has it."""
    if is_synthetic(spec) and spec.synthetic:
        return synthetic.generate(spec.kind, **spec.synthetic)
    path = source_path(spec)
    if not path.exists():
        raise DataError(f"dataset file not found: {path}; set dataset.path to an existing file")
    if path.stat().st_size == 0:
        raise DataError(f"dataset file is empty: {path}")
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            df = pl.read_parquet(path)
        elif name.endswith((".xlsx", ".xls", ".xlsb", ".ods")):
            df = pl.read_excel(path, sheet_name=spec.sheet, infer_schema_length=None)
        else:
            source = path
            if spec.encoding.lower().replace("-", "") not in ("utf8", "utf8lossy"):
                # polars would decode the raw (maybe gzip) bytes itself: decompress, then decode, then UTF-8
                import gzip
                import io

                data = path.read_bytes()
                if data[:2] == b"\x1f\x8b":
                    data = gzip.decompress(data)
                source = io.BytesIO(data.decode(spec.encoding, errors="replace").encode("utf-8"))
            df = pl.read_csv(
                source, separator=spec.separator, infer_schema=False, encoding="utf8-lossy", quote_char='"'
            )
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError, ValueError, LookupError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot read {path}: {first}; check dataset.separator / dataset.encoding") from e
    if df.height == 0:
        raise DataError(f"dataset file has no rows: {path}")
    return df


def digest(spec: DatasetSpec, raw: pl.DataFrame) -> str:
    """sha256 of the source file, or of the generated frame's CSV text for synthetic data."""
    if is_synthetic(spec):
        return hashlib.sha256(raw.write_csv().encode()).hexdigest()
    return _sha256(source_path(spec))


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


def detect_date_format(values: pl.Series, sample: int = 2000) -> str | None:
    """The format of ``DATE_FORMATS`` that parses most of a sample (at least half of it), or None.

    Ties go to the earlier format, so ISO beats US beats European day-first on ambiguous samples.
    """
    present = values.drop_nulls()
    head = present.filter(present != "").head(sample)
    if head.is_empty():
        return None
    best, best_n = None, 0
    for fmt in DATE_FORMATS:
        n = head.len() - head.str.strptime(pl.Datetime("us"), fmt, strict=False).null_count()
        if n > best_n:
            best, best_n = fmt, n
        if n == head.len():
            break
    return best if best_n * 2 >= head.len() else None


def _timestamps(raw: pl.DataFrame, column: str, fmt: str | None) -> pl.Series:
    s = raw[column]
    if s.dtype == pl.Datetime or s.dtype == pl.Date:
        return s.cast(pl.Datetime("us"))
    txt = s.cast(pl.String).str.strip_chars()
    if not fmt:
        fmt = detect_date_format(txt)
        if fmt is None:
            example = txt.drop_nulls().head(1).to_list()
            raise DataError(
                f"cannot recognise the dates in column {column!r} (e.g. {example[0] if example else ''!r}); "
                "set dataset.date_format, e.g. '%m/%d/%Y %H:%M'"
            )
    out = txt.str.strptime(pl.Datetime("us"), fmt, strict=False)
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
    if c.amount is None and (c.quantity is None or c.price is None):
        raise ConfigError("set dataset.columns.amount, or both dataset.columns.quantity and dataset.columns.price")
    c = c.resolve(raw.columns)

    customer = raw[c.customer].cast(pl.String).str.strip_chars().str.replace(r"\.0$", "")
    if c.amount is not None:
        amount = _numeric(raw, c.amount, "amount")
        price = pl.Series(S.PRICE, [None] * raw.height, dtype=pl.Float64)
    else:
        price = _numeric(raw, c.price, "price")
        amount = _numeric(raw, c.quantity, "quantity") * price
    if c.invoice is not None:
        invoice = raw[c.invoice].cast(pl.String).str.strip_chars()
        missing = invoice.is_null() | (invoice == "")
        if missing.any():  # a line without an invoice id is a purchase of its own
            invoice = pl.select(
                pl.when(missing).then(pl.format("#row{}", pl.int_range(raw.height))).otherwise(invoice)
            ).to_series()
    else:
        invoice = pl.select(pl.int_range(raw.height).cast(pl.String)).to_series()
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
