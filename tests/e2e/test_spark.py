"""The customer-table stage pushed down to Spark (``dataset.engine=spark``: PySpark in local mode with two cores,
one session started here for the module) gives the polars path's customer table and cleaning report on both UCI
files. Needs the ``spark`` extra and Java 17+ (``make test`` installs a JRE when missing)."""

import shutil

import pytest
from helpers import ONLINE_RETAIL
from polars.testing import assert_frame_equal

from rfmlab import pipeline
from rfmlab.data import engines
from rfmlab.data.spec import DatasetSpec

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
pytest.importorskip("ibis")
pytest.importorskip("pyspark")

II = {"customer": "Customer ID", "invoice": "Invoice", "date": "InvoiceDate", "quantity": "Quantity", "price": "Price"}
SPARK = {
    "master": "local[2]",
    "conf": {"spark": {"sql": {"shuffle": {"partitions": 4}}}},
}  # as the command line nests it


@pytest.fixture(scope="module")
def session():
    if shutil.which("java") is None:
        pytest.fail("PySpark needs Java 17+: apt-get install openjdk-17-jre-headless (make test installs it)")
    spark = engines.spark_session(SPARK)  # the runs below reuse it (getOrCreate)
    yield spark
    spark.stop()


@pytest.mark.parametrize(
    "name, columns", [("online_retail.csv.gz", ONLINE_RETAIL), ("online_retail_II_2009_2010.csv.gz", II)]
)
def test_spark_equals_polars(shared_data, session, name, columns):
    runs = {}
    for engine in ("polars", "spark"):
        spec = DatasetSpec.from_dict({"name": "t", "path": str(shared_data / name), "columns": columns,
                                      "engine": engine, "spark": SPARK})  # fmt: skip
        customers, as_of, report, digest = pipeline.customer_table(spec)
        runs[engine] = customers, as_of, report.to_dict(), digest
    assert session.conf.get("spark.sql.shuffle.partitions") == "4"  # dataset.spark.conf reached the session
    if name == "online_retail.csv.gz":
        assert runs["spark"][0].height == 4_317
    assert_frame_equal(runs["spark"][0], runs["polars"][0], check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert runs["spark"][1:] == runs["polars"][1:]
