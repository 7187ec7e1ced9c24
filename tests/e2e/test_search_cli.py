"""End-to-end searches through the CLI: MLflow parent/child layout, multi-objective choice and resume, shared
studies, sweeps (stopped searches: test_search_stops.py)."""

import time
from pathlib import Path

import optuna
import polars as pl
import pytest
from helpers import ROOT, run_cli, spawn_cli
from mlflow.tracking import MlflowClient
from searches import finished, runs_of, slow_search, stores

from rfmlab import evaluate
from rfmlab.search import studies

pytestmark = pytest.mark.slow
optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_search_logs_parent_with_best_refit_and_one_child_per_trial(tmp_path):
    uri, storage = stores(tmp_path)
    res = run_cli(
        "dataset.synthetic.n_customers=600",
        "plots.max_points=300",
        "search.n_trials=12",
        f"tracking.uri={uri}",
        f"search.storage={storage}",
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert "best silhouette" in res.stdout and "best trial" in res.stdout
    client, parents, children = runs_of(uri, "ecommerce")
    (parent,) = parents
    assert parent.info.status == "FINISHED" and len(children) == 12
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    assert sorted(int(c.data.tags["optuna.trial_number"]) for c in children) == list(range(12))
    for c in children:
        assert "n_clusters" in c.data.params and c.data.tags["optuna.state"] in ("COMPLETE", "PRUNED")
        assert "silhouette" in c.data.metrics and not client.list_artifacts(c.info.run_id)
        # a child run spans its trial: MLflow's duration column is the trial's time
        assert c.info.end_time - c.info.start_time == pytest.approx(c.data.metrics["trial_seconds"] * 1000, abs=50)
    done = [c for c in children if c.data.tags["optuna.state"] == "COMPLETE"]
    best = max(done, key=lambda c: c.data.metrics["silhouette"])
    assert parent.data.params["best.n_clusters"] == best.data.params["n_clusters"]
    # the parent's algorithm.params.* are the refitted model's (what the UI's params columns compare);
    # the config's defaults are kept under algorithm.config_params.*
    assert parent.data.params["algorithm.params.n_clusters"] == best.data.params["n_clusters"]
    assert parent.data.params["algorithm.config_params.n_clusters"] == "5"
    assert parent.data.params["fit.method"] == "exact"
    assert parent.data.metrics["silhouette"] == pytest.approx(best.data.metrics["silhouette"])
    assert parent.data.metrics["n_trials_complete"] + parent.data.metrics["n_trials_pruned"] == 12
    files = {f.path for f in client.list_artifacts(parent.info.run_id, "search")}
    assert {
        "search/optimization_history.png",
        "search/charts.html",
        "search/elbow.png",
        "search/slice.png",
        "search/param_importances.png",
    } <= files
    tables = {f.path for f in client.list_artifacts(parent.info.run_id, "tables")}
    assert "tables/customers.parquet" in tables and "tables/profile.csv" in tables
    note = parent.data.tags["mlflow.note.content"]  # the parent's Overview page: trials and the chosen one
    counts = {k: int(parent.data.metrics[f"n_trials_{k}"]) for k in ("complete", "pruned", "failed")}
    assert f"**Search** 12 trials ({counts['complete']} complete, {counts['pruned']} pruned" in note
    assert f"chosen: trial {parent.data.tags['best.trial']} (silhouette {best.data.metrics['silhouette']:.4g};" in note
    assert f"n_clusters={best.data.params['n_clusters']}" in note
    # the number-of-clusters report: every k of the space, six criteria, each one's pick, printed beside the chosen k
    local = client.download_artifacts(parent.info.run_id, "search/n_clusters.csv", str(tmp_path))
    report = pl.read_csv(local)
    assert report["k"].to_list() == list(range(1, 13)) and "search/n_clusters.png" in files  # k=1: the gap only
    picks = evaluate.k_picks(report)
    assert {f"k_pick_{c}": float(k) for c, k in picks.items() if k is not None}.items() <= parent.data.metrics.items()
    assert "number of clusters: each criterion's pick" in res.stdout and "Number of clusters preferred" in note
    for criterion, k in picks.items():
        assert f"{criterion}" in res.stdout and (k is None or f"{criterion} k={k}" in note)


def test_multi_objective_search_logs_its_pareto_front_and_the_choice_and_resumes(tmp_path):
    uri, storage = stores(tmp_path)
    args = [
        "dataset.synthetic.n_customers=800",
        "plots.max_points=300",
        "search.objectives=[silhouette,stability]",
        "search.select.rule=best",
        "search.select.metric=silhouette",
        "search.select.floor.stability=0.8",
        "search.n_workers=2",
        "search.k_report.enabled=false",
        "evaluation.stability.n_resamples=6",
        "algorithm.search_space.n_clusters.high=9",
        f"tracking.uri={uri}",
        f"search.storage={storage}",
    ]
    res = run_cli(*args, "search.n_trials=10", cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "Pareto front" in res.stdout and "chosen by search.select (best)" in res.stdout
    res = run_cli(*args, "search.n_trials=14", "search.resume=true", cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr
    study, done = finished(storage)
    assert len(done) == 14 and [d.name for d in study.directions] == ["MAXIMIZE", "MAXIMIZE"]
    client, (parent,), children = runs_of(uri, "ecommerce")
    assert len(children) == 14 and parent.data.tags["rfmlab.resumed"] == "true"
    front = {int(c.data.tags["optuna.trial_number"]) for c in children if c.data.tags["optuna.pareto_front"] == "true"}
    assert front == {t.number for t in studies.pareto_front(study)}
    (chosen,) = [c for c in children if c.data.tags["rfmlab.chosen"] == "true"]
    assert chosen.data.tags["optuna.trial_number"] == parent.data.tags["best.trial"]
    m = chosen.data.metrics  # the best silhouette among the front trials with stability >= 0.8
    eligible = [c.data.metrics for c in children if int(c.data.tags["optuna.trial_number"]) in front]
    eligible = [e for e in eligible if e["stability"] >= 0.8] or eligible
    assert m["silhouette"] == max(e["silhouette"] for e in eligible)
    assert parent.data.metrics["best_silhouette"] == m["silhouette"]
    assert parent.data.metrics["best_stability"] == m["stability"]
    assert parent.data.tags["search.selection"].startswith(("best silhouette", "no front trial"))
    files = {f.path for f in client.list_artifacts(parent.info.run_id, "search")}
    assert {"search/pareto_front.png", "search/charts.html", "search/pareto_front.csv"} <= files
    page = Path(client.download_artifacts(parent.info.run_id, "search/charts.html", str(tmp_path))).read_text()
    assert "<h2 id='pareto_front'>" in page and "<h2 id='optimization_history_stability'>" in page
    assert {"search/optimization_history_silhouette.png", "search/optimization_history_stability.png"} <= files
    assert "Chosen from the Pareto front" in parent.data.tags["mlflow.note.content"]


def test_dbscan_search_derives_eps_and_draws_the_k_distance_chart(tmp_path):
    uri, storage = stores(tmp_path)
    res = run_cli(
        "algorithm=dbscan",
        "dataset.synthetic.n_customers=1500",
        "plots.max_points=300",
        "search.n_trials=15",
        "search.max_noise=0.9",
        "search.min_cluster_share=0",
        f"tracking.uri={uri}",
        f"search.storage={storage}",
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    client, (parent,), _ = runs_of(uri, "ecommerce")
    space = parent.data.params["search.space.eps"]
    assert "'low': None" not in space and "'high': None" not in space
    assert "search/k_distance.png" in {f.path for f in client.list_artifacts(parent.info.run_id, "search")}


def test_two_local_workers_share_one_study(tmp_path):
    uri, storage = stores(tmp_path)
    res = run_cli(
        "algorithm=agglomerative",
        "dataset.synthetic.n_customers=1500",
        "plots.enabled=false",
        "search.n_trials=30",
        "search.n_workers=2",
        "algorithm.search_space.n_clusters.high=40",
        "search.k_report.enabled=false",
        f"tracking.uri={uri}",
        f"search.storage={storage}",
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    _, done = finished(storage)
    assert len(done) == 30 and len({t.number for t in done}) == 30
    _, (parent,), children = runs_of(uri, "ecommerce")
    assert len(children) == 30
    workers = {c.data.tags["rfmlab.worker"] for c in children}
    assert len(workers) == 2, workers


def test_params_another_process_logs_meanwhile_are_read_again(tmp_path, monkeypatch):
    """Two processes sharing a study log best.* to one parent run; the loser of MLflow's check-then-insert race
    (seen in CI: UNIQUE constraint failed: params.key) reads the run again instead of failing the job."""
    from mlflow.entities import Param
    from mlflow.exceptions import MlflowException

    from rfmlab.mlflow_edge import tracking

    uri, _ = stores(tmp_path)
    real = MlflowClient.log_batch
    raced = []

    def racing(self, run_id, metrics=(), params=(), tags=(), **kw):
        if params and not raced:  # the other process inserts first; this insert then hits the unique key
            raced.append(run_id)
            real(MlflowClient(uri), run_id, params=[Param("best.k", "3")])
            raise MlflowException("(sqlite3.IntegrityError) UNIQUE constraint failed: params.key, params.run_uuid")
        return real(self, run_id, metrics=metrics, params=params, tags=tags, **kw)

    with tracking.start_run(uri, experiment="race") as handle:
        monkeypatch.setattr(MlflowClient, "log_batch", racing)
        changed = handle.log_params({"best.k": 4, "best.linkage": "ward"}, only_new=True)
        monkeypatch.undo()
        with pytest.raises(MlflowException, match="Changing param values"):
            handle.log_params({"best.linkage": "single"})  # without only_new a real clash still fails
    assert raced == [handle.run_id]
    assert changed == {"best.k": "3"}
    assert MlflowClient(uri).get_run(handle.run_id).data.params == {"best.k": "3", "best.linkage": "ward"}


def test_two_separate_processes_contribute_to_one_named_study(tmp_path):
    uri, storage = stores(tmp_path)
    args = [*slow_search(uri, storage), "search.study_name=shared"]
    a = spawn_cli(*args)
    deadline = time.time() + 240
    while time.time() < deadline and a.poll() is None and len(finished(storage, "shared")[1]) < 1:
        time.sleep(0.2)
    assert a.poll() is None, a.communicate()[1]
    b = spawn_cli(*args)
    _, err_a = a.communicate(timeout=600)
    _, err_b = b.communicate(timeout=600)
    assert a.returncode == 0, err_a
    assert b.returncode == 0, err_b
    _, done = finished(storage, "shared")
    # processes that share a study by name stop on its count: at most one extra trial per extra process
    assert 40 <= len(done) <= 41 and len({t.number for t in done}) == len(done)
    _, parents, children = runs_of(uri, "ecommerce")
    assert len(parents) == 1  # the second process joined the first one's parent run
    pids = {c.data.tags["rfmlab.worker"].split(":")[1] for c in children}
    assert pids == {str(a.pid), str(b.pid)}
    assert sorted(int(c.data.tags["optuna.trial_number"]) for c in children) == sorted(t.number for t in done)


@pytest.mark.parametrize("launcher", ["basic", "joblib"])
def test_sweep_runs_every_combination_as_its_own_search_under_one_sweep_id(tmp_path, launcher):
    """The joblib variant also runs each search with two objectives (a sweep of multi-objective searches)."""
    uri, storage = stores(tmp_path)
    multi = ["search.objectives=[silhouette,stability]"] if launcher == "joblib" else []
    res = run_cli(
        "-m",
        f"hydra/launcher={launcher}",
        "dataset=ecommerce,stock_market",
        "algorithm=kmeans,agglomerative",
        "dataset.synthetic.n_customers=400",
        "plots.enabled=false",
        "search.n_trials=4",
        "search.k_report.enabled=false",
        f"tracking.uri={uri}",
        f"search.storage={storage}",
        *multi,
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert "best trial per search" in res.stdout
    sweep_ids, combos = set(), set()
    for exp in ("ecommerce", "stock_market"):
        _, parents, children = runs_of(uri, exp)
        assert len(children) == 4 * len(parents)
        for p in parents:
            sweep_ids.add(p.data.tags["rfmlab.sweep_id"])
            combos.add((p.data.tags["rfmlab.dataset"], p.data.tags["rfmlab.algorithm"]))
            assert p.info.status == "FINISHED"
            if multi:  # each search chose from its own front and said why
                assert 1 <= p.data.metrics["pareto_front_size"] <= 4
                assert p.data.tags["search.selection"] and "best_stability" in p.data.metrics
                assert all("stability" in c.data.metrics for c in children if c.info.status == "FINISHED")
    assert len(sweep_ids) == 1 and len(combos) == 4
    assert f"tags.rfmlab.sweep_id = '{sweep_ids.pop()}'" in res.stdout


@pytest.mark.parametrize("store", ["sqlite", "journal"])
def test_processes_started_at_the_same_instant_make_one_parent_and_one_child_per_trial(tmp_path, store):
    uri = f"sqlite:///{tmp_path}/mlflow.db"  # a fresh local MLflow store, created by the racing processes
    storage = f"sqlite:///{tmp_path}/optuna.db" if store == "sqlite" else str(tmp_path / "optuna.journal")
    args = [*slow_search(uri, storage, n_trials=18), "search.study_name=together"]
    procs = [spawn_cli(*args) for _ in range(3)]  # no waiting between them
    errs = [p.communicate(timeout=600)[1] for p in procs]
    for p, err in zip(procs, errs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    study = optuna.load_study(study_name="together", storage=studies.storage_for(storage))
    done = studies.finished_trials(study)
    assert 18 <= len(done) <= 18 + 2 and len({t.number for t in done}) == len(done)
    _, parents, children = runs_of(uri, "ecommerce")
    (parent,) = parents  # one parent run for the three processes
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parent.info.run_id}
    numbers = sorted(int(c.data.tags["optuna.trial_number"]) for c in children)
    assert numbers == sorted(t.number for t in done)  # exactly one child run per finished trial
    assert parent.data.metrics["n_trials_complete"] + parent.data.metrics["n_trials_pruned"] >= 18
