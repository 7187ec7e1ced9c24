"""MLflow edge: the only module that imports mlflow.

Store: ``tracking.uri`` if set, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<root>/mlruns/mlflow.db``
with artifacts under ``<root>/mlruns/artifacts``. Experiments are tagged
``mlflow.experimentKind=custom_model_development`` so MLflow 3's UI opens them on the runs table.

Artifact layout of a run: ``config/`` (resolved YAML), ``data/`` (cleaning report), ``tables/``
(customers.parquet, customers.csv, profile.csv), ``plots/`` (PNG and HTML), ``error.txt`` on failure.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import subprocess
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import rfmlab

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
UI_QUERY = "?workflowType=machine_learning"

for _name in ("alembic", "mlflow.store.db.utils", "mlflow.tracking.fluent", "mlflow.store"):
    logging.getLogger(_name).setLevel(logging.WARNING)


def _mlflow():
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    import mlflow

    return mlflow


def store_uri(uri: str | None = None, root: str | Path | None = None) -> str:
    if uri:
        return uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    root = Path(root or Path.cwd()).resolve()
    (root / "mlruns").mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"


def _artifact_location(uri: str, name: str) -> str | None:
    """Artifacts of a local SQLite store live beside it under mlruns/artifacts/<experiment>."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///") :])
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return (db.parent / "artifacts" / safe).resolve().as_uri()


def ensure_experiment(name: str, uri: str) -> str:
    mlflow = _mlflow()
    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is None:
        try:
            exp_id = client.create_experiment(
                name, artifact_location=_artifact_location(uri, name), tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
            )
        except mlflow.exceptions.MlflowException:  # created meanwhile by a parallel worker
            exp_id = client.get_experiment_by_name(name).experiment_id
        return exp_id
    if exp.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
        client.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
    return exp.experiment_id


def git_commit(path: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path or Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}{UI_QUERY}"


def flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)[:6000]
    return out


@dataclass
class RunHandle:
    run_id: str
    experiment_id: str
    experiment_name: str
    uri: str

    # --- logging helpers (all go to this run, active or not) ---
    def _client(self):
        return _mlflow().MlflowClient(self.uri)

    def log_params(self, params: dict[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, str(v)[:6000]) for k, v in params.items()]
        client = self._client()
        for i in range(0, len(items), 100):
            client.log_batch(self.run_id, params=items[i : i + 100])

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        import time

        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = [
            Metric(k, float(v), ts, step) for k, v in metrics.items() if v is not None and not math.isnan(float(v))
        ]
        if items:
            self._client().log_batch(self.run_id, metrics=items)

    def set_tags(self, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        self._client().log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def log_text(self, text: str, path: str) -> None:
        self._client().log_text(self.run_id, text, path)

    def log_dict(self, d: dict, path: str) -> None:
        self._client().log_dict(self.run_id, d, path)

    def log_figure(self, fig, path: str) -> None:
        self._client().log_figure(self.run_id, fig, path, save_kwargs={"dpi": 110})

    def log_dir(self, local: Path, path: str) -> None:
        self._client().log_artifacts(self.run_id, str(local), path)

    def log_input(self, df, name: str, source: str, digest: str, context: str = "training") -> None:
        mlflow = _mlflow()
        from mlflow.data.code_dataset_source import CodeDatasetSource

        if source.startswith("synthetic:"):
            src = CodeDatasetSource(tags={"generator": f"rfmlab.data.synthetic.{source.split(':', 1)[1]}"})
        else:
            src = Path(source).expanduser().resolve().as_uri()
        ds = mlflow.data.from_polars(df.head(1000), source=src, name=name, digest=digest[:36])
        self._client().log_inputs(
            self.run_id,
            datasets=[
                mlflow.entities.DatasetInput(
                    ds._to_mlflow_entity(), tags=[mlflow.entities.InputTag("mlflow.data.context", context)]
                )
            ],
        )


@contextlib.contextmanager
def start_run(
    uri: str,
    experiment: str,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    parent_run_id: str | None = None,
) -> Iterator[RunHandle]:
    """A run that ends FINISHED, or FAILED (KILLED on Ctrl-C) with ``error.txt`` and an ``rfmlab.error`` tag.

    Nothing logged before the failure is lost: artifacts are written as each stage finishes.
    """
    mlflow = _mlflow()
    exp_id = ensure_experiment(experiment, uri)
    client = mlflow.MlflowClient(uri)
    all_tags = {"rfmlab.version": rfmlab.__version__, **(tags or {})}
    commit = git_commit()
    if commit:
        all_tags["mlflow.source.git.commit"] = commit
    if parent_run_id:
        all_tags["mlflow.parentRunId"] = parent_run_id
    run = client.create_run(exp_id, run_name=run_name, tags=all_tags)
    handle = RunHandle(run.info.run_id, exp_id, experiment, uri)
    try:
        yield handle
    except BaseException as e:
        status = "KILLED" if isinstance(e, KeyboardInterrupt) else "FAILED"
        with contextlib.suppress(Exception):
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            handle.log_text("".join(traceback.format_exception(e)), "error.txt")
            handle.set_tags({"rfmlab.error": f"{type(e).__name__}: {first}"[:5000]})
        with contextlib.suppress(Exception):
            client.set_terminated(handle.run_id, status)
        raise
    else:
        client.set_terminated(handle.run_id, "FINISHED")


def log_table(handle: RunHandle, frames: dict[str, object], path: str = "tables") -> None:
    """Write polars frames as ``name.parquet`` / ``name.csv`` (by the name's suffix) under ``path``."""
    with tempfile.TemporaryDirectory() as tmp:
        for fname, df in frames.items():
            target = Path(tmp) / fname
            if fname.endswith(".parquet"):
                df.write_parquet(target)
            else:
                df.write_csv(target)
        handle.log_dir(Path(tmp), path)
