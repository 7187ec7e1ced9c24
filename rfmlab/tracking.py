"""MLflow edge: the only module that imports mlflow.

Store: ``tracking.uri`` if set, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<root>/mlruns/mlflow.db``
with artifacts under ``<root>/mlruns/artifacts``. Experiments are tagged
``mlflow.experimentKind=custom_model_development`` so MLflow 3's UI opens them on the runs table.

Artifact layout of a run: ``config/`` (resolved YAML), ``data/`` (cleaning report), ``tables/``
(customers.parquet, customers.csv, profile.csv), ``plots/`` (PNG and HTML), ``error.txt`` on failure.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import subprocess
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import rfmlab

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
UI_QUERY = "?workflowType=machine_learning"


def _mlflow():
    # rfmlab talks only to the store it is given; set MLFLOW_DISABLE_TELEMETRY=false to allow MLflow's telemetry
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    for name in ("alembic", "mlflow"):  # after the import: mlflow configures its logger when imported
        logging.getLogger(name).setLevel(logging.WARNING)
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


_READY: set[str] = set()


@contextlib.contextmanager
def sqlite_init_lock(uri: str):
    """Serialise schema creation on a local SQLite store across processes (an flock beside the file).

    MLflow and Optuna create their tables on first use; two processes doing that on a fresh file at the
    same moment break each other's migrations. Other URIs (servers) need no lock.
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    db = Path(uri[len("sqlite:///") :])
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def init_store(uri: str) -> None:
    """Create (or check) the store's schema once per process; safe when processes start together."""
    if uri in _READY:
        return
    with sqlite_init_lock(uri):
        _mlflow().MlflowClient(uri).search_experiments(max_results=1)
    _READY.add(uri)


def ensure_experiment(name: str, uri: str) -> str:
    mlflow = _mlflow()
    init_store(uri)
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


@functools.lru_cache(maxsize=4)
def git_commit(path: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path or Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


def ui_url(tracking_cfg: dict | None, uri: str) -> str:
    """Where the MLflow UI of ``uri`` is: ``tracking.ui_url``, the tracking server itself, or ``make ui``'s."""
    configured = (tracking_cfg or {}).get("ui_url")
    if configured:
        return configured
    return uri.rstrip("/") if is_server(uri) else "http://127.0.0.1:5000"


def ui_hint(uri: str) -> str:
    """How to open the UI of this store (a tracking server is its own UI)."""
    if is_server(uri):
        return f"{uri.rstrip('/')}  [dim](the tracking server's UI)[/]"
    return f"make ui   [dim](mlflow ui --backend-store-uri {uri})[/]"


def redact(url: str) -> str:
    """A storage URL without its password (``postgresql://user:***@host/db``), for params and messages."""
    import re

    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


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

    def log_params(self, params: dict, only_new: bool = False) -> dict[str, str]:
        """Log params; with ``only_new`` skip keys the run already has (a resumed or shared run).

        Returns the keys skipped because the run holds another value for them (MLflow params are immutable).
        Processes sharing a study log to one parent run: MLflow checks for existing keys and then inserts, so
        two of them can both find a key missing and one insert then fails; that one reads the run again.
        """
        from mlflow.entities import Param
        from mlflow.exceptions import MlflowException

        client = self._client()
        values = {k: str(v)[:6000] for k, v in params.items()}
        attempt = 0
        while True:
            changed, todo = {}, values
            if only_new:
                have = client.get_run(self.run_id).data.params
                changed = {k: have[k] for k, v in values.items() if k in have and have[k] != v}
                todo = {k: v for k, v in values.items() if k not in have}
            items = [Param(k, v) for k, v in todo.items()]
            try:
                for i in range(0, len(items), 100):
                    client.log_batch(self.run_id, params=items[i : i + 100])
                return changed
            except MlflowException as e:
                attempt += 1
                conflict = "UNIQUE constraint" in str(e) or "duplicate key" in str(e)
                if not (only_new and conflict) or attempt == 5:
                    raise
                time.sleep(0.05 * attempt)

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
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
        elif source.startswith(("http://", "https://")):
            src = source
        else:
            src = Path(source).expanduser().resolve().as_uri()
        with warnings.catch_warnings():  # "source can be interpreted in multiple ways": both are local files
            warnings.simplefilter("ignore", UserWarning)
            ds = mlflow.data.from_polars(df.head(1000), source=src, name=name, digest=digest[:36])
        self._client().log_inputs(
            self.run_id,
            datasets=[
                mlflow.entities.DatasetInput(
                    ds._to_mlflow_entity(), tags=[mlflow.entities.InputTag("mlflow.data.context", context)]
                )
            ],
        )


def run_exists(uri: str, run_id: str) -> bool:
    mlflow = _mlflow()
    try:
        mlflow.MlflowClient(uri).get_run(run_id)
    except mlflow.exceptions.MlflowException:
        return False
    return True


def _base_tags(tags: dict | None) -> dict[str, str]:
    all_tags = {"rfmlab.version": rfmlab.__version__, **(tags or {})}
    commit = git_commit()
    if commit:
        all_tags["mlflow.source.git.commit"] = commit
    return all_tags


@contextlib.contextmanager
def start_run(
    uri: str,
    experiment: str,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    run_id: str | None = None,
) -> Iterator[RunHandle]:
    """A run that ends FINISHED, or FAILED (KILLED on Ctrl-C) with ``error.txt`` and an ``rfmlab.error`` tag.

    ``run_id`` reopens an existing run (a resumed search) instead of creating one. Nothing logged
    before a failure is lost: artifacts are written as each stage finishes.
    """
    mlflow = _mlflow()
    exp_id = ensure_experiment(experiment, uri)
    client = mlflow.MlflowClient(uri)
    if run_id:
        client.update_run(run_id, status="RUNNING")
        client.set_tag(run_id, "rfmlab.resumed", "true")
    else:
        run_id = client.create_run(exp_id, run_name=run_name, tags=_base_tags(tags)).info.run_id
    handle = RunHandle(run_id, exp_id, experiment, uri)
    mlflow.set_tracking_uri(uri)
    mlflow.start_run(run_id=run_id)  # active, so models can be logged into it with mlflow.pyfunc.log_model
    try:
        yield handle
    except BaseException as e:
        status = "KILLED" if isinstance(e, KeyboardInterrupt) else "FAILED"
        with contextlib.suppress(Exception):
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            handle.log_text("".join(traceback.format_exception(e)), "error.txt")
            handle.set_tags({"rfmlab.error": f"{type(e).__name__}: {first}"[:5000]})
        with contextlib.suppress(Exception):
            mlflow.end_run(status)
        raise
    else:
        mlflow.end_run("FINISHED")


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


_CHILD_CLIENTS: dict[str, object] = {}


def log_child_run(
    uri: str,
    experiment_id: str,
    parent_run_id: str,
    name: str,
    params: dict,
    metrics: dict,
    tags: dict,
    failed: bool = False,
) -> str:
    """One nested run, written in three calls (create, one batch, terminate): about 20 ms on SQLite."""
    from mlflow.entities import Metric, Param, RunTag

    mlflow = _mlflow()
    client = _CHILD_CLIENTS.get(uri) or _CHILD_CLIENTS.setdefault(uri, mlflow.MlflowClient(uri))
    run = client.create_run(
        experiment_id, run_name=name, tags={**_base_tags(tags), "mlflow.parentRunId": parent_run_id}
    )
    ts = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, float(v), ts, 0) for k, v in metrics.items() if v is not None and not math.isnan(float(v))],
        params=[Param(k, str(v)) for k, v in params.items()],
        tags=[RunTag("mlflow.runName", name)],
    )
    client.set_terminated(run.info.run_id, "FAILED" if failed else "FINISHED")
    return run.info.run_id


def sweep_runs(uri: str, sweep_id: str) -> list:
    """Top-level runs (searches or single fits) of one sweep, across experiments, oldest first."""
    mlflow = _mlflow()
    client = mlflow.MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    if not exps:
        return []
    runs = client.search_runs(exps, filter_string=f"tags.`rfmlab.sweep_id` = '{sweep_id}'", max_results=5000)
    top = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    return sorted(top, key=lambda r: r.info.start_time)


class ChildRunWriter:
    """Writes child runs from a background thread so a search never waits on the store.

    ``submit(**log_child_run kwargs)`` queues one; ``close()`` (or leaving the ``with`` block, also on
    an error or Ctrl-C) drains the queue, so every finished trial gets its child run.
    """

    def __init__(self):
        import queue
        import threading

        self._q: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._work, name="rfmlab-child-runs", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                return
            try:
                log_child_run(**item)
            except Exception as e:  # keep the search going; report at the end
                self.errors.append(f"{type(e).__name__}: {e}")

    def submit(self, **kwargs) -> None:
        self._q.put(kwargs)

    def close(self) -> None:
        if self._thread.is_alive():
            self._q.put(None)
            self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def child_trial_numbers(uri: str, experiment_id: str, parent_run_id: str) -> set[int]:
    """Trial numbers that already have a child run under ``parent_run_id``."""
    client = _mlflow().MlflowClient(uri)
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'", max_results=50_000
    )
    return {int(r.data.tags["optuna.trial_number"]) for r in runs if "optuna.trial_number" in r.data.tags}


def find_runs(uri: str, experiment: str | None = None, sweep: str | None = None, run_ids: list[str] | None = None):
    """Top-level FINISHED runs to compare (no trial children, no earlier comparison runs)."""
    mlflow = _mlflow()
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
    return _mlflow().MlflowClient(uri).get_experiment(experiment_id).name


def load_table(uri: str, run_id: str, path: str = "tables/customers.parquet"):
    """A polars frame from a run's parquet artifact (None when the run has none)."""
    import polars as pl

    mlflow = _mlflow()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=tmp, tracking_uri=uri
            )
        except (mlflow.exceptions.MlflowException, OSError):
            return None
        return pl.read_parquet(local)


PROMOTED_METRICS = ("silhouette", "davies_bouldin", "calinski_harabasz", "n_clusters", "noise_fraction", "n_customers")


def promote(
    uri: str,
    run_id: str | None = None,
    experiment: str | None = None,
    metric: str | None = None,
    filter_string: str | None = None,
    name: str = "rfm-segmenter",
    alias: str = "champion",
) -> dict:
    """Register a run's model (the given run, or the best of an experiment by ``metric``) and point ``alias``
    at the new version; key metrics and the data digest become version tags."""
    from rfmlab.errors import RfmlabError

    mlflow = _mlflow()
    init_store(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient(uri)
    if run_id is None:
        exp = client.get_experiment_by_name(experiment or "")
        if exp is None:
            raise RfmlabError(f"no experiment {experiment!r} in {uri}; pass --experiment NAME or --run-id ID")
        descending = metric != "davies_bouldin"
        flt = "attributes.status = 'FINISHED'" + (f" and {filter_string}" if filter_string else "")
        try:
            runs = client.search_runs([exp.experiment_id], filter_string=flt, max_results=5000)
        except mlflow.exceptions.MlflowException as e:
            raise RfmlabError(f"bad --filter {filter_string!r}: {str(e).splitlines()[0]}") from e
        runs = [
            r
            for r in runs
            if "mlflow.parentRunId" not in r.data.tags
            and "rfmlab.model_uri" in r.data.tags
            and metric in r.data.metrics
        ]
        if not runs:
            raise RfmlabError(f"no finished run with a model and the metric {metric!r} in experiment {experiment!r}")
        run = sorted(runs, key=lambda r: r.data.metrics[metric], reverse=descending)[0]
    else:
        try:
            run = client.get_run(run_id)
        except mlflow.exceptions.MlflowException as e:
            raise RfmlabError(f"no run {run_id} in {uri}") from e
    model_uri = run.data.tags.get("rfmlab.model_uri")
    if not model_uri:
        raise RfmlabError(
            f"run {run.info.run_id} has no model (a failed run, a trial, or tracking.log_model=false); "
            "promote another run"
        )
    if metric and metric not in run.data.metrics:
        raise RfmlabError(
            f"run {run.info.run_id} has no metric {metric!r} (e.g. fewer than 2 clusters); choose another run or metric"
        )
    version = mlflow.register_model(model_uri, name)
    client.set_registered_model_alias(name, alias, version.version)
    tags = {f"metric.{k}": str(run.data.metrics[k]) for k in PROMOTED_METRICS if k in run.data.metrics}
    tags |= {
        "run_id": run.info.run_id,
        "data.digest": run.data.params.get("data.digest", ""),
        "dataset": run.data.tags.get("rfmlab.dataset", ""),
        "algorithm": run.data.tags.get("rfmlab.algorithm", ""),
    }
    for k, v in tags.items():
        client.set_model_version_tag(name, version.version, k, v)
    return {
        "name": name,
        "version": version.version,
        "alias": alias,
        "run_id": run.info.run_id,
        "uri": f"models:/{name}@{alias}",
        "metrics": {k: run.data.metrics.get(k) for k in PROMOTED_METRICS},
    }


def load_segmenter(model_uri: str, uri: str):
    """The ``scoring.Segmenter`` inside a logged or registered rfmlab model."""
    from rfmlab.errors import RfmlabError

    mlflow = _mlflow()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "add type hints to predict": not for this model
            model = mlflow.pyfunc.load_model(model_uri)
    except mlflow.exceptions.MlflowException as e:
        raise RfmlabError(f"cannot load {model_uri} from {uri}: {str(e).splitlines()[0]}") from e
    inner = model.unwrap_python_model()
    if not hasattr(inner, "segmenter"):
        raise RfmlabError(f"{model_uri} is not an rfmlab model")
    return inner.segmenter
