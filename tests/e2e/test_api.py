"""The Python API end to end: rfmlab.run is the command's code path (same metrics and labels), a frame in memory
is the same data as its file, the promoted model scores as RFMSegmenter predicts, and the commands' functions work."""

import numpy as np
import polars as pl
import pytest
from helpers import run_cli

import rfmlab
from rfmlab.data import synthetic

pytestmark = pytest.mark.slow

SMALL = [
    "search=none",
    "dataset.synthetic.n_customers=400",
    "plots.enabled=false",
    "evaluation.stability.n_resamples=5",
]


@pytest.fixture(scope="module")
def uri(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('api') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def python_run(uri):
    return rfmlab.run(SMALL, tracking_uri=uri, experiment="api")


def test_a_run_from_python_is_the_command_line_run(python_run, uri, tmp_path):
    res = run_cli(*SMALL, f"tracking.uri={uri}", "tracking.experiment=api", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    runs = rfmlab.compare(experiment="api", tracking_uri=uri)  # the two runs, side by side
    cli_id = next(r for r in runs["leaderboard"]["run_id"] if r != python_run.run_id)
    cli_run = rfmlab.load_run(cli_id, tracking_uri=uri)
    assert python_run.status == cli_run.status == "FINISHED"
    same = ("silhouette", "davies_bouldin", "calinski_harabasz", "stability", "n_clusters")
    assert {k: python_run.metrics[k] for k in same} == {k: cli_run.metrics[k] for k in same}
    a = python_run.customers.sort("customer_id")
    b = cli_run.customers.sort("customer_id")
    assert a["cluster"].to_list() == b["cluster"].to_list() and a["segment"].to_list() == b["segment"].to_list()
    assert runs["ari"].filter(pl.col("run_id") == cli_id)[python_run.run_id].item() == pytest.approx(1.0)
    assert python_run.params["data.digest"] == cli_run.params["data.digest"]


def test_the_run_result_reads_back_and_shows_itself(python_run, uri):
    html = python_run._repr_html_()
    assert python_run.run_id in html and "silhouette" in html and "MLflow UI" in html
    names = python_run.segments["segment"].to_list()
    assert all(n in html for n in names) and len(names) == python_run.metrics["n_clusters"]
    assert python_run.customers.height == 400 and python_run.labels.shape == (400,)
    again = rfmlab.load_run(python_run.run_id, tracking_uri=uri)
    assert again.metrics == python_run.metrics and again.params == python_run.params
    assert again.url.endswith(python_run.run_id + "?workflowType=machine_learning")
    with pytest.raises(rfmlab.RfmlabError, match="no run 'nope'"):
        rfmlab.load_run("nope", tracking_uri=uri)


def test_a_frame_in_memory_is_the_same_data_as_its_file(uri, tmp_path):
    log = synthetic.generate("ecommerce", n_customers=300, seed=5)
    path = tmp_path / "log.parquet"
    log.write_parquet(path)
    args = ["search=none", "plots.enabled=false", "evaluation.stability.enabled=false"]
    in_memory = rfmlab.run(args, data=log.to_pandas(), tracking_uri=uri, experiment="frames")
    on_disk = rfmlab.run([*args, f"dataset.path={path}"], tracking_uri=uri, experiment="frames")
    assert in_memory.metrics["silhouette"] == on_disk.metrics["silhouette"]
    assert in_memory.metrics["rows_in"] == log.height == on_disk.metrics["rows_in"]
    assert in_memory.customers.sort("customer_id")["cluster"].equals(on_disk.customers.sort("customer_id")["cluster"])


def test_the_promoted_model_scores_as_the_estimator_predicts(python_run, uri, tmp_path):
    import mlflow

    promoted = rfmlab.promote(python_run.run_id, tracking_uri=uri, name="api-model")
    assert promoted["run_id"] == python_run.run_id and promoted["uri"] == "models:/api-model@champion"
    customers = python_run.customers.select("customer_id", "recency", "frequency", "monetary")
    scored = rfmlab.score(promoted["uri"], customers, tracking_uri=uri, output=tmp_path / "scored.csv")
    model = rfmlab.RFMSegmenter(params={"n_clusters": 5, "n_init": 10}, random_state=42)  # conf: kmeans, seed 42
    np.testing.assert_array_equal(model.fit(customers).predict(customers), scored["cluster"].to_numpy())
    np.testing.assert_array_equal(model.labels_, python_run.customers["cluster"].to_numpy())
    mlflow.set_tracking_uri(uri)
    served = mlflow.pyfunc.load_model(promoted["uri"]).predict(customers.to_pandas())
    np.testing.assert_array_equal(served["cluster"].to_numpy(), scored["cluster"].to_numpy())
    assert pl.read_csv(tmp_path / "scored.csv").height == 400
    with pytest.raises(rfmlab.RfmlabError, match="exists; pass --overwrite"):
        rfmlab.score(promoted["uri"], customers, tracking_uri=uri, output=tmp_path / "scored.csv")


def test_rerun_and_errors_as_functions(python_run, uri):
    out = rfmlab.rerun(python_run.run_id, tracking_uri=uri)
    assert out["identical"] and out["comparison"].label_diffs == 0 and out["rerun_id"] != python_run.run_id
    with pytest.raises(rfmlab.ConfigError, match=r"unknown config key 'algorithm.params.n_clusterz' \(did you mean"):
        rfmlab.run(["algorithm.params.n_clusterz=3"], tracking_uri=uri)
    log = synthetic.generate("ecommerce", n_customers=50, seed=1).drop("CustomerID")
    with pytest.raises(rfmlab.DataError, match=r"column 'CustomerID' \(dataset.columns.customer\) not in the data"):
        rfmlab.run(["search=none"], data=log, tracking_uri=uri, experiment="failing")
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    (failed,) = client.search_runs([client.get_experiment_by_name("failing").experiment_id])
    assert failed.info.status == "FAILED" and "CustomerID" in failed.data.tags["rfmlab.error"]
