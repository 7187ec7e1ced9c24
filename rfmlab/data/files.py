"""What a dataset file is, and whether it tells the same story on every pass: a regular file (not a pipe or a
device), which sheet of a workbook to read, lines with the header's number of fields, and a ``Stamp`` (size,
modification time, inode) taken when the file is opened and compared after the passes over it, so that the digest
and the rows read describe the same bytes."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rfmlab.errors import DataError

SPECIAL = (
    (stat.S_ISFIFO, "a pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def refuse_special(path: Path, mode: int) -> None:
    """Refuse a path whose ``st_mode`` is a pipe (``<(cat f.csv)`` is ``/dev/fd/63``), a device or a socket: it
    can be read once at most, and the job reads a file several times."""
    for test, kind in SPECIAL:
        if test(mode):
            raise DataError(f"dataset.path {path} is {kind}, not a regular file; save it to a file first")


@dataclass(frozen=True)
class Stamp:
    """What the file system says of a file: its size, modification time and inode."""

    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(size=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino)


def stamp(path: Path) -> Stamp | None:
    """``path``'s stamp now, None when it is gone."""
    try:
        return Stamp.of(os.stat(path))
    except OSError:
        return None


def differences(before: Stamp, after: Stamp | None) -> str:
    """How ``after`` differs from ``before`` in words ("size/modification time differ"), "" when it does not."""
    if after is None:
        return "it was removed"
    if after.inode != before.inode:
        return "it was replaced by another file"
    names = [n for n, a, b in (("size", before.size, after.size), ("modification time", before.mtime_ns,
                                after.mtime_ns)) if a != b]  # fmt: skip
    if not names:
        return ""
    return "/".join(names) + (" differ" if len(names) > 1 else " differs")


def changed_error(path: Path, *, since: Stamp) -> DataError | None:
    """The error for a file that changed since ``since`` was taken, None when it did not."""
    diff = differences(since, stamp(path))
    if not diff:
        return None
    return DataError(f"dataset file {path} changed while it was read ({diff}); run again once it is complete")


def sheet_to_read(path: Path, *, sheet: str | int | None) -> str:
    """The sheet of workbook ``path`` to read: ``sheet`` (which must exist), or the only one. A workbook with several
    sheets and no ``dataset.sheet`` is refused: reading the first would silently leave the others out."""
    import fastexcel

    try:
        names = list(fastexcel.read_excel(path).sheet_names)
    except fastexcel.FastExcelError as e:
        raise DataError(f"cannot read the workbook {path}: {str(e).strip().splitlines()[0]}") from e
    if sheet is None:
        if len(names) > 1:
            raise DataError(f"the workbook {path} has sheets {names}; choose one with dataset.sheet=NAME")
        return names[0]
    if str(sheet) not in names:
        raise DataError(f"the workbook {path} has no sheet {str(sheet)!r}; its sheets are {names} (dataset.sheet)")
    return str(sheet)


def _lines(path: Path) -> pl.LazyFrame:
    """``path`` one line a row (``line``, ``_n`` = 0-based line number), whatever it holds: no quoting, no
    separator (the unit separator, 0x1F, stands for one), undecodable bytes as U+FFFD."""
    return pl.scan_csv(path, has_header=False, separator="\x1f", quote_char=None, encoding="utf8-lossy",
                       new_columns=["line"], truncate_ragged_lines=True, infer_schema=False,
                       row_index_name="_n")  # fmt: skip


def ragged_error(path: Path, *, separator: str, fields: int, shown: Path | None = None) -> DataError | None:
    """The error naming the first line of CSV ``path`` (shown as ``shown``) whose number of fields is not the
    header's ``fields``, None when every line has them. One streaming pass. Separators inside a quoted field do not
    count (a quote elsewhere in a field is text, as polars reads it); lines of a quoted field that spans lines,
    and blank lines, are not checked."""
    line = pl.col("line").fill_null("")
    odd = (line.str.count_matches('"', literal=True) % 2).cast(pl.UInt32)
    whole = ((odd.cum_sum() - odd) % 2 == 0) & (odd == 0) & (line.str.strip_chars() != "")
    # a quoted field (from a quote at the start of a field to its closing quote; "" inside) without its text
    sep = f"\\x{{{ord(separator):X}}}"  # the separator as a regex escape: \x{2C} for a comma
    quoted = "(^|" + sep + ')"(?:[^"]|"")*"'
    unquoted = pl.when(line.str.contains('"', literal=True)).then(line.str.replace_all(quoted, "$1")).otherwise(line)
    n = unquoted.str.count_matches(separator, literal=True) + 1
    bad = _lines(path).filter(whole & (n != fields) & (pl.col("_n") > 0))
    first = bad.select(pl.col("_n").first() + 1, n.first().alias("n"), pl.len()).collect(engine="streaming")
    line_no, got, count = first.row(0)
    if not count:
        return None
    more = f" ({count:,} lines have another number of fields than the header)" if count > 1 else ""
    where = f"line {line_no} of {shown or path}"
    return DataError(f"{where} has {got} field(s), the header has {fields}; fix or remove it{more}")
