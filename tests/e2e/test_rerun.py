"""rfmlab-rerun: a run re-executed from its record gives identical metrics and labels; a changed input is
reported (exit 3); what cannot be re-run is refused in one line."""

import polars as pl
import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient

from rfmlab.data import synthetic

pytestmark = pytest.mark.slow
SMALL = ["dataset.synthetic.n_customers=500", "plots.enabled=false"]


def rerun(*args):
    return run_cli(*args, cwd=ROOT, module="rfmlab.cli.rerun")


def top_runs(uri):
    client = MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps, order_by=["attributes.start_time ASC"])
    return client, [r for r in runs if "mlflow.parentRunId" not in r.data.tags]


@pytest.mark.parametrize(
    "args",
    [["search=none"], ["search=none", "algorithm=hdbscan", "algorithm.params.min_cluster_size=15"],
     ["search.n_trials=5"]],
    ids=["kmeans", "hdbscan", "search"],
)  # fmt: skip
def test_rerun_reproduces_metrics_and_labels(tmp_path, args):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    storage = [] if "search=none" in args else [f"search.storage={tmp_path}/optuna.journal"]
    res = run_cli(*SMALL, *args, f"tracking.uri={uri}", *storage, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    client, (original,) = top_runs(uri)
    res = rerun(original.info.run_id, "--tracking-uri", uri)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "identical" in res.stdout and "500 of 500 customers in the same cluster" in res.stdout
    _, runs = top_runs(uri)
    (new,) = [r for r in runs if r.info.run_id != original.info.run_id]
    assert new.data.tags["rfmlab.rerun_of"] == original.info.run_id
    assert new.data.tags["rfmlab.rerun_identical"] == "true"
    timing = {"search_seconds"}
    assert {k: v for k, v in new.data.metrics.items() if k not in timing} == {
        k: v for k, v in original.data.metrics.items() if k not in timing
    }
    assert new.data.params["data.digest"] == original.data.params["data.digest"]


def test_rerun_reports_changed_data_and_refuses_what_it_cannot_rerun(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    log = tmp_path / "log.parquet"
    synthetic.ecommerce(n_customers=300, seed=5).write_parquet(log)
    res = run_cli("dataset.synthetic.n_customers=300", "search=none", "plots.enabled=false", f"dataset.path={log}",
                  f"tracking.uri={uri}", cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    _, (original,) = top_runs(uri)
    synthetic.ecommerce(n_customers=320, seed=6).write_parquet(log)  # the file changed since
    res = rerun(original.info.run_id, "--tracking-uri", uri)
    assert res.returncode == 3
    assert "the data changed" in res.stdout and "DIFFERENT" in res.stdout
    # a trial run, an unknown id: one line each, exit 2
    res = run_cli("dataset.synthetic.n_customers=300", "search.n_trials=3", "plots.enabled=false",
                  "search.k_report.enabled=false", f"tracking.uri={uri}", f"search.storage={tmp_path}/optuna.journal",
                  cwd=ROOT)  # fmt: skip
    client = MlflowClient(uri)
    child = next(r for r in client.search_runs([e.experiment_id for e in client.search_experiments()])
                 if "mlflow.parentRunId" in r.data.tags)  # fmt: skip
    res = rerun(child.info.run_id, "--tracking-uri", uri)
    assert res.returncode == 2 and "is a search trial; re-run its search instead" in res.stderr
    assert child.data.tags["mlflow.parentRunId"] in res.stderr and "Traceback" not in res.stderr
    res = rerun("0123456789abcdef", "--tracking-uri", uri)
    assert res.returncode == 2 and "no run '0123456789abcdef'" in res.stderr
    assert pl.read_parquet(log).height > 0
