"""Reading a transaction source: the embedded generator (in cached parquet blocks when large), a local file
(CSV, gzip CSV, parquet: scanned lazily; Excel: read whole), a folder or glob of parts, an object-store URL, or a
download; ``dataset.filter`` applied to it; its first rows and digest."""

from __future__ import annotations

import contextlib
import hashlib
import re
import weakref
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rfmlab.data import files, locations, parts, sql, synthetic
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError, DataError


def is_synthetic(spec: DatasetSpec) -> bool:
    given = spec.path not in (None, "", "synthetic") or spec.uri or (spec.download or {}).get("enabled")
    return not given and bool(spec.synthetic)


def source_path(spec: DatasetSpec) -> Path:
    """The file to read: ``dataset.path``, or the downloaded (cached) file when download is enabled."""
    if spec.path not in (None, ""):
        if locations.scheme(str(spec.path)):  # a Path would drop a slash of s3://...
            raise DataError(f"dataset.path {locations.shown(str(spec.path))} is a URL, not a file")
        return Path(spec.path).expanduser()
    dl = spec.download or {}
    if dl.get("enabled"):
        return fetch(
            dl["url"],
            sha256=dl.get("sha256"),
            cache_dir=dl.get("cache_dir") or "~/.cache/rfmlab",
            member=dl.get("member"),
        )
    raise DataError(
        f"dataset {spec.name} needs a file: set dataset.path=FILE (or dataset.uri=DATABASE_URL with dataset.table)"
        + (" or dataset.download.enabled=true to fetch it" if dl.get("url") else "")
    )


def fetch(url: str, *, sha256: str | None, cache_dir: str, member: str | None = None) -> Path:
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
        got = locations.file_sha256(target)
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


@dataclass(kw_only=True)
class Source:
    """A transaction source ready to query: ``lf`` scans it lazily (``dataset.filter`` applied), ``head`` holds
    its first rows (for date detection and the dataset preview), ``digest`` is the file's sha256 (the generated CSV
    text's for synthetic data; see ``locations`` for parts and object stores; ``not computed`` with
    ``digest_note`` saying why)."""

    lf: pl.LazyFrame
    head: pl.DataFrame
    digest: str
    text: bool = False  # decoded from CSV text (undecodable bytes became U+FFFD): count them while cleaning
    path: Path | None = None
    stamp: files.Stamp | None = None  # the file's size, modification time and inode when it was opened
    csv: Path | None = None  # the CSV text polars reads (a UTF-8 copy of ``path`` in another encoding)
    separator: str = ","
    shown: str = ""  # the source as errors name it: dataset.path as given (a URL exactly, less any secret)
    parts: tuple[tuple[Path, files.Stamp], ...] = ()  # each local part and its stamp (a folder or a glob)
    csv_parts: tuple[tuple[Path, Path], ...] = ()  # the CSV text polars reads for each part, and the part
    fields: int | None = None  # the columns of each CSV part (partition columns apart); None: all of lf's
    digest_note: str | None = None  # why the digest is not computed
    options: dict | None = None  # the storage options: their secrets never reach a message
    lineage: dict | None = None  # a SQL source: ``data.server`` (its URL, redacted) and ``data.query``

    @property
    def name(self) -> str:
        return self.shown or str(self.path)


def _path(spec: DatasetSpec) -> tuple[Path, files.Stamp]:
    """The file to read, refused when it is not a regular file with some bytes, and its stamp."""
    import stat

    path = source_path(spec)
    if not path.exists():
        raise DataError(f"dataset file not found: {path}; set dataset.path to an existing file")
    st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"dataset.path {path} is a directory; point it at one file (CSV, .csv.gz, parquet or xlsx)")
    files.refuse_special(path, st.st_mode)
    if st.st_size == 0:
        raise DataError(f"dataset file is empty: {path}")
    return path, files.Stamp.of(st)


def _is_excel(path: Path) -> bool:
    return path.name.lower().endswith((".xlsx", ".xls", ".xlsb", ".ods"))


def _scan_file(spec: DatasetSpec, path: Path) -> tuple[pl.LazyFrame, Path | None]:
    """The file as a lazy frame, and the CSV text polars reads (None for parquet and Excel)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pl.scan_parquet(path), None
    if _is_excel(path):
        sheet = files.sheet_to_read(path, sheet=spec.sheet)
        return pl.read_excel(path, sheet_name=sheet, infer_schema_length=None).lazy(), None
    if not parts.is_utf8(spec):
        path = parts.utf8(path, spec.encoding)
    return parts.scan_csv(spec, path), path


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
            h.update(locations.file_sha256(part).encode())
        (tmp / "digest.txt").write_text(h.hexdigest())
        try:
            tmp.rename(target)
        except OSError:  # another process wrote it meanwhile: same arguments, same files
            shutil.rmtree(tmp, ignore_errors=True)
    return sorted(target.glob("part-*.parquet")), (target / "digest.txt").read_text().strip()


def _opened(spec: DatasetSpec) -> tuple[Source, object]:
    """The source ``dataset.path`` (or the download) names, opened as a lazy frame, and a function that gives its
    digest and why it is not computed (a full pass over a local file or its parts; a listing of an object store)."""
    src = Source(lf=pl.LazyFrame(), head=pl.DataFrame(), digest="", separator=spec.separator)
    src.options = spec.storage_options
    given = "" if spec.path in (None, "") else str(spec.path)
    if spec.uri:
        got = sql.read(spec.uri, table=spec.table, query=spec.query, folder=cache_root() / "sql")
        src.shown, src.lf = got.server, got.scan()
        src.lineage = {"data.server": got.server, "data.query": got.query}
        weakref.finalize(src, got.remove)  # the parts go with the source (at the latest when the process ends)
        return src, lambda: (got.digest, None)
    if locations.is_remote(given):
        src.shown = locations.shown(given)
        src.lf = _reading(src, lambda: parts.scan_remote(spec))
        return src, lambda: locations.remote_digest(given, spec.storage_options)
    found = locations.parts(given) if given else None
    if found is not None:
        src.shown = given
        src.parts = tuple((f, files.Stamp.of(f.stat())) for f in found.files)
        src.lf, texts, src.fields = _reading(src, lambda: parts.scan_parts(spec, found))
        src.csv_parts, src.text = tuple(texts), found.fmt == "csv"
        return src, lambda: (locations.digest(found), None)
    src.path, src.stamp = _path(spec)
    src.lf, src.csv = _reading(src, lambda: _scan_file(spec, src.path))
    src.text = src.csv is not None
    return src, lambda: (locations.file_sha256(src.path), None)


def _reading(src: Source, make):
    """``make()``, its errors as one-line DataErrors naming ``src``."""
    try:
        return make()
    except (pl.exceptions.PolarsError, OSError, ValueError, LookupError, EOFError) as e:
        raise (pass_error(src, e) or read_error(src.name, e, options=src.options)) from e
    except Exception as e:  # an object store's credential provider (google.auth, azure.identity...) has its own
        if not locations.is_remote(src.name):
            raise
        raise read_error(src.name, e, options=src.options) from e


def _filtered(src: Source, spec: DatasetSpec, *, head_rows: int) -> pl.DataFrame:
    """``dataset.filter`` applied to ``src.lf``; the first rows it keeps. A filter that names a column the source
    lacks, or that polars cannot apply to its columns, is a one-line ConfigError."""
    expr = pl.sql_expr(str(spec.filter))
    bad = f"dataset.filter={spec.filter!r} cannot be applied to {src.name}"
    try:
        src.lf.filter(expr).collect_schema()
    except pl.exceptions.ColumnNotFoundError as e:
        columns = src.lf.collect_schema().names()
        raise ConfigError(f"{bad}: it names a column the data lacks (columns: {columns})") from e
    except pl.exceptions.PolarsError as e:
        raise ConfigError(f"{bad}: {_first(e)}") from e
    src.lf = src.lf.filter(expr)
    try:
        head = src.lf.head(head_rows).collect()
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError, pl.exceptions.SchemaError) as e:
        hint = " (CSV columns are text: quote the value, or CAST(column AS INT))" if src.text else ""
        raise ConfigError(f"{bad}: {_first(e)}{hint}") from e
    if head.height == 0:
        raise DataError(f"dataset.filter={spec.filter!r} keeps no row of {src.name}; check the condition")
    return head


def scan(spec: DatasetSpec, *, head_rows: int = 2000, with_digest: bool = True) -> Source:
    """The source as a lazy frame (CSV, gzip CSV and parquet are never read whole; Excel is), its first
    rows and (``with_digest``: a full pass over the file) its digest. Errors reading it are one-line
    DataErrors. A generated log of more than ``synthetic.BLOCK`` customers is written once to the cache in
    blocks and scanned like a file."""
    if is_synthetic(spec):
        if int(spec.synthetic.get("n_customers", 0)) > synthetic.BLOCK:
            blocks, digest = _synthetic_parts(spec.kind, dict(spec.synthetic))
            lf = pl.scan_parquet(blocks)
            return Source(lf=lf, head=lf.head(head_rows).collect(), digest=digest)
        raw = synthetic.generate(spec.kind, **spec.synthetic)
        digest = hashlib.sha256(raw.write_csv().encode()).hexdigest() if with_digest else ""
        return Source(lf=raw.lazy(), head=raw.head(head_rows), digest=digest)
    src, digest = _opened(spec)
    src.head = _reading(src, lambda: src.lf.head(head_rows).collect())
    if src.head.height == 0:
        raise DataError(f"dataset file has no rows: {src.name}")
    _refuse_repeated_names(src.head.columns, src.name)
    if spec.filter not in (None, ""):
        src.head = _filtered(src, spec, head_rows=head_rows)
    if with_digest:
        src.digest, src.digest_note = digest()
    return src


def _changed(src: Source) -> DataError | None:
    """The error for a local file or part that changed since it was opened, None when none did."""
    stamps = ((src.path, src.stamp),) if src.stamp else src.parts
    return next((err for path, st in stamps if (err := files.changed_error(path, since=st))), None)


def ensure_unchanged(src: Source) -> None:
    """Refuse a source file (or part) that changed since it was opened (its digest and the rows read may differ)."""
    err = _changed(src)
    if err:
        raise err


def refuse_ragged(src: Source) -> None:
    """Refuse a CSV source with a line that has another number of fields than its header (one pass over it, or over
    each part; the caller runs it only when some line's last column is empty, as a short line's is)."""
    texts = ((src.csv, src.path),) if src.csv is not None else src.csv_parts
    fields = src.fields or len(src.lf.collect_schema())
    for read, shown in texts:
        err = files.ragged_error(read, separator=src.separator, fields=fields, shown=shown)
        if err:
            raise err


def pass_error(src: Source, e: BaseException) -> DataError | None:
    """The DataError for ``e``, raised by a pass over ``src``: the file changed under it, a line with more fields
    than the header, or a read error; None for an error that is not the file's."""
    if err := _changed(src):
        return err
    if (src.csv is not None or src.csv_parts) and "more fields" in str(e):
        with contextlib.suppress(pl.exceptions.PolarsError, OSError):
            refuse_ragged(src)
    if isinstance(e, pl.exceptions.ComputeError | OSError | EOFError):
        return read_error(src.name, e, options=src.options)
    return None


def _first(e: BaseException, *, limit: int = 300) -> str:
    """The first line of an error's message (cut at ``limit`` characters), or its type's name."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return first if len(first) <= limit else first[:limit] + "..."


CREDENTIALS = {  # where each object store's credentials are looked for, besides dataset.storage_options
    **dict.fromkeys(("s3", "s3a"), "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL"),
    **dict.fromkeys(("gs", "gcs"), "GOOGLE_APPLICATION_CREDENTIALS"),
    **dict.fromkeys(("az", "abfs", "abfss", "adl", "azure"), "AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY"),
}
CORRUPT = ("gzip", "deflate", "unexpected end of file", "compressed", "decompress", "crc")


def read_error(path: Path | str | None, e: BaseException, *, options: dict | None = None) -> DataError:
    """A one-line DataError for a failure reading ``path``, naming the likely cause (never a secret of the
    storage ``options``)."""
    first = locations.scrub(_first(e), options)
    if locations.is_remote(str(path)):
        if isinstance(e, FileNotFoundError) or re.search(r"\b404\b|NoSuchKey|Object at location .* not found", first):
            return DataError(f"dataset.path {path} not found in the object store ({first})")
        env = CREDENTIALS.get(locations.scheme(str(path)) or "", "the store's environment variables")
        return DataError(
            f"cannot read {path}: {first}; check the URL and the credentials ({env}, or dataset.storage_options)"
        )
    if any(word in first.lower() for word in CORRUPT) or isinstance(e, EOFError):
        return DataError(f"cannot read {path}: the compressed file is corrupt or truncated ({first}); "
                         "download or compress it again")  # fmt: skip
    return DataError(f"cannot read {path}: {first}; check dataset.separator / dataset.encoding")


def _refuse_repeated_names(columns: list[str], path: Path | str) -> None:
    """polars renames a header's second ``x`` to ``x_duplicated_0``: a column silently ignored. Refuse it."""
    import re

    for c in columns:
        m = re.fullmatch(r"(.*)_duplicated_\d+", c)
        if m and m.group(1) in columns:
            raise DataError(
                f"the header of {path} names column {m.group(1)!r} more than once; rename the copies so "
                "each column has its own name"
            )


def read(spec: DatasetSpec) -> pl.DataFrame:
    """The raw frame, as the file (or the generator) has it, read whole (small files, tests, previews)."""
    src = scan(spec, with_digest=False)
    try:
        return src.lf.collect()
    except (pl.exceptions.PolarsError, OSError, ValueError) as e:
        raise DataError(f"cannot read {src.name}: {_first(e)}; check dataset.separator") from e
