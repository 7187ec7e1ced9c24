"""End-to-end (issue 22): a transaction log served by a real S3-compatible HTTP server (moto's standalone server,
started here on 127.0.0.1; nothing patched in the processes under test) gives the customers of the local file, its
URL is printed as given, and the secret key reaches nowhere in the MLflow store; a customer table trained on through
the command gives the metrics of a run on the transaction log it was computed from."""

import json
from pathlib import Path

import polars as pl
import pytest
import servers
from helpers import artifacts, run_cli
from mlflow import MlflowClient

import rfmlab
from rfmlab.data import synthetic

pytestmark = pytest.mark.slow
SECRET = "rfmlab-e2e-not-a-real-secret-7Kq2Zp"  # any key works with moto; one that no other text contains


def only_run(uri: str, experiment: str, status: str = "FINISHED"):
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment).experiment_id
    (run,) = client.search_runs([exp], filter_string=f"attributes.status = '{status}'")
    return client, run


def test_an_s3_object_gives_the_local_files_customers_and_its_secret_stays_out_of_the_store(tmp_path):
    import boto3

    local = tmp_path / "orders.parquet"
    synthetic.generate("ecommerce", n_customers=400, seed=1).write_parquet(local)
    want, _ = rfmlab.customer_table(local, dataset="ecommerce")
    store = tmp_path / "store"
    store.mkdir()
    uri = f"sqlite:///{store}/mlflow.db"
    s3_options = ["+dataset.storage_options.aws_allow_http=true",
                  f"+dataset.storage_options.aws_secret_access_key={SECRET}"]  # fmt: skip
    with servers.s3_server() as endpoint:
        env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": SECRET,
               "AWS_REGION": "us-east-1"}  # fmt: skip
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key=SECRET,
                          region_name="us-east-1")  # fmt: skip
        s3.create_bucket(Bucket="bucket")
        s3.upload_file(str(local), "bucket", "orders.parquet")
        common = ["dataset=ecommerce", *s3_options, "search=none", "plots.enabled=false", f"tracking.uri={uri}",
                  f"hydra.run.dir={tmp_path}/hydra"]  # fmt: skip
        res = run_cli("dataset.path=s3://bucket/orders.parquet", *common, cwd=store, env_extra=env)
        assert res.returncode == 0, res.stderr
        missing = run_cli("dataset.path=s3://bucket/sales/missing.parquet", *common, cwd=store, env_extra=env)
    assert missing.returncode == 2
    (line,) = missing.stderr.strip().splitlines()
    assert line.startswith("rfmlab: error: dataset.path s3://bucket/sales/missing.parquet not found in the object")
    client, run = only_run(uri, "ecommerce")
    only_run(uri, "ecommerce", status="FAILED")  # the missing object's run, its error.txt in the store too
    got = pl.read_parquet(client.download_artifacts(run.info.run_id, "tables/customers.parquet", str(tmp_path)))
    assert got.select(want.columns).equals(want)
    p = run.data.params
    assert p["dataset.path"] == "s3://bucket/orders.parquet" and len(p["data.digest"]) == 64  # keys, sizes, ETags
    assert p["dataset.storage_options.aws_secret_access_key"] == "***"
    values = [*p.values(), *run.data.tags.values(), *(i.dataset.source for i in run.inputs.dataset_inputs)]
    assert not [v for v in values if SECRET in v]
    stored = [f for f in store.rglob("*") if f.is_file()]
    assert {"mlflow.db", "MLmodel", "config.yaml", "error.txt"} <= {f.name for f in stored}  # the model, the failure
    assert not [str(f) for f in stored if SECRET.encode() in f.read_bytes()]  # params, tags, every artifact, model
    assert SECRET not in missing.stderr + res.stdout + res.stderr
    assert "config/config.yaml" in artifacts(client, run.info.run_id)


def test_training_on_a_customer_table_equals_training_on_its_log(tmp_path):
    customers, _ = rfmlab.customer_table(None, dataset="ecommerce")  # the default run's data: 5,000 customers
    table = tmp_path / "customers.parquet"
    customers.write_parquet(table)
    uri = f"sqlite:///{tmp_path}/mlruns/mlflow.db"
    common = ["search=none", "plots.enabled=false", f"tracking.uri={uri}", f"hydra.run.dir={tmp_path}/hydra"]
    out = []
    for args in (["dataset=customers", f"dataset.path={table}"], ["dataset=ecommerce"]):
        res = run_cli(*args, *common, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        out.append(" ".join(res.stdout.split()))
    assert "5,000 customers read as they are (a customer table: no transactions were read" in out[0]
    assert "rule scheme value_risk left out: it needs return_rate" in out[0]
    client, from_table = only_run(uri, "customers")
    _, from_log = only_run(uri, "ecommerce")
    a, b = from_table.data.metrics, from_log.data.metrics
    keys = ["silhouette", "davies_bouldin", "calinski_harabasz", "n_clusters", "stability", "stability_min",
            "ari_vs_rfm11", "ari_vs_quartile", "n_customers"]  # fmt: skip
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert "ari_vs_value_risk" in b and "ari_vs_value_risk" not in a  # needs return_rate: left out, said
    for name in ("tables/cluster_sizes.json", "tables/cluster_names.json"):
        got = [
            client.download_artifacts(r.info.run_id, name, str(tmp_path / r.info.run_id))
            for r in (from_table, from_log)
        ]
        sizes = [json.loads(Path(f).read_text()) for f in got]
        assert sizes[0] == sizes[1]
    report = json.loads(Path(client.download_artifacts(from_table.info.run_id, "data/cleaning_report.json",
                                                       str(tmp_path))).read_text())  # fmt: skip
    assert report["source"] == "customer table" and report["rows_in"] == report["customers_out"] == 5000
    note = from_table.data.tags["mlflow.note.content"]
    assert "no cleaning report" in note and "rule scheme value_risk left out" in note
    assert from_table.data.params["analysis_date"] == "unknown: recency given in days"
