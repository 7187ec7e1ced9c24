"""Re-execution edge: a run's record (its resolved config, data digest, rfmlab version and git commit) read
back from MLflow to run it again, and the two runs compared: metrics and every customer's cluster."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl
import yaml

from rfmlab.errors import RfmlabError
from rfmlab.mlflow_edge import catalog
from rfmlab.mlflow_edge.tracking import mlflow_module

TIMINGS = ("search_seconds", "trial_seconds")  # wall times: never identical, not compared


@dataclass(kw_only=True)
class Record:
    run_id: str
    config: dict
    digest: str | None
    version: str | None
    commit: str | None


def record(uri: str, run_id: str) -> Record:
    """What the run recorded to be re-executed; refuses a trial (child) run or a run without its config."""
    client = mlflow_module().MlflowClient(uri)
    mlflow_module().set_tracking_uri(uri)  # runs:/ artifact URIs resolve against it
    try:
        run = client.get_run(run_id)
    except Exception as e:  # noqa: BLE001 - MLflow raises its own exception types per store
        raise RfmlabError(f"no run {run_id!r} in {uri}; copy the id from the MLflow UI or the run's summary") from e
    if "mlflow.parentRunId" in run.data.tags:
        parent = run.data.tags["mlflow.parentRunId"]
        raise RfmlabError(f"run {run_id} is a search trial; re-run its search instead: rfmlab-rerun {parent}")
    try:
        text = mlflow_module().artifacts.load_text(f"runs:/{run_id}/{catalog.CONFIG}")
    except Exception as e:  # noqa: BLE001
        raise RfmlabError(f"run {run_id} has no config/config.yaml (not an rfmlab run?)") from e
    cfg = yaml.safe_load(text)
    tags = run.data.tags
    digest = run.data.params.get("data.digest")
    return Record(
        run_id=run_id,
        config=cfg,
        digest=digest,
        version=tags.get("rfmlab.version"),
        commit=tags.get("mlflow.source.git.commit"),
    )


def config_for_rerun(rec: Record, *, uri: str) -> dict:
    """The recorded config, into ``uri``, tagged as a re-run; a search starts a study of its own (a recorded
    ``search.study_name`` would resume the original study instead of repeating it)."""
    cfg = {**rec.config, "tracking": {**rec.config.get("tracking", {}), "uri": uri}, "rerun_of": rec.run_id}
    if (cfg.get("search") or {}).get("name") == "optuna":
        cfg["search"] = {**cfg["search"], "study_name": None, "resume": False, "n_workers": 1}
    return cfg


@dataclass(kw_only=True)
class Comparison:
    metrics_compared: int = 0
    metric_diffs: dict[str, tuple[float, float]] = field(default_factory=dict)
    customers: int = 0
    label_diffs: int = 0
    missing_customers: int = 0

    @property
    def identical(self) -> bool:
        return not self.metric_diffs and not self.label_diffs and not self.missing_customers


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-12 * max(1.0, abs(a))


def compare(uri: str, original: str, rerun: str) -> Comparison:
    """Metrics (wall times aside) and each customer's cluster of two runs."""
    client = mlflow_module().MlflowClient(uri)
    mlflow_module().set_tracking_uri(uri)
    a, b = client.get_run(original).data.metrics, client.get_run(rerun).data.metrics
    out = Comparison()
    for k in sorted(a):
        if k in TIMINGS or k.endswith("_seconds"):
            continue
        out.metrics_compared += 1
        if k not in b or not _same(a[k], b[k]):
            out.metric_diffs[k] = (a[k], b.get(k, math.nan))
    tables = []
    for run_id in (original, rerun):
        path = mlflow_module().artifacts.download_artifacts(run_id=run_id, artifact_path=catalog.CUSTOMERS)
        tables.append(pl.read_parquet(path).select("customer_id", "cluster"))
    both = tables[0].join(tables[1], on="customer_id", how="full", suffix="_rerun", coalesce=True)
    out.customers = both.height
    out.missing_customers = int(both["cluster"].null_count() + both["cluster_rerun"].null_count())
    out.label_diffs = int((both["cluster"] != both["cluster_rerun"]).fill_null(False).sum())
    return out


def data_digest(uri: str, run_id: str) -> str | None:
    """The digest of the data a run read (param ``data.digest``)."""
    return mlflow_module().MlflowClient(uri).get_run(run_id).data.params.get("data.digest")


def mark_identical(uri: str, run_id: str, *, identical: bool) -> None:
    """Tag a re-execution with its verdict (``rfmlab.rerun_identical``)."""
    mlflow_module().MlflowClient(uri).set_tag(run_id, "rfmlab.rerun_identical", str(identical).lower())
