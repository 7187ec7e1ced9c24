"""Promote -> score -> serve, through the commands users run."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import polars as pl
import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient

from rfmlab.data import synthetic

pytestmark = pytest.mark.slow


def promote(*args):
    return run_cli(*args, cwd=ROOT, module="rfmlab.cli.promote")


def score(*args):
    return run_cli(*args, cwd=ROOT, module="rfmlab.cli.score")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reg")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    common = ["dataset.synthetic.n_customers=500", "plots.enabled=false", "search=none", f"tracking.uri={uri}"]
    for args in (
        ["algorithm.params.n_clusters=4"],
        ["algorithm=hdbscan", "algorithm.params.min_cluster_size=20"],
        ["tracking.log_model=false", "tracking.run_name=nomodel"],
    ):
        res = run_cli(*common, *args, cwd=ROOT)
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""  # a quiet console: the model is logged from code, no library warning
    return tmp, uri


def runs(uri):
    client = MlflowClient(uri, registry_uri=uri)
    return client, client.search_runs([client.get_experiment_by_name("ecommerce").experiment_id])


def test_every_run_has_a_model_with_signature_and_example(trained):
    _, uri = trained
    client, rs = runs(uri)
    with_model = [r for r in rs if "rfmlab.model_uri" in r.data.tags]
    assert len(with_model) == 2
    import mlflow

    mlflow.set_tracking_uri(uri)
    info = mlflow.models.get_model_info(with_model[0].data.tags["rfmlab.model_uri"])
    names = {c.name for c in info.signature.inputs.inputs}
    assert {"customer_id", "recency", "frequency", "monetary", "InvoiceNo", "CustomerID"} <= names
    assert not any(c.required for c in info.signature.inputs.inputs)  # a customer table or a log
    assert [c.name for c in info.signature.outputs.inputs] == [
        "customer_id",
        "cluster",
        "segment",
        "is_outlier",
        "outlier_score",
    ]
    assert info.saved_input_example_info is not None


def test_promote_best_scores_and_reproduces_the_run(trained):
    tmp, uri = trained
    res = promote(
        "--best",
        "--experiment",
        "ecommerce",
        "--metric",
        "silhouette",
        "--filter",
        "tags.`rfmlab.algorithm` = 'kmeans'",
        "--tracking-uri",
        uri,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no "Successfully registered model" / "Created version" prints from MLflow
    assert "models:/rfm-segmenter@champion" in res.stdout
    client, rs = runs(uri)
    kmeans_run = [
        r for r in rs if r.data.tags.get("rfmlab.algorithm") == "kmeans" and "rfmlab.model_uri" in r.data.tags
    ][0]
    mv = client.get_model_version_by_alias("rfm-segmenter", "champion")
    assert mv.tags["run_id"] == kmeans_run.info.run_id
    assert float(mv.tags["metric.silhouette"]) == pytest.approx(kmeans_run.data.metrics["silhouette"])
    assert mv.tags["data.digest"] == kmeans_run.data.params["data.digest"]

    # score the training customers (a customer table): the run's own labels come back
    local = client.download_artifacts(kmeans_run.info.run_id, "tables/customers.parquet", str(tmp))
    train = pl.read_parquet(local)
    train.select("customer_id", "recency", "frequency", "monetary").write_csv(tmp / "customers.csv")
    res = score(
        "--model",
        "models:/rfm-segmenter@champion",
        "--input",
        str(tmp / "customers.csv"),
        "--output",
        str(tmp / "scored.parquet"),
        "--tracking-uri",
        uri,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no MLflow download bar or warning while loading the model
    scored = pl.read_parquet(tmp / "scored.parquet")
    assert scored.columns == ["customer_id", "cluster", "segment", "is_outlier", "outlier_score"]
    both = train.join(scored, on="customer_id", suffix="_new")
    assert both.height == 500 and (both["cluster"] == both["cluster_new"]).all()
    assert (both["segment"] == both["segment_new"]).all()

    # a transaction log of new customers, in the training layout, as of a date
    synthetic.ecommerce(n_customers=120, seed=77).write_parquet(tmp / "log.parquet")
    res = score(
        "--model",
        "models:/rfm-segmenter@champion",
        "--input",
        str(tmp / "log.parquet"),
        "--output",
        str(tmp / "log_scored.csv"),
        "--as-of",
        "2011-12-31",
        "--dataset",
        "ecommerce",
        "--tracking-uri",
        uri,
    )
    assert res.returncode == 0, res.stderr
    out = pl.read_csv(tmp / "log_scored.csv")
    assert out.height == 120 and set(out["segment"]) <= set(train["segment"])


def test_promote_refuses_runs_without_model_or_metric(trained):
    tmp, uri = trained
    _, rs = runs(uri)
    nomodel = [r for r in rs if r.info.run_name == "nomodel"][0]
    res = promote("--run-id", nomodel.info.run_id, "--tracking-uri", uri)
    assert res.returncode == 2 and "has no model" in res.stderr and "Traceback" not in res.stderr
    with_model = [r for r in rs if "rfmlab.model_uri" in r.data.tags][0]
    res = promote("--run-id", with_model.info.run_id, "--metric", "ari_vs_nothing", "--tracking-uri", uri)
    assert res.returncode == 2 and "no metric 'ari_vs_nothing'" in res.stderr
    (tmp / "x.csv").write_text("customer_id,recency,frequency,monetary\nc1,3,4,50\n")
    res = score("--model", "models:/nope@champion", "--input", str(tmp / "x.csv"), "--output", "y.csv",
                "--tracking-uri", uri)  # fmt: skip
    assert res.returncode == 2 and "cannot load models:/nope@champion" in res.stderr


def split(rows, columns=("customer_id", "recency", "frequency", "monetary")):
    """A ``dataframe_split`` request body (Python's json writes NaN as the literal MLflow's server accepts)."""
    return json.dumps({"dataframe_split": {"columns": list(columns), "data": rows}}).encode()


def post(port, body: bytes):
    """POST ``body`` to the served model's /invocations: (HTTP status, response text)."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def strict_json(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


ANSWER_KEYS = {"error_code", "message", "sqlstate", "error_class"}  # MLflow's error body: no stack_trace
BAD_BODIES = [  # (request body, words of the one-line answer)
    (split([["a", 3, 40]], columns=("customer_id", "recency", "frequency")), ["'monetary' missing"]),
    (split([["a", "abc", 40, 25.0]]), ["column 'recency' holds 'abc' in row 0"]),
    (split([["a", 3, 40, float("nan")]]), ["column 'monetary' has no value in row 0"]),
    (split([["a", 3, None, 25.0], ["b", 4, 2, 3.0]]), ["column 'frequency' has no value in row 0"]),
    (split([]), ["no rows"]),
]


def test_mlflow_models_serve_answers_with_segments(trained):
    tmp, uri = trained
    res = promote(
        "--best",
        "--experiment",
        "ecommerce",
        "--name",
        "served",
        "--filter",
        "tags.`rfmlab.algorithm` = 'kmeans'",
        "--tracking-uri",
        uri,
    )
    assert res.returncode == 0, res.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # mlflow runs `uvicorn` through the shell: the environment's bin/ must be on PATH
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            "models:/served@champion",
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp,
    )
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1)
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        status, text = post(port, split([["a", 3, 40, 25000.0], ["b", 300, 1, 12]]))
        assert status == 200, text
        preds = strict_json(text)["predictions"]  # strict: NaN or Infinity would raise
        assert [p["customer_id"] for p in preds] == ["a", "b"]
        assert all(isinstance(p["cluster"], int) and p["segment"] for p in preds)
        assert preds[0]["segment"] != preds[1]["segment"]  # a champion is not a lapsed one-off buyer
        assert [p["outlier_score"] for p in preds] == [None, None]  # kmeans has none: null, not NaN
        for body, words in BAD_BODIES:
            status, text = post(port, body)
            answer = strict_json(text)
            assert status == 400 and answer["error_code"] == "INVALID_PARAMETER_VALUE", text
            message = answer["message"]
            assert "\n" not in message.strip() and len(message) < 200 and set(answer) <= ANSWER_KEYS, text
            assert "Traceback" not in text and "site-packages" not in text and ".py" not in text, text
            assert all(w in message for w in words), message
        # an empty body never reaches the model: MLflow's own answer, a JSON 400 without a stack trace
        status, text = post(port, b"")
        answer = strict_json(text)
        assert status == 400 and answer["error_code"] == "BAD_REQUEST" and set(answer) <= ANSWER_KEYS, text
        assert "valid JSON" in answer["message"] and "Traceback" not in text and ".py" not in text, text
    finally:
        server.terminate()
        server.wait(timeout=30)
