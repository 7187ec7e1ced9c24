"""SQL sources (``dataset.uri`` with ``dataset.table`` or ``dataset.query``) on real SQLite and DuckDB database
files: the customer table and cleaning report of the same log read from a file, in batches small enough to make
several parts; the digest of the rows; the one-line errors, none of them with a password."""

import sqlite3

import polars as pl
import pytest

import rfmlab
from rfmlab.data import locations, sql, synthetic
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    return synthetic.generate("ecommerce", n_customers=300, seed=3)


@pytest.fixture(scope="module")
def dbs(log, tmp_path_factory) -> dict:
    """The log as a table ``orders`` in a SQLite file (read by sqlite3, and by SQLAlchemy for ``sqlite+pysqlite``)
    and in a DuckDB file, and as a parquet file."""
    import duckdb

    folder = tmp_path_factory.mktemp("dbs")
    lite = folder / "shop.db"
    text = log.with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%d %H:%M:%S"))  # SQLite keeps dates as text
    with sqlite3.connect(lite) as con:
        names = ", ".join(f'"{c}"' for c in log.columns)
        con.execute(f"CREATE TABLE orders ({names})")
        con.executemany(f"INSERT INTO orders VALUES ({', '.join('?' * log.width)})", text.iter_rows())
    duck = folder / "shop.duckdb"
    with duckdb.connect(str(duck)) as con:
        con.register("log", log.to_arrow())
        con.execute("CREATE TABLE orders AS SELECT * FROM log")
    log.write_parquet(folder / "orders.parquet")
    return {"sqlite": f"sqlite:///{lite}", "duckdb": f"duckdb:///{duck}", "file": folder / "orders.parquet",
            "sqlalchemy": f"sqlite+pysqlite:///{lite}"}  # fmt: skip


def test_a_table_in_sqlite_and_duckdb_gives_the_files_customers_and_report_in_several_parts(dbs, monkeypatch):
    want, want_report = rfmlab.customer_table(dbs["file"], dataset="ecommerce")
    monkeypatch.setattr(sql, "BATCH_ROWS", 700)
    monkeypatch.setattr(sql, "PART_ROWS", 2000)  # several batches a part, several parts
    for which in ("sqlite", "duckdb", "sqlalchemy"):
        got, report = rfmlab.customer_table(dbs[which], dataset="ecommerce", table="orders")
        assert got.equals(want), which
        assert report.to_dict() == want_report.to_dict(), which
    read = sql.read(dbs["duckdb"], table="orders", query=None, folder=dbs["file"].parent / "parts")
    assert len(read.files) > 2 and read.rows == want_report.rows_in
    assert read.scan().collect().height == read.rows


def test_a_query_reads_the_rows_it_selects(dbs, log):
    country = log["Country"][0]
    want, _ = rfmlab.customer_table(log.filter(pl.col("Country") == country), dataset="ecommerce")
    for which in ("sqlite", "duckdb"):
        query = f"SELECT * FROM orders WHERE \"Country\" = '{country}'"
        got, report = rfmlab.customer_table(dbs[which], dataset="ecommerce", query=query)
        assert got.equals(want) and report.rows_in == log.filter(pl.col("Country") == country).height


def test_the_digest_is_of_the_rows_not_of_the_batches(dbs, monkeypatch, tmp_path):
    whole = sql.read(dbs["sqlite"], table="orders", query=None, folder=tmp_path)
    monkeypatch.setattr(sql, "BATCH_ROWS", 333)
    monkeypatch.setattr(sql, "PART_ROWS", 1000)
    batched = sql.read(dbs["sqlite"], table="orders", query=None, folder=tmp_path)
    assert len(batched.files) > len(whole.files) and batched.digest == whole.digest
    fewer = sql.read(dbs["sqlite"], table=None, query="SELECT * FROM orders LIMIT 100", folder=tmp_path)
    assert fewer.rows == 100 and fewer.digest != whole.digest
    assert whole.query == "SELECT * FROM orders" and whole.server == dbs["sqlite"]


def test_a_column_null_in_the_first_batch_takes_the_type_of_later_ones(tmp_path, monkeypatch):
    db = tmp_path / "late.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (customer TEXT, day TEXT, amount REAL)")
        rows = [(None if i < 50 else f"c{i % 7}", f"2024-01-{1 + i % 28:02d}", 1.0 + i) for i in range(120)]
        con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    monkeypatch.setattr(sql, "BATCH_ROWS", 50)
    monkeypatch.setattr(sql, "PART_ROWS", 50)
    columns = {"customer": "customer", "date": "day", "amount": "amount"}
    customers, report = rfmlab.customer_table(f"sqlite:///{db}", table="t", columns=columns)
    assert customers.height == 7 and report.rows_in == 120 and report.dropped["missing_customer"] == 50


def test_a_source_names_its_database_once(tmp_path):
    base = {"name": "x", "kind": "transactions", "columns": {"customer": "c", "date": "d"}}
    for extra, words in [
        ({"uri": "sqlite:///a.db"}, "dataset.table or dataset.query, not neither"),
        ({"uri": "sqlite:///a.db", "table": "t", "query": "SELECT 1"}, "not both"),
        ({"table": "t"}, "dataset.table reads from a database: give its URL too"),
        ({"uri": "sqlite:///a.db", "table": "t", "path": "a.csv"}, "both name the data"),
        ({"uri": "s3://bucket/a.parquet", "table": "t"}, "is not a database URL"),
    ]:
        with pytest.raises(ConfigError, match=words):
            DatasetSpec.from_dict({**base, **extra})
    with pytest.raises(ConfigError, match="query reads from a database"):
        sql.fields("orders.csv", query="SELECT 1")
    assert sql.fields("postgresql://u@h/db", table="t") == {"path": None, "uri": "postgresql://u@h/db",
                                                            "table": "t", "query": None}  # fmt: skip


@pytest.mark.parametrize(
    ("uri", "table", "query", "error", "words"),
    [
        ("sqlite:///{tmp}/none.db", "orders", None, DataError, "no database file at"),
        ("sqlite:///{db}", "nope", None, DataError, "dataset.table=nope is not a table of"),
        ("duckdb:///{duck}", "nope", None, DataError, "dataset.table=nope is not a table of"),
        ("sqlite:///{db}", None, "SELEC 1", DataError, "dataset.query failed on sqlite:///"),
        ("duckdb:///{duck}", None, "SELECT * FROM orders WHERE false", DataError, "returned no rows"),
        ("mysql+nosuchdriver://u:pw-42@h/db", "orders", None, ConfigError, "no driver for it"),
    ],
)
def test_a_source_that_cannot_be_read_is_one_line_naming_the_fix(dbs, tmp_path, uri, table, query, error, words):
    uri = uri.format(tmp=tmp_path, db=dbs["sqlite"][10:], duck=dbs["duckdb"][10:])
    with pytest.raises(error) as e:
        sql.read(uri, table=table, query=query, folder=tmp_path)
    assert words in str(e.value) and len(str(e.value).splitlines()) == 1
    assert "pw-42" not in str(e.value) and e.value.__cause__ is None  # no chained driver error holding the URL
    assert not list(tmp_path.glob("read-*"))  # the parts written before the failure are gone


def test_a_password_is_never_shown(tmp_path):
    uri = "postgresql://me:p%40ss%2Fw0rd@db.example:5432/shop?sslmode=require"
    assert locations.shown(uri) == "postgresql://me:***@db.example:5432/shop?sslmode=***"
    said = f'connection to "{uri}" failed for password p@ss/w0rd (p%40ss%2Fw0rd)'
    assert "p@ss" not in sql.scrub(said, uri) and "p%40ss" not in sql.scrub(said, uri)
    section = locations.redact_section({"uri": uri, "table": "t", "path": None})
    assert section["uri"] == locations.shown(uri) and section["table"] == "t"


def test_a_table_name_is_quoted_only_when_sql_needs_it():
    assert sql.statement("postgresql://h/db", table="public.orders", query=None) == "SELECT * FROM public.orders"
    assert sql.statement("duckdb:///a", table="My Orders", query=None) == 'SELECT * FROM "My Orders"'
    assert sql.statement("mysql://h/db", table="order lines", query=None) == "SELECT * FROM `order lines`"
    assert sql.statement("sqlite:///a", table=None, query=" SELECT 1; ") == "SELECT 1"


def test_rfmlab_run_takes_a_database_url_as_its_data_in_a_quoted_override():
    from rfmlab.cli import api

    url = "sqlite:///a.db?x=1&y='2'"
    plain, _ = api.compose(["dataset=online_retail", f"dataset.uri={api._quoted(url)}", "dataset.table=t"])
    assert plain["dataset"]["uri"] == url


def test_a_customer_table_is_read_from_a_database_as_from_a_file(tmp_path):
    import duckdb

    customers, _ = rfmlab.customer_table(synthetic.generate("ecommerce", n_customers=200, seed=5), dataset="ecommerce")
    customers.write_parquet(tmp_path / "customers.parquet")
    with duckdb.connect(str(tmp_path / "rfm.duckdb")) as con:
        con.register("c", customers.to_arrow())
        con.execute("CREATE TABLE rfm AS SELECT * FROM c")
    want, want_report = rfmlab.customer_table(tmp_path / "customers.parquet", dataset="customers")
    got, report = rfmlab.customer_table(f"duckdb:///{tmp_path}/rfm.duckdb", dataset="customers", table="rfm")
    assert got.equals(want) and report.to_dict() == want_report.to_dict() and report.source == "customer table"


def test_the_parts_go_with_the_source(dbs, tmp_path, monkeypatch):
    import gc

    from rfmlab.data import load

    monkeypatch.setenv("RFMLAB_CACHE_DIR", str(tmp_path))
    spec = load.DatasetSpec.from_dict({"name": "x", "uri": dbs["duckdb"], "table": "orders",
                                       "columns": {"customer": "CustomerID", "date": "InvoiceDate"}})  # fmt: skip
    src = load.scan(spec)
    assert src.head.height == 2000 and len(list(tmp_path.glob("sql/read-*/part-*.parquet"))) == 1
    assert src.lineage == {"data.server": dbs["duckdb"], "data.query": "SELECT * FROM orders"}
    del src
    gc.collect()
    assert list((tmp_path / "sql").iterdir()) == []
