"""End-to-end (issue 22): the UCI Online Retail file loaded (COPY) into a table of a real PostgreSQL server (started
here on 127.0.0.1, a role with a password, scram-sha-256) gives the file's customer table and cleaning report
through the Python API, the ``rfmlab`` command, ``rfmlab-score``, ``rfmlab.run`` and ``rfmlab.over_time``; the
password reaches no param, tag, artifact, console line, Hydra output or error message."""

import io
import json
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest
import servers
from helpers import run_cli
from mlflow import MlflowClient

import rfmlab

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
PASSWORD = "e2e:Pw/7q@Zk-not-real"  # characters a URL must quote: the URL holds it quoted, drivers may echo either
FORMS = (PASSWORD, quote(PASSWORD, safe=""))
DDL = """CREATE TABLE retail ("InvoiceNo" text, "StockCode" text, "Description" text, "Quantity" integer,
         "InvoiceDate" timestamp, "UnitPrice" numeric(12, 3), "CustomerID" text, "Country" text)"""


@pytest.fixture(scope="module")
def db(shared_data):
    """The server's URL (password included) to a database whose table ``retail`` holds the UCI file, typed."""
    import psycopg

    log = pl.read_csv(shared_data / "online_retail.csv.gz", infer_schema=False)
    with servers.postgres(("shop",), password=PASSWORD) as base:
        url = f"{base}/shop"
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(DDL)
            with cur.copy("COPY retail FROM STDIN (FORMAT csv, HEADER true)") as copy:
                buf = io.BytesIO()
                log.write_csv(buf)
                copy.write(buf.getvalue())
        yield url


def _leaks(text: str) -> bool:
    return any(form in text for form in FORMS)


@pytest.mark.parametrize(("cancellations", "scheme"), [("net", "postgresql"), ("drop", "postgresql+psycopg")])
def test_the_uci_table_gives_the_files_customers_and_cleaning_report(db, shared_data, cancellations, scheme):
    """``postgresql://`` is read through ADBC, ``postgresql+psycopg://`` through SQLAlchemy (a server-side cursor);
    ``numeric`` prices arrive as ADBC's opaque text and as psycopg's decimals, and read as the file's numbers."""
    file = shared_data / "online_retail.csv.gz"
    policy = {"cancellations": cancellations}
    want, want_report = rfmlab.customer_table(file, dataset="online_retail", cleaning=policy)
    url = db.replace("postgresql://", f"{scheme}://")
    got, report = rfmlab.customer_table(url, dataset="online_retail", table="retail", cleaning=policy)
    assert got.height == {"net": 4317, "drop": 4338}[cancellations]
    assert got.equals(want)
    assert report.to_dict() == want_report.to_dict()


def test_rfmlab_and_rfmlab_score_read_the_table_and_no_password_reaches_the_store(db, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    common = ["search=none", "plots.enabled=false", f"tracking.uri={uri}"]
    res = run_cli("dataset=online_retail", f"dataset.uri={db}", "dataset.table=retail", *common, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "4,317 customers" in res.stdout
    wrong = db.replace(quote(PASSWORD, safe=""), "wrong-one")
    bad = run_cli("dataset=online_retail", f"dataset.uri={wrong}", "dataset.table=retail", *common, cwd=tmp_path)
    assert bad.returncode == 2
    (line,) = bad.stderr.strip().splitlines()
    assert line.startswith("rfmlab: error: postgresql://rfmlab:***@127.0.0.1:") and "refused the login" in line
    assert "password authentication failed" in line and "wrong-one" not in line
    client = MlflowClient(uri)
    (run,) = client.search_runs(["1"], filter_string="attributes.status = 'FINISHED'")
    p = run.data.params
    assert p["dataset.uri"] == p["data.server"] == db.replace(quote(PASSWORD, safe=""), "***")
    assert p["data.query"] == "SELECT * FROM retail" and len(p["data.digest"]) == 64
    (source,) = [json.loads(i.dataset.source) for i in run.inputs.dataset_inputs]
    assert source["tags"] == {"server": p["data.server"], "query": "SELECT * FROM retail"}
    page = Path(client.download_artifacts(run.info.run_id, "report.html", str(tmp_path))).read_text()
    assert f"SELECT * FROM retail on {p['data.server']}" in page  # the report names the server and the query
    scores = tmp_path / "scores.csv"
    res = run_cli("--model", f"runs:/{run.info.run_id}/model", "--input", db, "--table", "retail", "--output",
                  str(scores), "--tracking-uri", uri, cwd=tmp_path, module="rfmlab.cli.score")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert pl.read_csv(scores).height == 4317 and "scored 4,317 customers" in res.stdout
    stored = [f for f in (tmp_path / "mlruns").rglob("*") if f.is_file()]
    assert {"mlflow.db", "MLmodel", "config.yaml", "overrides.yaml", "error.txt"} <= {f.name for f in stored}
    assert not [str(f) for f in stored if any(form.encode() in f.read_bytes() for form in FORMS)]
    assert not [t for t in (*p.values(), *run.data.tags.values()) if _leaks(t)]
    assert not _leaks(res.stdout + res.stderr + bad.stdout + bad.stderr)


def test_rfmlab_run_and_over_time_take_the_database_url_with_a_query(db, shared_data, tmp_path):
    query = """SELECT * FROM retail WHERE "Country" = 'France'"""
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    file_log = pl.read_csv(shared_data / "online_retail.csv.gz", infer_schema=False)
    want, _ = rfmlab.customer_table(file_log.filter(pl.col("Country") == "France"), dataset="online_retail")
    result = rfmlab.run(["dataset=online_retail", f"dataset.query={json.dumps(query)}", "search=none",
                         "plots.enabled=false"], data=db, tracking_uri=uri)  # fmt: skip
    assert result.params["data.query"] == query and result.metrics["n_customers"] == want.height
    assert result.customers.sort("customer_id").select(want.columns).equals(want.sort("customer_id"))
    out = rfmlab.over_time(db, scheme="rfm11", dataset="online_retail", query=query, tracking_uri=uri)
    assert len(out["snapshots"]) == 13
    run = MlflowClient(uri).get_run(out["run_id"])
    assert run.data.params["input"] == db.replace(quote(PASSWORD, safe=""), "***") and not _leaks(out["text"])
    stored = [f for f in Path(tmp_path / "mlruns").rglob("*") if f.is_file()]
    assert not [str(f) for f in stored if any(form.encode() in f.read_bytes() for form in FORMS)]


def test_a_query_cannot_write_and_each_failure_is_one_line_without_the_password(db, tmp_path):
    import psycopg

    from rfmlab.data import sql

    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE scratch (a int)")
        conn.execute("INSERT INTO scratch VALUES (1), (2)")
        conn.execute("CREATE FUNCTION wipe() RETURNS int LANGUAGE sql AS 'DELETE FROM scratch RETURNING 1'")
    unreachable = db.rsplit(":", 1)[0] + f":{servers.free_port()}/shop"
    cases = [(db, None, "SELECT wipe()", "cannot execute DELETE in a read-only transaction"),
             (db, "nope", None, "dataset.table=nope is not a table of postgresql://rfmlab:***@"),
             (db.replace("/shop", "/nodb"), "retail", None, 'database "nodb" does not exist'),
             (unreachable, "retail", None, "cannot connect to postgresql://rfmlab:***@")]  # fmt: skip
    for url, table, query, words in cases:
        with pytest.raises(rfmlab.DataError) as e:
            sql.read(url, table=table, query=query, folder=tmp_path)
        assert words in str(e.value) and len(str(e.value).splitlines()) == 1 and not _leaks(str(e.value))
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM scratch").fetchone() == (2,)
