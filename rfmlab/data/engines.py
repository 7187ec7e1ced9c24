"""The engines a transaction log can be read by when the customer-table stage is pushed down to where the data is
(``dataset.engine``): DuckDB (in this process, on a file or parts), PostgreSQL (a table or query in a server) and
Spark (a session: ``local[2]``, a ``spark://`` master, or Spark Connect / Databricks Connect). Each gives an Ibis
table of the raw log (``Opened``); ``data.pushdown`` builds the one expression they all run.

- ``duckdb``: ``dataset.path`` (CSV, .csv.gz, parquet; a folder or glob of parts, hive ``key=value`` folders as
  columns), read by DuckDB itself, CSV columns as text as polars reads them. Threads: DuckDB's default (all cores).
- ``postgres``: ``dataset.uri`` (``postgresql://user@host:port/db``; the password from the URI or ``PGPASSWORD``) with
  ``dataset.table`` (``name`` or ``schema.name``) or ``dataset.query`` (a SELECT), run by the server.
- ``spark``: ``dataset.path`` (any path Spark reads: local, ``s3a://``, ``abfss://``, ``dbfs:/``...) or
  ``dataset.table`` / ``dataset.query`` in Spark's catalog; the session from ``dataset.spark`` (``master``:
  ``local[2]`` by default, ``spark://host:7077``, ``yarn``...; ``remote``: a Spark Connect URL ``sc://host:15002``;
  ``app_name``; ``conf``: any ``spark.*`` setting).
- ``auto``: postgres when ``dataset.uri`` is a PostgreSQL URL, else polars.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field

import polars as pl

from rfmlab.data import locations, source, sql
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError, DataError

PUSHED = ("duckdb", "postgres", "spark")
EXTRA = {"duckdb": "pushdown", "postgres": "pushdown", "spark": "spark"}
MODULE = {"duckdb": "duckdb", "postgres": "psycopg", "spark": "pyspark"}
HEAD_ROWS = 2000


def chosen(spec: DatasetSpec) -> str:
    """The engine ``spec`` runs on: ``dataset.engine``, with ``auto`` resolved from the source."""
    if spec.engine != "auto":
        return spec.engine
    return "postgres" if str(spec.uri or "").startswith(("postgres://", "postgresql://")) else "polars"


def ibis_for(engine: str):
    """The ``ibis`` module with ``engine``'s backend importable; a missing extra is a one-line ConfigError."""
    import importlib

    try:
        ibis = importlib.import_module("ibis")
        importlib.import_module(MODULE[engine])
    except ImportError as e:
        raise ConfigError(
            f"dataset.engine={engine} needs Ibis and {MODULE[engine]} ({e.name} is not installed): "
            f"pip install 'rfmlab[{EXTRA[engine]}]'"
        ) from e
    return ibis


@dataclass(kw_only=True)
class Opened:
    """The raw log as an Ibis table on its engine, its first rows, digest, and how to close the connection."""

    engine: str
    table: object  # ibis.Table
    head: pl.DataFrame
    digest: str = locations.NOT_COMPUTED
    digest_note: str | None = None
    shown: str = ""
    text: bool = False  # CSV text: every column is a string, undecodable bytes counted as polars counts them
    closers: list = field(default_factory=list)
    lineage: dict | None = None  # a database's: data.server (its URL, redacted) and data.query, as a SQL source's

    def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                close()


def open_log(spec: DatasetSpec) -> Opened:
    """The log ``spec`` names, opened on its engine (``chosen(spec)``, one of ``PUSHED``)."""
    engine = chosen(spec)
    ibis = ibis_for(engine)
    if engine == "postgres":
        return _postgres(ibis, spec)
    if engine == "spark":
        return _spark(ibis, spec)
    return _duckdb(ibis, spec)


def _files(spec: DatasetSpec) -> tuple[source.Source, list[str], str, bool]:
    """A local file or parts, checked and digested as the polars path does (``source.scan``): the source, the files
    the engine reads (UTF-8 text: a copy for another encoding), their format and whether they are hive parts."""
    src = source.scan(spec)  # a download is fetched (and checked) here: the engine reads the cached file
    if src.csv is not None:
        return src, [str(src.csv)], "csv", False
    if src.csv_parts:
        found = locations.parts(str(spec.path))
        return src, [str(read) for read, _ in src.csv_parts], "csv", bool(found and found.hive)
    if src.parts:
        found = locations.parts(str(spec.path))
        return src, [str(p) for p, _ in src.parts], "parquet", bool(found and found.hive)
    path = src.path
    if path is None or not str(path).lower().endswith(locations.PARQUET):
        raise DataError(
            f"dataset.engine={spec.engine} reads CSV and parquet files; {src.name} is neither (a workbook or a "
            "generated log): convert it to parquet, or use dataset.engine=polars"
        )
    return src, [str(path)], "parquet", False


def _no_database(spec: DatasetSpec, engine: str) -> None:
    if spec.uri or (engine != "spark" and (spec.table or spec.query)):
        raise ConfigError(
            f"dataset.engine={engine} reads dataset.path; dataset.uri / dataset.table / dataset.query name a "
            "database table: use dataset.engine=postgres for it"
        )


def _duckdb(ibis, spec: DatasetSpec) -> Opened:
    _no_database(spec, "duckdb")
    src, paths, fmt, hive = _files(spec)
    con = ibis.duckdb.connect()
    try:
        if fmt == "csv":
            table = con.read_csv(paths, all_varchar=True, header=True, delim=spec.separator, quote='"', escape='"',
                                 hive_partitioning=hive, strict_mode=True)  # fmt: skip
        else:
            table = con.read_parquet(paths, hive_partitioning=hive)
        table = _filtered(table, spec)
    except Exception as e:
        con.disconnect()
        raise engine_error("duckdb", src.name, e) from e
    return Opened(engine="duckdb", table=table, head=src.head, digest=src.digest, digest_note=src.digest_note,
                  shown=src.name, text=fmt == "csv", closers=[con.disconnect])  # fmt: skip


def _postgres(ibis, spec: DatasetSpec) -> Opened:
    if not spec.uri or not (spec.table or spec.query):
        raise ConfigError(
            "dataset.engine=postgres reads a table in a server: set dataset.uri=postgresql://USER@HOST:PORT/DB and "
            "dataset.table=NAME (or dataset.query='SELECT ...')"
        )
    shown = locations.shown(spec.uri)
    uri = sql.unredacted(spec.uri)
    try:
        con = ibis.connect(uri.replace("postgresql://", "postgres://", 1))
    except Exception as e:
        raise engine_error("postgres", shown, e, uri=spec.uri) from None
    try:
        con.raw_sql("SET TIME ZONE 'UTC'")  # to_timestamp gives instants: wall-clock times read as UTC stay as given
        table = _named(con, spec)
        table = _filtered(table, spec)
        head = table.head(HEAD_ROWS).to_polars()
    except Exception as e:
        con.disconnect()
        raise engine_error("postgres", f"{shown} ({spec.table or 'dataset.query'})", e, uri=spec.uri) from None
    note = "a database table: its rows are not hashed (the run records dataset.uri and dataset.table / query)"
    lineage = {"data.server": shown, "data.query": sql.statement(spec.uri, table=spec.table, query=spec.query)}
    return Opened(engine="postgres", table=table, head=head, digest_note=note, shown=spec.table or shown,
                  closers=[con.disconnect], lineage=lineage)  # fmt: skip


def _named(con, spec: DatasetSpec):
    """``dataset.table`` (``name`` or ``schema.name``) or ``dataset.query`` on ``con``."""
    if spec.query:
        return con.sql(str(spec.query))
    schema, _, name = str(spec.table).rpartition(".")
    return con.table(name, database=schema or None)


def _filtered(table, spec: DatasetSpec):
    """``dataset.filter`` (a SQL predicate on the source's columns) in the engine's own SQL."""
    if spec.filter in (None, ""):
        return table
    return table.alias("rfmlab_source").sql(f"SELECT * FROM rfmlab_source WHERE {spec.filter}")


def spark_session(options: dict):
    """The Spark session ``dataset.spark`` describes: Spark Connect (``remote``), else a classic session on
    ``master`` (``local[2]`` by default) with ``conf``; an existing session is reused (only the runtime SQL
    settings of ``conf`` reach it)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(str(options.get("app_name") or "rfmlab"))
    if options.get("remote"):
        builder = builder.remote(str(options["remote"]))
    else:
        builder = builder.master(str(options.get("master") or "local[2]"))
    conf = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
            **_flat(options.get("conf") or {})}  # fmt: skip
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _flat(conf: dict, prefix: str = "") -> dict[str, str]:
    """``dataset.spark.conf`` as Spark's dotted keys: a command line's ``conf.spark.executor.memory=8g`` arrives
    nested (``{"spark": {"executor": {"memory": "8g"}}}``)."""
    out = {}
    for key, value in conf.items():
        name = f"{prefix}{key}"
        out.update(
            _flat(value, name + ".")
            if isinstance(value, dict)
            else {name: str(value).lower() if isinstance(value, bool) else str(value)}
        )
    return out


def _spark(ibis, spec: DatasetSpec) -> Opened:
    _no_database(spec, "spark")
    try:
        session = spark_session(spec.spark or {})
    except Exception as e:
        raise engine_error("spark", str((spec.spark or {}).get("master") or "local[2]"), e) from e
    con = ibis.pyspark.connect(session)
    given = str(spec.path or "")
    local = given and not locations.scheme(given) and not given.startswith("dbfs:")
    src, text = None, False
    try:
        if spec.table or spec.query:
            table, shown = _named(con, spec), spec.table or "dataset.query"
        elif local or not given:  # checked and digested as polars does; Spark reads the path itself (parts too)
            src, _, fmt, _ = _files(spec)
            path = str(src.path) if src.path is not None else given
            if fmt == "csv" and _charset(spec) is None and src.csv is not None:
                path, spec = str(src.csv), dataclasses.replace(spec, encoding="utf8")  # polars' UTF-8 copy
            table, shown, text = _spark_read(con, spec, path, fmt), src.name, fmt == "csv"
        else:
            fmt = locations.text_format(given.rstrip("/").rsplit("/", 1)[-1]) or "parquet"
            table, shown, text = _spark_read(con, spec, given, fmt), locations.shown(given), fmt == "csv"
        table = _filtered(table, spec)
        head = src.head if src is not None else table.head(HEAD_ROWS).to_polars()
    except DataError:
        raise
    except Exception as e:
        raise engine_error("spark", given or str(spec.table or "dataset.query"), e) from e
    out = Opened(engine="spark", table=table, head=head, shown=shown, text=text)
    if src is not None:
        out.digest, out.digest_note = src.digest, src.digest_note
    else:
        out.digest_note = "read by Spark where it is: not hashed (the run records the path or table)"
    return out


SPARK_CHARSETS = {"utf8": "UTF-8", "utf8lossy": "UTF-8", "latin1": "ISO-8859-1", "iso88591": "ISO-8859-1",
                  "usascii": "US-ASCII", "ascii": "US-ASCII", "utf16": "UTF-16", "utf16le": "UTF-16LE",
                  "utf16be": "UTF-16BE", "utf32": "UTF-32"}  # fmt: skip


def _charset(spec: DatasetSpec) -> str | None:
    """``dataset.encoding`` as Spark's CSV reader names it (it reads only these), or None."""
    return SPARK_CHARSETS.get(spec.encoding.lower().replace("-", "").replace("_", ""))


def _spark_read(con, spec: DatasetSpec, path: str, fmt: str):
    """A file, folder (hive ``key=value`` folders as columns) or glob, read by Spark."""
    if fmt == "csv" and _charset(spec) is None:
        raise DataError(
            f"dataset.engine=spark reads CSV parts in {sorted(set(SPARK_CHARSETS.values()))}, not "
            f"dataset.encoding={spec.encoding}: store them as UTF-8 or parquet"
        )
    if fmt == "csv":  # as polars reads CSV: every column text, RFC 4180 quotes ("" inside a quoted field)
        return con.read_csv(path, header=True, inferSchema=False, sep=spec.separator, quote='"', escape='"',
                            mode="FAILFAST", encoding=_charset(spec))  # fmt: skip
    return con.read_parquet(path)


def engine_error(engine: str, what: str, e: BaseException, *, uri: str | None = None) -> DataError:
    """A one-line DataError for an engine's failure on ``what`` (the engine's first line, cut; ``uri``'s password
    never in it)."""
    java = getattr(e, "java_exception", None)  # py4j: the JVM's exception says what went wrong
    text = str(java.toString() if java is not None else e).strip()
    text = sql.scrub(text, uri) if uri else text
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(e).__name__)
    first = first if len(first) <= 300 else first[:300] + "..."
    return DataError(f"dataset.engine={engine} failed on {what}: {first}")
