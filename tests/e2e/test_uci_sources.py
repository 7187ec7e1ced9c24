"""End-to-end (issue 22, done when): the UCI Online Retail file cut into hive-partitioned parquet parts, the same
file served by a real S3-compatible HTTP server (moto's, started here on 127.0.0.1) and the precomputed customer
table each give the file's 4,317 customers through the Python API, the ``rfmlab`` command and ``rfmlab-score``
(the PostgreSQL table's are in test_sql_source.py)."""

import polars as pl
import pytest
import servers
from helpers import run_cli
from mlflow import MlflowClient

import rfmlab

pytestmark = [pytest.mark.slow, pytest.mark.realdata]
KEY = "uci-e2e-not-a-real-secret"


@pytest.fixture(scope="module")
def sources(shared_data, tmp_path_factory):
    """The file's customer table, and the file as hive parts (``Country=X/``), as one parquet object in an S3
    server and as its customer table; yields them with the S3 environment."""
    import boto3

    d = tmp_path_factory.mktemp("uci")
    file = shared_data / "online_retail.csv.gz"
    want, _ = rfmlab.customer_table(file, dataset="online_retail")
    log = pl.read_csv(file, infer_schema=False)
    log.write_parquet(d / "hive", partition_by="Country")  # Country=EIRE/..., 38 folders, as Spark or DuckDB cut it
    log.write_parquet(d / "retail.parquet")
    want.write_parquet(d / "customers.parquet")
    with servers.s3_server() as endpoint:
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": KEY,
               "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}  # fmt: skip
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key=KEY,
                          region_name="us-east-1")  # fmt: skip
        s3.create_bucket(Bucket="shop")
        s3.upload_file(str(d / "retail.parquet"), "shop", "sales/retail.parquet")
        yield {"want": want, "dir": d, "env": env, "s3": "s3://shop/sales/retail.parquet"}


def test_hive_parts_an_s3_object_and_a_customer_table_give_the_files_customers(sources, monkeypatch):
    want, d = sources["want"], sources["dir"]
    assert want.height == 4317
    got, _ = rfmlab.customer_table(d / "hive", dataset="online_retail")
    assert got.equals(want)
    for key, value in sources["env"].items():
        monkeypatch.setenv(key, value)
    got, _ = rfmlab.customer_table(sources["s3"], dataset="online_retail")
    assert got.equals(want)
    extras = {"tenure_days": "tenure_days", "return_rate": "return_rate"}  # columns the table has beside R, F, M
    table, report = rfmlab.customer_table(d / "customers.parquet", dataset="customers", columns=extras)
    assert table.height == 4317 and report.source == "customer table"
    assert table.select(want.columns).equals(want)


def test_rfmlab_and_rfmlab_score_read_each_source(sources, tmp_path):
    d, env = sources["dir"], sources["env"]
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    common = ["search=none", "plots.enabled=false", "evaluation.stability.enabled=false", f"tracking.uri={uri}"]
    runs = {
        "hive": ["dataset=online_retail", f"dataset.path={d / 'hive'}"],
        "s3": ["dataset=online_retail", f"dataset.path={sources['s3']}"],
        "customers": ["dataset=customers", f"dataset.path={d / 'customers.parquet'}",
                      "dataset.columns.tenure_days=tenure_days", "dataset.columns.return_rate=return_rate"],
    }
    for args in runs.values():
        res = run_cli(*args, *common, cwd=tmp_path, env_extra=env)
        assert res.returncode == 0, res.stderr
        assert "4,317 customers" in res.stdout
    client = MlflowClient(uri)
    finished = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert sorted(r.data.metrics["n_customers"] for r in finished) == [4317] * 3
    model = next(r for r in finished if r.data.params["dataset.name"] == "online_retail")
    segments = {}
    for name, given in {"hive": d / "hive", "s3": sources["s3"], "customers": d / "customers.parquet"}.items():
        out = tmp_path / f"scored_{name}.parquet"
        res = run_cli("--model", f"runs:/{model.info.run_id}/model", "--input", str(given), "--output", str(out),
                      "--tracking-uri", uri, cwd=tmp_path, env_extra=env, module="rfmlab.cli.score")  # fmt: skip
        assert res.returncode == 0, res.stderr
        scored = pl.read_parquet(out)
        assert scored.height == 4317 and set(scored["customer_id"]) == set(sources["want"]["customer_id"])
        segments[name] = scored.sort("customer_id")["segment"].to_list()
    assert segments["hive"] == segments["s3"] == segments["customers"]  # the same customers, the same segments
