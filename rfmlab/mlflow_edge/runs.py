"""A run read back whole, for the Python API's ``load_run``: its record (status, metrics, params, tags), its
artifact list and single artifacts downloaded on demand."""

from __future__ import annotations

from pathlib import Path

from rfmlab.errors import RfmlabError
from rfmlab.mlflow_edge.tracking import mlflow_module


def read_run(uri: str, run_id: str) -> dict:
    """A run's record as plain values; an unknown id is a one-line RfmlabError."""
    mlflow = mlflow_module()
    client = mlflow.MlflowClient(uri)
    try:
        run = client.get_run(run_id)
    except mlflow.exceptions.MlflowException as e:
        raise RfmlabError(f"no run {run_id!r} in {uri}; check the run id (rfmlab-compare lists runs)") from e
    exp = client.get_experiment(run.info.experiment_id)
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "experiment_id": run.info.experiment_id,
        "experiment": exp.name if exp else None,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
        "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.") or k == "mlflow.parentRunId"},
    }


def artifacts(uri: str, run_id: str, *, folder: str | None = None) -> list[str]:
    """Every artifact path of a run under ``folder`` (recursively), files only."""
    client = mlflow_module().MlflowClient(uri)
    out, todo = [], [folder]
    while todo:
        for f in client.list_artifacts(run_id, todo.pop()):
            (todo if f.is_dir else out).append(f.path)
    return sorted(out)


def download(uri: str, run_id: str, *, path: str, dst: str | Path) -> Path | None:
    """One artifact of a run downloaded into ``dst``; None when the run has no such artifact."""
    mlflow = mlflow_module()
    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=path, dst_path=str(dst), tracking_uri=uri
        )
    except (mlflow.exceptions.MlflowException, OSError):
        return None
    return Path(local)
