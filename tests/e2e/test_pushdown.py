"""The customer-table stage pushed down to a real PostgreSQL server (``dataset.engine=postgres``: the UCI files
COPYed into text tables, as a CSV export lands in a database) and the ``rfmlab`` command on DuckDB: the same
customer table, cleaning report and run metrics as the polars path."""

import gzip

import pytest
from helpers import ONLINE_RETAIL, ROOT, run_cli
from mlflow.tracking import MlflowClient
from polars.testing import assert_frame_equal
from servers import postgres

from rfmlab import pipeline
from rfmlab.data.spec import DatasetSpec

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
pytest.importorskip("ibis")
pytest.importorskip("duckdb")

II = {"customer": "Customer ID", "invoice": "Invoice", "date": "InvoiceDate", "quantity": "Quantity", "price": "Price"}
FILES = {"uci": ("online_retail.csv.gz", ONLINE_RETAIL), "uci_ii": ("online_retail_II_2009_2010.csv.gz", II)}


@pytest.fixture(scope="module")
def server(shared_data):
    """A PostgreSQL database holding each UCI file as a table of text columns (COPY ... CSV HEADER)."""
    import psycopg

    with postgres(("retail",)) as base:
        uri = f"{base}/retail"
        with psycopg.connect(uri, autocommit=True) as conn, conn.cursor() as cur:
            for table, (name, _) in FILES.items():
                with gzip.open(shared_data / name, "rt", encoding="utf-8", newline="") as f:
                    header = next(f).rstrip("\r\n").split(",")
                    columns = ", ".join(f'"{c}" text' for c in header)
                    cur.execute(f"CREATE TABLE {table} ({columns})")
                    with cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT csv)") as copy:
                        for block in iter(lambda: f.read(1 << 20), ""):
                            copy.write(block)
        yield uri


def _run(**d):
    customers, as_of, report, _ = pipeline.customer_table(DatasetSpec.from_dict({"name": "t", **d}))
    return customers, as_of, report.to_dict()


@pytest.mark.parametrize("table, cleaning", [("uci", {}), ("uci_ii", {})], ids=["uci-net", "uci-ii"])  # drop: on DuckDB
def test_postgres_equals_polars(shared_data, server, table, cleaning):
    name, columns = FILES[table]
    want = _run(path=str(shared_data / name), columns=columns, cleaning=cleaning)
    got = _run(engine="postgres", uri=server, table=table, columns=columns, cleaning=cleaning)
    assert got[0].height == {"uci": 4338 if cleaning else 4317}.get(table, want[0].height)
    assert_frame_equal(got[0], want[0], check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    assert got[1:] == want[1:]


def test_command_on_duckdb_gives_the_polars_run_metrics(shared_data, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    path = shared_data / "online_retail.csv.gz"
    metrics = {}
    for engine in ("polars", "duckdb"):
        res = run_cli("dataset=online_retail", f"dataset.path={path}", f"dataset.engine={engine}", "search=none",
                      "algorithm=kmeans", "plots.max_points=500", f"tracking.uri={uri}",
                      f"tracking.experiment=pushdown-{engine}", cwd=ROOT, timeout=600)  # fmt: skip
        assert res.returncode == 0, res.stderr
        client = MlflowClient(uri)
        (run,) = client.search_runs([client.get_experiment_by_name(f"pushdown-{engine}").experiment_id])
        metrics[engine] = run.data.metrics
    assert metrics["duckdb"]["n_customers"] == 4_317 and metrics["duckdb"]["rows_in"] == 541_909
    assert metrics["duckdb"].keys() == metrics["polars"].keys()
    for key, value in metrics["polars"].items():
        assert metrics["duckdb"][key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
