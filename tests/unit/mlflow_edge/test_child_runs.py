"""Child runs: the batched SQL path writes what MLflow's own client writes, and the background writer drains."""

from __future__ import annotations

import time

import pytest

from rfmlab.mlflow_edge import child_runs, tracking


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    exp = tracking.ensure_experiment("children", uri)
    parent = child_runs.log_child_run(
        uri, experiment_id=exp, parent_run_id="", name="parent", params={}, metrics={}, tags={}
    )
    return uri, exp, parent


def _run(uri, exp, parent, i, **kw):
    return child_runs.ChildRun(
        uri=uri, experiment_id=exp, parent_run_id=parent, name=f"trial-{i}",
        params={"algorithm.params.n_clusters": i, "fit.method": "exact"},
        metrics={"silhouette": 0.1 * i, "davies_bouldin": float("nan")}, tags={"optuna.trial_number": str(i)}, **kw,
    )  # fmt: skip


def _view(run) -> dict:
    tags = {k: v for k, v in run.data.tags.items() if k != "mlflow.user"}
    return {
        "name": run.info.run_name, "status": run.info.status, "start": run.info.start_time,
        "end": run.info.end_time, "params": run.data.params, "metrics": run.data.metrics, "tags": tags,
        "lifecycle": run.info.lifecycle_stage, "artifacts_under_run": run.info.artifact_uri.endswith(
            f"{run.info.run_id}/artifacts"),
    }  # fmt: skip


def test_batched_insert_equals_mlflows_own_client(store):
    uri, exp, parent = store
    client = tracking.mlflow_module().MlflowClient(uri)
    times = {"start_ms": 1_700_000_000_000, "end_ms": 1_700_000_004_000}
    own = child_runs._log_one(_run(uri, exp, parent, 3, failed=True, **times))
    [bulk] = child_runs.log_child_runs([_run(uri, exp, parent, 3, failed=True, **times)])
    a, b = _view(client.get_run(own)), _view(client.get_run(bulk))
    assert a == b
    assert b["status"] == "FAILED" and b["end"] - b["start"] == 4000
    assert b["metrics"] == {"silhouette": pytest.approx(0.3)}  # NaN metrics left out, as log_batch callers do
    assert b["tags"]["mlflow.parentRunId"] == parent
    history = client.get_metric_history(bulk, "silhouette")
    assert [(m.value, m.step, m.timestamp) for m in history] == [(pytest.approx(0.3), 0, times["end_ms"])]
    found = client.search_runs([exp], "metrics.silhouette > 0.25 and params.`fit.method` = 'exact'")
    assert {r.info.run_id for r in found} == {own, bulk}


def test_writer_drains_every_submitted_run_on_close(store):
    uri, exp, parent = store
    writer = child_runs.ChildRunWriter(every=60.0)  # no timed flush: close() must write the batch
    t = time.perf_counter()
    with writer:
        for i in range(40):
            writer.submit(**vars(_run(uri, exp, parent, i)))
    assert time.perf_counter() - t < 30  # did not wait for the 60 s flush
    assert writer.errors == []
    assert child_runs.child_trial_numbers(uri, exp, parent) == set(range(40))


def test_writer_reports_a_failed_batch_and_keeps_going(store):
    uri, exp, parent = store
    with child_runs.ChildRunWriter(every=0.0) as writer:
        writer.submit(**vars(_run(uri, "987654", parent, 1)))  # no such experiment
        time.sleep(0.5)
        writer.submit(**vars(_run(uri, exp, parent, 2)))
    assert len(writer.errors) == 1 and "987654" in writer.errors[0]
    assert child_runs.child_trial_numbers(uri, exp, parent) == {2}


def test_processes_reopening_one_parent_at_once_do_not_collide(store):
    """Workers of one shared study reopen the parent together; each marks it resumed. MLflow's set_tag is a
    select-then-insert that fails with a unique-key error when two race (seen on PostgreSQL in CI, and
    reproduced here on SQLite with threads in 10 of 20 rounds); the reopening must not."""
    import threading

    import mlflow

    uri, exp, _ = store
    for _ in range(5):
        parent = child_runs.log_child_run(
            uri, experiment_id=exp, parent_run_id="", name="parent", params={}, metrics={}, tags={}
        )
        errors, barrier = [], threading.Barrier(6)

        def reopen(run_id=parent, barrier=barrier, errors=errors):
            barrier.wait()
            try:
                with tracking.start_run(uri, experiment="children", run_id=run_id) as handle:
                    handle.log_params({"search.study_name": "shared"}, only_new=True)
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                errors.append(e)

        threads = [threading.Thread(target=reopen) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        run = mlflow.MlflowClient(uri).get_run(parent)
        assert run.data.tags["rfmlab.resumed"] == "true"
        assert run.data.params["search.study_name"] == "shared"
