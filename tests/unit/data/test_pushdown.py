"""The customer-table stage pushed down to DuckDB (``data.pushdown``, ``dataset.engine=duckdb``) gives the polars
path's customer table and cleaning report: on a small log with every cleaning case, and on both UCI files."""

import sys

import polars as pl
import pytest
from helpers import ONLINE_RETAIL
from polars.testing import assert_frame_equal

from rfmlab import pipeline
from rfmlab.data import engines
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError, DataError

pytest.importorskip("ibis")
pytest.importorskip("duckdb")

II = {"customer": "Customer ID", "invoice": "Invoice", "date": "InvoiceDate", "quantity": "Quantity", "price": "Price"}
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = [  # every cleaning case: repeats of kept and of dropped lines, ids written as floats, returns netting to 0
    "1,A,thing,2,2011-01-03 10:00:00,1.50,17850.0,UK",
    "1,A,thing,2,2011-01-03 10:00:00,1.50,17850.0,UK",
    "1,A,thing,2,2011-01-03 10:00:00,1.50,17850.0,UK",
    "1,B,other,1,2011-01-03 10:00:00,4.00,17850,UK",
    "2,A,thing,3,2011-02-03 11:00:00,1.50, 17850 ,UK",
    "C3,A,thing,-1,2011-02-05 11:00:00,1.50,17850,UK",
    "4,A,thing,5,2011-01-04 09:00:00,0,12346,UK",
    "5,A,thing,5,2011-01-04 09:00:00,2.00,,UK",
    "5,A,thing,5,2011-01-04 09:00:00,2.00,,UK",
    "6,A,thing,1,2011-03-01 08:00:00,10.00,12000,FR",
    "C7,A,thing,-1,2011-03-02 08:00:00,10.00,12000,FR",
    ",A,no invoice,1,2011-03-05 08:00:00,3.00,13000,FR",
    ",A,no invoice,1,2011-03-05 08:00:00,3.00,13000,FR",
    ",B,no invoice,2,2011-03-06 08:00:00,3.00,13000,FR",
    "8,A,thing,1,2011-04-01 08:00:00,7.25,13000,FR",
    "9,A,thing,1,2011-05-01 08:00:00,1.00,14000,FR",
    "10,A,thing,1,,1.00,14000,FR",
    "11,A,thing,-2,2011-05-02 08:00:00,1.00,14000,FR",
]


def _spec(path, engine: str, columns=ONLINE_RETAIL, **extra) -> DatasetSpec:
    return DatasetSpec.from_dict({"name": "t", "path": str(path), "columns": columns, "engine": engine, **extra})


def _both(path, columns=ONLINE_RETAIL, **extra):
    out = []
    for engine in ("polars", "duckdb"):
        customers, as_of, report, digest = pipeline.customer_table(_spec(path, engine, columns, **extra))
        out.append((customers, as_of, report.to_dict(), digest))
    return out


def _equal(polars_run, engine_run) -> None:
    assert_frame_equal(engine_run[0], polars_run[0], check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert engine_run[1:] == polars_run[1:]  # analysis date, cleaning report, digest


@pytest.fixture(scope="module")
def small_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("pushdown") / "log.csv"
    path.write_text(HEADER + "\n".join(LINES) + "\n")
    return path


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"cleaning": {"cancellations": "drop"}},
        {"cleaning": {"duplicates": "keep", "nonpositive_price": "keep"}},
        {"analysis_date": "2011-03-06"},
    ],
    ids=["net", "drop", "keep-repeats", "analysis-date"],
)
def test_small_log_equals_polars(small_log, extra):
    polars_run, duck = _both(small_log, **extra)
    assert polars_run[2]["dropped"]  # the log exercises cleaning: some reason drops lines
    _equal(polars_run, duck)


def test_unreadable_value_refused_without_line_number(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + LINES[0] + "\n" + LINES[3].replace(",1,", ",one,", 1) + "\n")
    with pytest.raises(DataError, match=r"column 'Quantity' .*non-numeric values \(1 line\(s\).*engine=polars names"):
        pipeline.customer_table(_spec(path, "duckdb"))
    with pytest.raises(DataError, match="line 2"):  # the polars path names the line
        pipeline.customer_table(_spec(path, "polars"))


def test_missing_extra_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as when the spark extra is not installed
    want = r"^dataset.engine=spark needs Ibis and pyspark .*pip install 'rfmlab\[spark\]'$"
    with pytest.raises(ConfigError, match=want):
        engines.ibis_for("spark")


def test_unknown_engine_refused():
    with pytest.raises(ConfigError, match="dataset.engine='sqlite': use one of polars, duckdb"):
        _spec("x.csv", "sqlite")


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name, columns, extra",
    [
        ("online_retail.csv.gz", ONLINE_RETAIL, {}),
        ("online_retail.csv.gz", ONLINE_RETAIL, {"cleaning": {"cancellations": "drop"}}),
        ("online_retail_II_2009_2010.csv.gz", II, {}),
    ],
    ids=["uci-net", "uci-drop", "uci-ii"],
)
def test_uci_equals_polars(shared_data, name, columns, extra):
    polars_run, duck = _both(shared_data / name, columns, **extra)
    expected = {"online_retail.csv.gz": 4338 if extra else 4317}.get(name)
    assert expected is None or duck[0].height == expected
    _equal(polars_run, duck)
    assert duck[0].columns == pl.DataFrame(schema=polars_run[0].schema).columns


def test_database_password_and_spark_token_never_logged():
    from rfmlab.data import locations

    # +dataset.spark.conf.spark.hadoop.fs.s3a.secret.key=... arrives from the command line as nested keys
    conf = {"spark": {"hadoop": {"fs": {"s3a": {"secret": {"key": "hadoop-9x"}}}}, "executor": {"memory": "8g"}}}
    section = {"uri": "postgresql://me:s3cret@db:5432/shop",
               "spark": {"remote": "sc://ws:443/;token=dapi42;x=1", "conf": conf}}  # fmt: skip
    shown = locations.redact_section(section)
    assert shown["uri"] == "postgresql://me:***@db:5432/shop"
    assert shown["spark"]["remote"] == "sc://ws:443/;token=***;x=1"
    assert shown["spark"]["conf"]["spark"]["hadoop"]["fs"]["s3a"]["secret"]["key"] == "***"
    assert shown["spark"]["conf"]["spark"]["executor"]["memory"] == "8g"  # not a secret: kept
    assert not [s for s in ("s3cret", "dapi42", "hadoop-9x") if s in str(shown)]
    text = "uri postgresql://me:s3cret@db/shop token=dapi42 key: hadoop-9x memory: 8g"  # Hydra's .hydra/*.yaml
    assert locations.scrub_section(text, section) == "uri postgresql://me:***@db/shop token=*** key: *** memory: 8g"
