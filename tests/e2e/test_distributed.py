"""The several-machines recipe (docs/guides/several-machines.md), for real: a PostgreSQL server holding the MLflow
store and the Optuna study, an ``mlflow server`` on top of it, and three ``rfmlab`` processes started together on
one study name, one of them killed mid-search."""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from helpers import ROOT
from mlflow.tracking import MlflowClient
from servers import mlflow_server, postgres

from rfmlab.mlflow_edge import tracking
from rfmlab.search import studies

pytestmark = pytest.mark.slow
N_TRIALS = 24


def start(tracking: str, storage: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["MLFLOW_TRACKING_URI"] = tracking  # as the recipe: the server comes from the environment
    args = [
        "algorithm=agglomerative", "dataset.synthetic.n_customers=2500", "plots.enabled=false",
        "tracking.log_model=false", f"search.n_trials={N_TRIALS}", "algorithm.search_space.n_clusters.high=40",
        "search.k_report.enabled=false", "search.study_name=shared-pg", f"search.storage={storage}",
    ]  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "rfmlab.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finished(storage: str):
    study = optuna.load_study(study_name="shared-pg", storage=storage)
    return study, studies.finished_trials(study)  # a trial failed because its process died does not count


def test_three_processes_on_postgres_and_a_tracking_server_share_one_parent(tmp_path):
    with postgres(("mlflow", "optuna")) as pg, mlflow_server(f"{pg}/mlflow", tmp_path / "art") as url:
        storage = f"{pg}/optuna"
        procs = [start(url, storage) for _ in range(3)]  # within a second of each other
        deadline = time.time() + 300
        while time.time() < deadline:  # kill one process once the study has a few finished trials
            time.sleep(0.3)
            try:
                if len(finished(storage)[1]) >= 4:
                    break
            except (KeyError, optuna.exceptions.StorageInternalError):  # the study or its tables not there yet
                continue
        victim = procs[2]
        assert victim.poll() is None, victim.communicate()[1]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        outs = [p.communicate(timeout=600) for p in procs[:2]]
        for p, (out, err) in zip(procs[:2], outs, strict=True):
            assert p.returncode == 0, err
            assert url in out and "127.0.0.1:5000" not in out  # links and hints point at the server in use
        study, done = finished(storage)
        best = study.best_trial  # read while the server runs
        client = MlflowClient(url)
        exp = client.get_experiment_by_name("ecommerce")
        runs = client.search_runs([exp.experiment_id], max_results=1000)
        parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
        children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]

    (parent,) = parents  # exactly one parent run for the three processes
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    # n_trials finished (at most one more per process that joined by name), none lost to the kill
    assert N_TRIALS <= len(done) <= N_TRIALS + 3
    numbers = sorted(int(c.data.tags["optuna.trial_number"]) for c in children)
    assert numbers == sorted(t.number for t in done)  # exactly one child run per finished trial
    workers = {c.data.tags["rfmlab.worker"].split(":")[1] for c in children}
    assert {str(p.pid) for p in procs[:2]} <= workers
    assert parent.data.params["search.study_name"] == "shared-pg"
    assert int(parent.data.tags["best.n_clusters"]) == best.params["n_clusters"]
    assert parent.data.tags["best.linkage"] == best.params["linkage"]
    assert parent.data.params["search.storage"] == storage  # no password to hide here (see test_redact)


def test_redact_hides_passwords_in_storage_urls():
    assert (
        tracking.redact("postgresql://optuna:s3cret@db-host:5432/optuna")
        == "postgresql://optuna:***@db-host:5432/optuna"
    )
    assert tracking.redact("postgresql://rfmlab@127.0.0.1/optuna") == "postgresql://rfmlab@127.0.0.1/optuna"
    assert tracking.redact("sqlite:////tmp/x/optuna.db") == "sqlite:////tmp/x/optuna.db"
