"""Finding runs again: whether a run exists, a sweep's runs, the top-level runs of an experiment or a list, a run's
customer table."""

from __future__ import annotations

import tempfile

from rfmlab.mlflow_edge import catalog
from rfmlab.mlflow_edge.tracking import mlflow_module


def run_exists(uri: str, run_id: str) -> bool:
    mlflow = mlflow_module()
    try:
        mlflow.MlflowClient(uri).get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return False
    return True


def sweep_runs(uri: str, sweep_id: str) -> list:
    """Top-level runs (searches or single fits) of one sweep, across experiments, oldest first."""
    mlflow = mlflow_module()
    client = mlflow.MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    if not exps:
        return []
    runs = client.search_runs(exps, filter_string=f"tags.`rfmlab.sweep_id` = '{sweep_id}'", max_results=5000)
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return sorted(top, key=lambda r: r.info.start_time)


def find_runs(uri: str, *, experiment: str | None = None, sweep: str | None = None, run_ids: list[str] | None = None):
    """Top-level FINISHED runs to compare (no trial children, no earlier comparison runs)."""
    mlflow = mlflow_module()
    client = mlflow.MlflowClient(uri)
    if run_ids:
        runs = [client.get_run(r) for r in run_ids]
    else:
        if experiment:
            exp = client.get_experiment_by_name(experiment)
            if exp is None:
                from rfmlab.errors import RfmlabError

                raise RfmlabError(f"no experiment {experiment!r} in {uri}")
            exps = [exp.experiment_id]
        else:
            exps = [e.experiment_id for e in client.search_experiments()]
        flt = "attributes.status = 'FINISHED'" + (f" and tags.`rfmlab.sweep_id` = '{sweep}'" if sweep else "")
        runs = client.search_runs(exps, filter_string=flt, max_results=5000)
    return [
        r for r in runs if "mlflow.parentRunId" not in r.data.tags and r.data.tags.get("rfmlab.kind") != "comparison"
    ]


def experiment_name(uri: str, experiment_id: str) -> str:
    return mlflow_module().MlflowClient(uri).get_experiment(experiment_id).name


def load_table(uri: str, run_id: str, *, path: str = catalog.CUSTOMERS):
    """A polars frame from a run's parquet artifact (None when the run has none)."""
    import polars as pl

    from rfmlab.mlflow_edge.runs import download

    with tempfile.TemporaryDirectory() as tmp:
        local = download(uri, run_id, path=path, dst=tmp)
        return None if local is None else pl.read_parquet(local)
