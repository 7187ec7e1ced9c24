"""Reading a SQL source: ``dataset.uri`` (a database URL) with ``dataset.table`` or ``dataset.query``.

The result is read in batches (polars' ``read_database(iter_batches=True)``: never the whole result at once)
and written as it passes into parquet parts in a folder of the cache, removed with the source; the source is
then those parts, so the canonical mapping, cleaning, RFM, the dataset preview and every later pass read one
consistent snapshot (a table written to meanwhile cannot give two passes different rows), in memory bounded by a
batch. The digest is the sha256 of the column names and each row's hash (polars' seeded row hash, as a frame's),
taken part by part once the rows are read: the same rows give the same digest whatever the batches.

Drivers, by the URL's scheme: ``postgresql://`` / ``postgres://`` through ADBC's PostgreSQL driver (the COPY
protocol, Arrow batches), ``sqlite:///PATH`` through Python's own sqlite3 (opened read-only), ``duckdb:///PATH``
through DuckDB's own connection (read-only), anything else through a SQLAlchemy engine with server-side cursors
(``mysql+pymysql://``, ``mssql+pyodbc://``, ``postgresql+psycopg://``..., its driver installed). A password in
the URL is shown as ``***`` wherever the URL is (``locations.shown``) and scrubbed from every driver message
(``scrub``).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import polars as pl

from rfmlab.data import locations
from rfmlab.errors import ConfigError, DataError

BATCH_ROWS = 100_000  # rows a batch (drivers that fetch rows; ADBC's PostgreSQL driver sends ~16 MB batches)
PART_ROWS = 500_000  # batches are gathered into parts of about this many rows
POSTGRES = ("postgresql", "postgres")
FILES = ("sqlite", "duckdb")  # database files, by path: sqlite:///relative.db, sqlite:////absolute.db
INSTALL = "pip install 'rfmlab[sql]'"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


is_sql = locations.is_sql


def fields(given: str, *, table: str | None = None, query: str | None = None) -> dict:
    """The ``dataset`` keys for an input given as one value (``--input``, the API's ``source``): a database URL
    with its ``table`` or ``query``, or a path (a file, folder, glob or object-store URL)."""
    if is_sql(given):
        return {"path": None, "uri": str(given), "table": table, "query": query}
    if table or query:
        raise ConfigError(f"{'table' if table else 'query'} reads from a database; give its URL "
                          "(postgresql://user@host/db, sqlite:///sales.db...) as the input, not a file")  # fmt: skip
    return {"path": str(given), "uri": None, "table": None, "query": None}


def kind(uri: str) -> str:
    """``postgresql``, ``sqlite``, ``duckdb``, or ``sqlalchemy`` for any other URL and for one that names its
    driver (``postgresql+psycopg://``, ``sqlite+pysqlite://``: SQLAlchemy's URLs, read by SQLAlchemy)."""
    s = locations.scheme(uri) or ""
    return "postgresql" if s in POSTGRES else s if s in FILES else "sqlalchemy"


def password(uri: str) -> str | None:
    try:
        return urlsplit(uri).password
    except ValueError:
        return None


def scrub(text: str, uri: str) -> str:
    """``text`` without the URL's password: the URL itself shown redacted, the password (as written in the URL,
    decoded, and quoted) replaced by ``***`` wherever a driver repeated it."""
    text = str(text).replace(uri, locations.shown(uri))
    secret = password(uri)
    if secret:
        for form in sorted({secret, unquote(secret), quote(secret, safe="")}, key=len, reverse=True):
            text = text.replace(form, "***")
    return text


def _quoted(name: str, *, mark: str = '"') -> str:
    """A table name as SQL: each dotted part as written when it is a plain identifier (the database folds its
    case as in any query), quoted otherwise (``My Table`` -> ``"My Table"``)."""
    parts = name.split(".")
    return ".".join(p if IDENTIFIER.fullmatch(p) else mark + p.replace(mark, mark * 2) + mark for p in parts)


def statement(uri: str, *, table: str | None, query: str | None) -> str:
    """The SQL that reads the source: ``dataset.query`` as given, or every column of ``dataset.table``."""
    if query:
        return str(query).strip().rstrip(";")
    mark = "`" if (locations.scheme(uri) or "").startswith(("mysql", "mariadb")) else '"'
    return f"SELECT * FROM {_quoted(str(table), mark=mark)}"


def check(uri: str, *, table: str | None, query: str | None) -> None:
    """Refuse a ``dataset.uri`` that is not a database URL, or without exactly one of ``table`` and ``query``."""
    if not is_sql(uri):
        raise ConfigError(
            f"dataset.uri={locations.shown(str(uri))} is not a database URL; give one such as "
            "postgresql://user@host:5432/db, sqlite:///sales.db or duckdb:///sales.duckdb (files and object-store "
            "URLs go in dataset.path)"
        )
    if bool(table) == bool(query):
        which = "both" if table else "neither"
        raise ConfigError(
            f"dataset.uri needs dataset.table or dataset.query, not {which}: dataset.table=sales reads a whole "
            "table, 'dataset.query=\"SELECT ... FROM sales WHERE ...\"' the rows a query returns"
        )


def _file(uri: str) -> Path:
    """The database file of a ``sqlite:///`` or ``duckdb:///`` URL (``:memory:`` is refused: it has no data)."""
    rest = uri.split("://", 1)[1]
    path = rest[1:] if rest.startswith("/") else rest
    if path in ("", ":memory:"):
        raise ConfigError(f"dataset.uri={uri} names no database file; write sqlite:///sales.db (relative) or "
                          "sqlite:////data/sales.db (absolute)")  # fmt: skip
    if not Path(path).expanduser().is_file():
        raise DataError(f"dataset.uri={uri}: no database file at {path}; check the path (sqlite:///relative.db, "
                        "sqlite:////absolute.db)")  # fmt: skip
    return Path(path).expanduser()


def _driver(module: str, uri: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ConfigError(
            f"dataset.uri={locations.shown(uri)} needs the Python package {module.split('.')[0]}, which is not "
            f"installed: {INSTALL}"
        ) from e


def unredacted(uri: str) -> str:
    """``uri`` without a password recorded as ``***`` (a rerun of a run's config): the driver's own sources give it
    (libpq's ``PGPASSWORD``, ``~/.pgpass``)."""
    return re.sub(r"(://[^/@:]*):\*\*\*@", r"\1@", uri)


def connect(uri: str):
    """A read-only connection (or a SQLAlchemy connection streaming its results) to ``uri``; the caller closes it.
    A password recorded as ``***`` (a rerun of a run's config) is left out: the driver's own sources give it."""
    uri = unredacted(uri)
    which = kind(uri)
    if which == "postgresql":
        conn = _driver("adbc_driver_postgresql.dbapi", uri).connect(uri)
        try:
            with conn.cursor() as cur:  # a query cannot change the database (DELETE ... RETURNING, a function's writes)
                cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            conn.commit()  # the next transaction, the query's, is read-only (and never committed)
        except BaseException:
            conn.close()
            raise
        return conn
    if which == "sqlite":
        import sqlite3

        return sqlite3.connect(f"file:{_file(uri)}?mode=ro", uri=True)
    if which == "duckdb":
        return _driver("duckdb", uri).connect(str(_file(uri)), read_only=True)
    sa = _driver("sqlalchemy", uri)
    try:
        engine = sa.create_engine(uri, poolclass=sa.pool.NullPool)  # closing the connection closes the driver's
    except (ImportError, sa.exc.NoSuchModuleError, sa.exc.ArgumentError) as e:
        raise ConfigError(
            f"dataset.uri={locations.shown(uri)}: no driver for it ({_first(e, uri)}); install the SQLAlchemy "
            "dialect and its driver (e.g. pymysql for mysql+pymysql://), or use postgresql://, sqlite:///, duckdb:///"
        ) from None  # the driver's error holds the URL
    return engine.connect().execution_options(stream_results=True, max_row_buffer=BATCH_ROWS)


def _first(e: BaseException, uri: str, *, limit: int = 300) -> str:
    text = str(e).strip()
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), type(e).__name__)
    line = re.sub(r"^(IO|INTERNAL|UNKNOWN|INVALID_ARGUMENT|NOT_FOUND|UNAUTHENTICATED): (\[\w+\] )?", "", line)
    line = scrub(line, uri)
    return line if len(line) <= limit else line[:limit] + "..."


CONNECT = re.compile(r"connection refused|could not connect|could not translate host|timeout|timed out|"
                     r"no route to host|name or service not known|unable to open database|server closed|"
                     r"database .* does not exist|unknown database", re.I)  # fmt: skip
AUTH = re.compile(r"password|authenticat|access denied|role .* does not exist|login failed", re.I)
MISSING = re.compile(r"(relation|table|table with name) .*(does not exist|not (exist|found))|no such table|"
                     r"doesn't exist|invalid object name", re.I)  # fmt: skip


def error(e: BaseException, *, uri: str, table: str | None, query: str | None) -> DataError:
    """A driver's failure as one line naming the likely fix, with no password in it."""
    where, first = locations.shown(uri), _first(e, uri)
    if AUTH.search(first):
        return DataError(f"{where} refused the login ({first}); check the user and password (PGPASSWORD or "
                         "~/.pgpass keep the password out of the URL)")  # fmt: skip
    if CONNECT.search(first):
        return DataError(f"cannot connect to {where} ({first}); check the host, port and database name, and that "
                         "the server is running")  # fmt: skip
    if table and MISSING.search(first):
        return DataError(f"dataset.table={table} is not a table of {where} ({first}); check its name (schema.table "
                         "for another schema)")  # fmt: skip
    what = "dataset.query" if query else f"reading dataset.table={table}"
    return DataError(f"{what} failed on {where}: {first}; check the SQL")


@dataclass(kw_only=True)
class Read:
    """A SQL source read into parquet ``files`` (in order), the ``digest`` of its rows and its lineage."""

    files: list[Path] = field(default_factory=list)
    digest: str = ""
    rows: int = 0
    server: str = ""  # the URL, redacted
    query: str = ""
    folder: Path | None = None  # where the parts are (``remove`` it once they are read)

    def remove(self) -> None:
        import shutil

        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def scan(self) -> pl.LazyFrame:
        """The parts as one lazy frame (a column typed differently in two batches takes their common type)."""
        if len(self.files) == 1:
            return pl.scan_parquet(self.files[0])
        return pl.concat([pl.scan_parquet(f) for f in self.files], how="vertical_relaxed")


def _batches(sql: str, conn) -> Iterator[pl.DataFrame]:
    """The result in batches, each column of a type the driver leaves opaque as its stored value (ADBC's PostgreSQL
    ``numeric``: an Arrow extension type over text, read as numbers where a role needs them) or as text (Python
    objects polars has no type for: a ``uuid`` through SQLAlchemy)."""
    for df in pl.read_database(sql, conn, iter_batches=True, batch_size=BATCH_ROWS, infer_schema_length=None):
        opaque = [c for c, t in df.schema.items() if isinstance(t, pl.Extension)]
        objects = [c for c, t in df.schema.items() if t == pl.Object]
        df = df.with_columns(pl.col(c).ext.storage() for c in opaque) if opaque else df
        yield df.with_columns(pl.Series(c, [None if v is None else str(v) for v in df[c]], dtype=pl.String)
                              for c in objects)  # fmt: skip


def _write(frames: list[pl.DataFrame], folder: Path, out: Read) -> None:
    path = folder / f"part-{len(out.files):05d}.parquet"
    pl.concat(frames, how="vertical_relaxed").write_parquet(path)
    out.files.append(path)
    frames.clear()


def read(uri: str, *, table: str | None, query: str | None, folder: Path) -> Read:
    """The rows of ``table`` or ``query`` at ``uri`` streamed into parquet parts in a new folder under ``folder``
    (the caller removes it: ``Read.remove``; gone at once on a failure). Every failure is a one-line DataError or
    ConfigError without the password."""
    check(uri, table=table, query=query)
    out = Read(server=locations.shown(uri), query=statement(uri, table=table, query=query))
    folder.mkdir(parents=True, exist_ok=True)
    out.folder = Path(tempfile.mkdtemp(prefix="read-", dir=folder))
    try:
        return _read(uri, out, table=table, query=query)
    except BaseException:
        out.remove()
        raise


def _read(uri: str, out: Read, *, table: str | None, query: str | None) -> Read:
    frames, pending, target = [], 0, out.folder
    try:
        conn = connect(uri)
        try:
            for df in _batches(out.query, conn):
                frames.append(df)
                out.rows, pending = out.rows + df.height, pending + df.height
                if pending >= PART_ROWS:
                    _write(frames, target, out)
                    pending = 0
        finally:
            conn.close()
    except (ConfigError, DataError):
        raise
    except Exception as e:  # a driver's own error types (adbc, sqlite3, duckdb, sqlalchemy): all named the same way
        raise error(e, uri=uri, table=table, query=query) from None
    if out.rows == 0:
        raise DataError(f"{out.query} on {out.server} returned no rows; check dataset.table / dataset.query")
    if frames:
        _write(frames, target, out)
    out.digest = _digest(out)
    return out


def _digest(out: Read) -> str:
    """sha256 of the column names and each row's hash, part by part, every part cast to the types of the whole (a
    column all null in one batch, or integers in one and decimals in another, would hash otherwise)."""
    schema = out.scan().collect_schema()
    h = hashlib.sha256("\x1f".join(schema.names()).encode())
    for f in out.files:
        part = pl.scan_parquet(f).select(pl.col(c).cast(t) for c, t in schema.items())
        h.update(part.select(pl.struct(pl.all()).hash(seed=0)).collect().to_series().to_numpy().tobytes())
    return h.hexdigest()
