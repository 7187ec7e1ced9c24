"""Reading a transaction source: the embedded generator (in cached parquet blocks when large), a local file
(CSV, gzip CSV, parquet: scanned lazily; Excel: read whole), or a download; its first rows and digest."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rfmlab.data import files, synthetic
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import DataError


def is_synthetic(spec: DatasetSpec) -> bool:
    return spec.path in (None, "", "synthetic") and not (spec.download or {}).get("enabled") and bool(spec.synthetic)


def source_path(spec: DatasetSpec) -> Path:
    """The file to read: ``dataset.path``, or the downloaded (cached) file when download is enabled."""
    if spec.path not in (None, ""):
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
        f"dataset {spec.name} needs a file: set dataset.path=FILE"
        + (" or dataset.download.enabled=true to fetch it" if dl.get("url") else "")
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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


@dataclass(kw_only=True)
class Source:
    """A transaction source ready to query: ``lf`` scans it lazily, ``head`` holds its first rows (for date
    detection and the dataset preview), ``digest`` is the file's sha256 (the generated CSV text's for
    synthetic data)."""

    lf: pl.LazyFrame
    head: pl.DataFrame
    digest: str
    text: bool = False  # decoded from CSV text (undecodable bytes became U+FFFD): count them while cleaning
    path: Path | None = None
    stamp: files.Stamp | None = None  # the file's size, modification time and inode when it was opened
    csv: Path | None = None  # the CSV text polars reads (a UTF-8 copy of ``path`` in another encoding)
    separator: str = ","


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


def _scan_file(spec: DatasetSpec, path: Path) -> tuple[pl.LazyFrame, Path | None]:
    """The file as a lazy frame, and the CSV text polars reads (None for parquet and Excel)."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pl.scan_parquet(path), None
    if _is_excel(path):
        sheet = files.sheet_to_read(path, sheet=spec.sheet)
        return pl.read_excel(path, sheet_name=sheet, infer_schema_length=None).lazy(), None
    if spec.encoding.lower().replace("-", "") not in ("utf8", "utf8lossy"):
        path = _utf8(path, spec.encoding)
    lf = pl.scan_csv(path, separator=spec.separator, infer_schema=False, encoding="utf8-lossy", quote_char='"')
    return lf, path


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


def scan(spec: DatasetSpec, *, head_rows: int = 2000, with_digest: bool = True) -> Source:
    """The source as a lazy frame (CSV, gzip CSV and parquet are never read whole; Excel is), its first
    rows and (``with_digest``: a full pass over the file) its digest. Errors reading it are one-line
    DataErrors. A generated log of more than ``synthetic.BLOCK`` customers is written once to the cache in
    blocks and scanned like a file."""
    if is_synthetic(spec):
        if int(spec.synthetic.get("n_customers", 0)) > synthetic.BLOCK:
            parts, digest = _synthetic_parts(spec.kind, dict(spec.synthetic))
            lf = pl.scan_parquet(parts)
            return Source(lf=lf, head=lf.head(head_rows).collect(), digest=digest)
        raw = synthetic.generate(spec.kind, **spec.synthetic)
        digest = hashlib.sha256(raw.write_csv().encode()).hexdigest() if with_digest else ""
        return Source(lf=raw.lazy(), head=raw.head(head_rows), digest=digest)
    path, stamp = _path(spec)
    src = Source(lf=pl.LazyFrame(), head=pl.DataFrame(), digest="", path=path, stamp=stamp, separator=spec.separator)
    try:
        src.lf, src.csv = _scan_file(spec, path)
        src.head = src.lf.head(head_rows).collect()
    except (pl.exceptions.PolarsError, OSError, ValueError, LookupError, EOFError) as e:
        raise (pass_error(src, e) or read_error(path, e)) from e
    if src.head.height == 0:
        raise DataError(f"dataset file has no rows: {path}")
    _refuse_repeated_names(src.head.columns, path)
    src.text = src.csv is not None
    src.digest = _sha256(path) if with_digest else ""
    return src


def ensure_unchanged(src: Source) -> None:
    """Refuse a source file that changed since it was opened (its digest and the rows read may differ)."""
    err = files.changed_error(src.path, since=src.stamp) if src.stamp else None
    if err:
        raise err


def refuse_ragged(src: Source) -> None:
    """Refuse a CSV source with a line that has another number of fields than its header (one pass over it; the
    caller runs it only when some line's last column is empty, as a short line's is)."""
    if src.csv is None:
        return
    err = files.ragged_error(src.csv, separator=src.separator, fields=len(src.lf.collect_schema()), shown=src.path)
    if err:
        raise err


def pass_error(src: Source, e: BaseException) -> DataError | None:
    """The DataError for ``e``, raised by a pass over ``src``: the file changed under it, a line with more fields
    than the header, or a read error; None for an error that is not the file's."""
    if src.stamp and (err := files.changed_error(src.path, since=src.stamp)):
        return err
    if src.csv is not None and "more fields" in str(e):
        with contextlib.suppress(pl.exceptions.PolarsError, OSError):
            refuse_ragged(src)
    if isinstance(e, pl.exceptions.ComputeError | OSError | EOFError):
        return read_error(src.path, e)
    return None


CORRUPT = ("gzip", "deflate", "unexpected end of file", "compressed", "decompress", "crc")


def read_error(path: Path | None, e: BaseException) -> DataError:
    """A one-line DataError for a failure reading ``path``, naming the likely cause."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if any(word in first.lower() for word in CORRUPT) or isinstance(e, EOFError):
        return DataError(f"cannot read {path}: the compressed file is corrupt or truncated ({first}); "
                         "download or compress it again")  # fmt: skip
    return DataError(f"cannot read {path}: {first}; check dataset.separator / dataset.encoding")


def _refuse_repeated_names(columns: list[str], path: Path) -> None:
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
        path = source_path(spec)
        raise DataError(f"cannot read {path}: {str(e).strip().splitlines()[0]}; check dataset.separator") from e
