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


@dataclass
class Source:
    """A transaction source ready to query: ``lf`` scans it lazily, ``head`` holds its first rows (for date
    detection and the dataset preview), ``digest`` is the file's sha256 (the generated CSV text's for
    synthetic data)."""

    lf: pl.LazyFrame
    head: pl.DataFrame
    digest: str


def _path(spec: DatasetSpec) -> Path:
    path = source_path(spec)
    if not path.exists():
        raise DataError(f"dataset file not found: {path}; set dataset.path to an existing file")
    if path.stat().st_size == 0:
        raise DataError(f"dataset file is empty: {path}")
    return path


def _is_excel(path: Path) -> bool:
    return path.name.lower().endswith((".xlsx", ".xls", ".xlsb", ".ods"))


def _utf8(path: Path, encoding: str) -> Path:
    """A UTF-8 copy of a (maybe gzipped) file in another encoding, transcoded in 1 MB blocks into the temp
    directory (removed when the process ends): polars reads UTF-8 only, and in bounded memory from a file."""
    import atexit
    import gzip
    import io
    import os
    import tempfile

    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    fd, out = tempfile.mkstemp(prefix="rfmlab-utf8-", suffix=".csv")
    atexit.register(lambda: Path(out).unlink(missing_ok=True))
    opener = gzip.open if gz else open
    with (
        opener(path, "rb") as raw,
        io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="") as src,
        os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
    ):
        for block in iter(lambda: src.read(1 << 20), ""):
            dst.write(block)
    return Path(out)


def _scan_file(spec: DatasetSpec, path: Path) -> pl.LazyFrame:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pl.scan_parquet(path)
    if _is_excel(path):
        return pl.read_excel(path, sheet_name=spec.sheet, infer_schema_length=None).lazy()
    if spec.encoding.lower().replace("-", "") not in ("utf8", "utf8lossy"):
        path = _utf8(path, spec.encoding)
    return pl.scan_csv(path, separator=spec.separator, infer_schema=False, encoding="utf8-lossy", quote_char='"')


def cache_root() -> Path:
    """Where generated logs and downloads are kept: ``$RFMLAB_CACHE_DIR`` or ``~/.cache/rfmlab``."""
    import os

    return Path(os.environ.get("RFMLAB_CACHE_DIR") or "~/.cache/rfmlab").expanduser()


def _synthetic_parts(kind: str, params: dict) -> tuple[list[Path], str]:
    """A large generated log as cached parquet parts (written once, block by block) and their digest."""
    import json
    import shutil
    import tempfile

    key = hashlib.sha256(json.dumps({"kind": kind, **params}, sort_keys=True).encode()).hexdigest()[:16]
    target = cache_root() / "synthetic" / f"{kind}-{params.get('n_customers')}-{key}"
    if not (target / "digest.txt").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".writing-"))
        h = hashlib.sha256()
        for part in synthetic.write_blocks(kind, tmp, **params):
            h.update(_sha256(part).encode())
        (tmp / "digest.txt").write_text(h.hexdigest())
        try:
            tmp.rename(target)
        except OSError:  # another process wrote it meanwhile: same arguments, same files
            shutil.rmtree(tmp, ignore_errors=True)
    return sorted(target.glob("part-*.parquet")), (target / "digest.txt").read_text().strip()


def scan(spec: DatasetSpec, head_rows: int = 2000, with_digest: bool = True) -> Source:
    """The source as a lazy frame (CSV, gzip CSV and parquet are never read whole; Excel is), its first
    rows and (``with_digest``: a full pass over the file) its digest. Errors reading it are one-line
    DataErrors. A generated log of more than ``synthetic.BLOCK`` customers is written once to the cache in
    blocks and scanned like a file."""
    if is_synthetic(spec):
        if int(spec.synthetic.get("n_customers", 0)) > synthetic.BLOCK:
            parts, digest = _synthetic_parts(spec.kind, dict(spec.synthetic))
            lf = pl.scan_parquet(parts)
            return Source(lf, lf.head(head_rows).collect(), digest)
        raw = synthetic.generate(spec.kind, **spec.synthetic)
        digest = hashlib.sha256(raw.write_csv().encode()).hexdigest() if with_digest else ""
        return Source(raw.lazy(), raw.head(head_rows), digest)
    path = _path(spec)
    try:
        lf = _scan_file(spec, path)
        head = lf.head(head_rows).collect()
    except (pl.exceptions.PolarsError, OSError, ValueError, LookupError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot read {path}: {first}; check dataset.separator / dataset.encoding") from e
    if head.height == 0:
        raise DataError(f"dataset file has no rows: {path}")
    return Source(lf, head, _sha256(path) if with_digest else "")


def read(spec: DatasetSpec) -> pl.DataFrame:
    """The raw frame, as the file (or the generator) has it, read whole (small files, tests, previews)."""
    src = scan(spec, with_digest=False)
    try:
        return src.lf.collect()
    except (pl.exceptions.PolarsError, OSError, ValueError) as e:
        path = source_path(spec)
        raise DataError(f"cannot read {path}: {str(e).strip().splitlines()[0]}; check dataset.separator") from e


ROW = "_row"  # position of the line in the source, 0-based
HASH = "_hash"  # 32-bit hash of the raw line (all its columns): lines that share one may repeat each other
NOINV = "_noinv"  # the line has no invoice id
BAD = "_bad"  # 0, or 1 + the index in BAD_ROLES of the first unreadable value on the line
BAD_ROLES = ("amount", "quantity", "price", "date")


def _numeric(dtype: pl.DataType, column: str) -> tuple[pl.Expr, pl.Expr]:
    """The column as Float64 and a flag for values that are there but are not numbers."""
    if dtype.is_numeric():
        return pl.col(column).cast(pl.Float64), pl.lit(False)
    txt = pl.col(column).cast(pl.String).str.strip_chars()
    out = txt.cast(pl.Float64, strict=False)
    return out, out.is_null() & txt.is_not_null() & (txt != "")


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


def _timestamp(dtype: pl.DataType, column: str, fmt: str | None, head: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """The column as Datetime(us) (format detected on ``head`` when not given) and a flag for bad dates."""
    if dtype in (pl.Datetime, pl.Date) or isinstance(dtype, pl.Datetime):
        return pl.col(column).cast(pl.Datetime("us")), pl.lit(False)
    txt = pl.col(column).cast(pl.String).str.strip_chars()
    if not fmt:
        sample = head[column].cast(pl.String).str.strip_chars()
        fmt = detect_date_format(sample)
        if fmt is None:
            example = sample.drop_nulls().head(1).to_list()
            raise DataError(
                f"cannot recognise the dates in column {column!r} (e.g. {example[0] if example else ''!r}); "
                "set dataset.date_format, e.g. '%m/%d/%Y %H:%M'"
            )
    out = txt.str.strptime(pl.Datetime("us"), fmt, strict=False)
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


def canonical(
    lf: pl.LazyFrame,
    spec: DatasetSpec,
    head: pl.DataFrame,
    with_hash: bool = False,
    row_ids: bool = True,
    own_ids: bool = True,
) -> pl.LazyFrame:
    """The canonical columns (``schema.CANONICAL_SCHEMA``) plus ``price`` (or null), ``_bad`` (an unreadable
    value, see ``check``), with ``with_hash`` ``_hash`` (of the raw line) and with ``row_ids`` ``_row`` (position
    in the source), as a lazy query over ``lf``.

    A line without an invoice id is a purchase of its own: ``#row<n>`` with ``row_ids``, else ``#<line hash>``.
    Numbering lines forces polars to stream in order (3x slower on 50M lines); the hash gives the same counts
    whenever exact repeats are dropped (``cleaning.duplicates: drop``), the only lines that share it. Either id
    is computed for every line (polars evaluates both branches), so ``own_ids=False`` skips it for a log known
    to have every invoice id (``with_hash`` adds ``_noinv``, the flag to count them by).
    """
    c = spec.columns
    if c.amount is None and (c.quantity is None or c.price is None):
        raise ConfigError("set dataset.columns.amount, or both dataset.columns.quantity and dataset.columns.price")
    schema = dict(lf.collect_schema())
    c = c.resolve(list(schema))
    amount, price, checks = _amount(c, schema)
    ts, bad_date = _timestamp(schema[c.date], c.date, spec.date_format, head)
    checks.append(("date", c.date, bad_date))
    bad = pl.lit(0, dtype=pl.UInt8)  # index + 1 into BAD_ROLES of the first unreadable value, 0 when none
    for role, _, flag in reversed(checks):
        bad = pl.when(flag).then(pl.lit(BAD_ROLES.index(role) + 1, dtype=pl.UInt8)).otherwise(bad)
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
    return (lf.with_row_index(ROW) if row_ids else lf).select(
        *extra,
        _text_id(schema[c.customer], c.customer).alias(S.CUSTOMER),
        invoice.alias(S.INVOICE),
        ts.alias(S.TIMESTAMP),
        amount.alias(S.AMOUNT),
        is_return.fill_null(False).alias(S.IS_RETURN),
        price.alias(S.PRICE),
        bad.alias(BAD),
    )


def check(raw: pl.LazyFrame, head: pl.DataFrame, bad_rows: int, spec: DatasetSpec) -> None:
    """Refuse a log with unreadable values (``bad_rows`` lines flagged in ``_bad``), naming the first one."""
    if not bad_rows:
        return
    tx = canonical(raw, spec, head, row_ids=True)
    first = tx.filter(pl.col(BAD) > 0).select(BAD, ROW).head(1).collect().row(0)
    role, row = BAD_ROLES[first[0] - 1], first[1]
    column = getattr(spec.columns.resolve(list(raw.collect_schema())), role)
    value = str(raw.with_row_index(ROW).filter(pl.col(ROW) == row).select(column).collect().item()).strip()
    if role == "date":
        fmt = spec.date_format
        hint = f"it does not match dataset.date_format={fmt!r}" if fmt else "set dataset.date_format"
        raise DataError(f"unparseable date {value!r} (line {row + 1}) in column {column!r}: {hint}")
    raise DataError(
        f"column {column!r} (dataset.columns.{role}) has non-numeric values such as {value!r} "
        f"(line {row + 1}; {bad_rows:,} line(s) in all); fix the file or map another column"
    )


def canonicalize(raw: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    """``canonical`` on an in-memory frame, checked, plus ``_duplicate`` (every exact repeat of an earlier raw
    row), the reference the streaming path is tested against."""
    tx = canonical(raw.lazy(), spec, raw.head(2000)).collect()
    check(raw.lazy(), raw.head(2000), int((tx[BAD] > 0).sum()), spec)
    return tx.drop(BAD).with_columns(
        (~raw.select(pl.struct(pl.all()).is_first_distinct()).to_series()).alias("_duplicate")
    )
