"""A transaction log already in memory (a polars or pandas DataFrame, or a polars LazyFrame) as a ``Source``:
what the Python API reads when it is given a frame instead of a file."""

from __future__ import annotations

import hashlib

import polars as pl

from rfmlab.data.source import Source
from rfmlab.errors import DataError


def is_frame(obj: object) -> bool:
    """A polars DataFrame / LazyFrame or a pandas DataFrame (pandas is not imported to check)."""
    return isinstance(obj, pl.DataFrame | pl.LazyFrame) or type(obj).__module__.startswith("pandas")


def to_polars(frame: object, *, what: str = "data") -> pl.DataFrame | pl.LazyFrame:
    """A polars frame for a polars or pandas one; anything else is a one-line DataError."""
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        return frame
    if type(frame).__name__ == "DataFrame" and type(frame).__module__.startswith("pandas"):
        return pl.from_pandas(frame)
    raise DataError(
        f"{what} must be a polars or pandas DataFrame (or a polars LazyFrame), not {type(frame).__name__}; "
        "or give the path of a CSV, parquet or xlsx file"
    )


def digest(frame: pl.DataFrame | pl.LazyFrame) -> str:
    """sha256 of the frame's column names and row hashes (polars' row hash, seeded): equal frames, equal digests
    (within one polars version)."""
    lf = frame.lazy()
    names = lf.collect_schema().names()
    hashes = lf.select(pl.struct(pl.all()).hash(seed=0).alias("h")).collect()["h"].to_numpy()
    h = hashlib.sha256("\x1f".join(names).encode())
    h.update(hashes.tobytes())
    return h.hexdigest()


def source_of(frame: object, *, head_rows: int = 2000) -> Source:
    """The in-memory log as a ``Source`` (its digest from its rows); an empty frame is refused."""
    lf = to_polars(frame, what="the transaction log").lazy()
    head = lf.head(head_rows).collect()
    if head.height == 0:
        raise DataError("the transaction log has no rows; give a frame with at least one transaction")
    return Source(lf=lf, head=head, digest=digest(lf))
