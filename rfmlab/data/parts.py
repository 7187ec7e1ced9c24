"""Scanning a source of several parts or an object store as one lazy frame: a folder or glob of parquet parts
(hive partitions as columns, by polars), of CSV parts (hive partitions added here: polars' CSV reader has none),
an object-store URL; and a CSV in another encoding transcoded to UTF-8 (polars reads UTF-8 only)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rfmlab.data import locations
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import DataError

PART = "__rfmlab_part"  # the part a CSV line came from, while its partition columns are added


def utf8(path: Path, encoding: str) -> Path:
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


def is_utf8(spec: DatasetSpec) -> bool:
    return spec.encoding.lower().replace("-", "") in ("utf8", "utf8lossy")


def scan_csv(spec: DatasetSpec, source, *, storage_options: dict | None = None, **kw) -> pl.LazyFrame:
    """CSV text as every column read as text (the types are decided later, role by role)."""
    return pl.scan_csv(source, separator=spec.separator, infer_schema=False, encoding="utf8-lossy", quote_char='"',
                       storage_options=storage_options or None, **kw)  # fmt: skip


def scan_parts(spec: DatasetSpec, found: locations.Parts) -> tuple[pl.LazyFrame, list[tuple[Path, Path]], int | None]:
    """The parts as one lazy frame, the CSV text polars reads for each CSV part (its own file, or a UTF-8 copy)
    with the part, and the number of columns each CSV part has (None for parquet)."""
    if found.fmt == "parquet":
        return pl.scan_parquet(found.files, hive_partitioning=bool(found.hive)), [], None
    texts = [(f if is_utf8(spec) else utf8(f, spec.encoding), f) for f in found.files]
    reads = [str(read) for read, _ in texts]
    if not found.hive:
        lf = scan_csv(spec, reads)
        return lf, texts, len(lf.collect_schema())
    lf = scan_csv(spec, reads, include_file_paths=PART)
    fields = len(lf.collect_schema()) - 1
    clash = [k for k in found.hive if k in lf.collect_schema()]
    if clash:
        raise DataError(
            f"the parts of {found.given} have a column {clash[0]!r} and {clash[0]}=... folders too; rename one"
        )
    keys = [
        pl.col(PART).replace_strict({str(r): found.partitions(f)[k] for r, f in texts}, return_dtype=pl.String).alias(k)
        for k in found.hive
    ]
    # partition columns first: a CSV part's last column stays its own (a short line leaves it empty)
    return lf.select(*keys, pl.exclude(PART)), texts, fields


def scan_remote(spec: DatasetSpec) -> pl.LazyFrame:
    """An object-store URL (an object, a prefix ending in ``/``, a glob) as a lazy frame, read by polars' object
    store with ``dataset.storage_options`` over the standard environment variables."""
    url = str(spec.path)
    name = url.rstrip("/").rsplit("/", 1)[-1]
    fmt = locations.text_format(name) or ("excel" if name.lower().endswith((".xlsx", ".xls")) else "parquet")
    if fmt == "excel":
        raise DataError(f"dataset.path {locations.shown(url)}: a workbook is read from a local copy; download it first")
    options = spec.storage_options or None
    if fmt == "csv":
        if not is_utf8(spec):
            raise DataError(
                f"dataset.path {locations.shown(url)}: dataset.encoding={spec.encoding} is read from a local copy "
                "only (transcoding needs the file); download it, or store the parts as UTF-8 or parquet"
            )
        return scan_csv(spec, url, storage_options=options)
    several = url.endswith("/") or locations.is_glob(url)
    return pl.scan_parquet(url, storage_options=options, hive_partitioning=True if several else None)
