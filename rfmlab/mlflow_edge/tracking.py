"""MLflow edge: the only module that imports mlflow.

Store: ``tracking.uri`` if set, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///<root>/mlruns/mlflow.db``
with artifacts under ``<root>/mlruns/artifacts``. Experiments are tagged
``mlflow.experimentKind=custom_model_development`` so MLflow 3's UI opens them on the runs table.

Artifact layout of a run: ``config/`` (resolved YAML), ``data/`` (cleaning report), ``tables/``
(customers.parquet, customers.csv, profile.csv), ``plots/`` (PNG and HTML), ``error.txt`` on failure. CSV text that
a spreadsheet would evaluate as a formula starts with ``'`` (``report.exports``); parquet keeps the raw values.
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
from rfmlab.locks import sqlite_init_lock
from rfmlab.mlflow_edge import catalog, store_faults

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
UI_QUERY = "?workflowType=machine_learning"


def mlflow_module():
    # rfmlab talks only to the store it is given; set MLFLOW_DISABLE_TELEMETRY=false to allow MLflow's telemetry
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # rfmlab's console shows its own stages; MLflow's per-download tqdm bar (loading a model) would interleave
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    for name in ("alembic", "mlflow"):  # after the import: mlflow configures its logger when imported
        logging.getLogger(name).setLevel(logging.WARNING)
    # MLflow logs a database error's traceback before raising it; rfmlab reports it (store_faults) in one line
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    return mlflow


def store_uri(uri: str | None = None, *, root: str | Path | None = None) -> str:
    if uri:
        return uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    root = Path(root or Path.cwd()).resolve()
    default = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    with store_faults.translated(default):  # a read-only working folder
        (root / "mlruns").mkdir(parents=True, exist_ok=True)
    return default


def _artifact_location(uri: str, name: str) -> str | None:
    """Artifacts of a local SQLite store live beside it under mlruns/artifacts/<experiment>."""
    if not uri.startswith("sqlite:///"):
        return None
    db = Path(uri[len("sqlite:///") :])
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return (db.parent / "artifacts" / safe).resolve().as_uri()


_READY: set[str] = set()
_ANSWERED: set[str] = set()  # tracking servers that answered in this process


def check_server(uri: str, *, timeout: float = 5.0) -> None:
    """Refuse a tracking server that does not answer, in seconds and in one line, before any work starts (MLflow's
    own client retries for minutes). A server that answers at all, even with an HTTP error, is there."""
    if not is_server(uri) or uri in _ANSWERED:
        return
    import urllib.error
    import urllib.request

    from rfmlab.errors import RfmlabError

    try:
        urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout).close()
    except urllib.error.HTTPError:
        pass
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", None) or e
        raise RfmlabError(
            f"tracking server {redact(uri)} is not reachable ({reason}); start it (mlflow server --host 127.0.0.1 "
            "--port PORT --backend-store-uri sqlite:///mlruns/mlflow.db) or set tracking.uri to a local store "
            "(sqlite:///mlruns/mlflow.db)"
        ) from e
    _ANSWERED.add(uri)


def init_store(uri: str) -> None:
    """Create (or check) the store's schema once per process; safe when processes start together. A tracking
    server is checked to answer first (``check_server``)."""
    if uri in _READY:
        return
    check_server(uri)
    with store_faults.translated(uri), sqlite_init_lock(uri):
        mlflow_module().MlflowClient(uri).search_experiments(max_results=1)
    _READY.add(uri)


def ensure_experiment(name: str, uri: str) -> str:
    mlflow = mlflow_module()
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
    command = f"mlflow ui --backend-store-uri {uri}"
    clone_store = f"sqlite:///{Path.cwd().resolve() / 'mlruns' / 'mlflow.db'}"
    if Path("Makefile").is_file() and uri == clone_store:
        return f"make ui   [dim]({command})[/]"
    return command


def metric_key(prefix: str, name: str) -> str:
    """An MLflow-safe metric key for a display name: letters, digits, _ - . / and spaces are kept, anything else
    becomes ``_``, and the name is made a path MLflow accepts (no empty, ``.`` or ``..`` parts: ``a//b`` -> ``a/b``).
    The display names themselves stay in the run's tables (``segment_counts.csv``)."""
    import re

    safe = re.sub(r"[^0-9A-Za-z_\-. /]", "_", name)
    parts = ["_" if part in (".", "..") else part for part in safe.split("/") if part]
    return prefix + "." + "/".join(parts or ["_"])


def redact(url: str) -> str:
    """A storage URL without its password (``postgresql://user:***@host/db``), for params and messages."""
    import re

    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def run_url(ui_url: str, experiment_id: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}{UI_QUERY}"


def flatten(d: dict, *, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, prefix=key + "."))
        else:
            out[key] = str(v)[:6000]
    return out


@dataclass(kw_only=True)
class RunHandle:
    run_id: str
    experiment_id: str
    experiment_name: str
    uri: str

    # --- logging helpers (all go to this run, active or not) ---
    def _client(self):
        return mlflow_module().MlflowClient(self.uri)

    def artifact_dir(self) -> Path | None:
        """The run's local artifact folder (None for a remote artifact store, or a store that cannot say)."""
        with contextlib.suppress(Exception):
            return store_faults.local_dir(self._client().get_run(self.run_id).info.artifact_uri)
        return None

    def log_params(self, params: dict, *, only_new: bool = False) -> dict[str, str]:
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

    def log_metrics(self, metrics: dict[str, float], *, step: int = 0) -> None:
        from mlflow.entities import Metric

        ts = int(time.time() * 1000)
        items = [
            Metric(k, float(v), ts, step) for k, v in metrics.items() if v is not None and not math.isnan(float(v))
        ]
        if items:
            self._client().log_batch(self.run_id, metrics=items)

    def log_series(self, rows: list[tuple[str, float, int, int]]) -> None:
        """Stepped metrics (key, value, step, timestamp in ms): MLflow's charts draw them as lines over time."""
        from mlflow.entities import Metric

        items = [Metric(k, float(v), ts, step) for k, v, step, ts in rows if v is not None and not math.isnan(float(v))]
        for lo in range(0, len(items), 1000):  # MLflow's batch limit
            self._client().log_batch(self.run_id, metrics=items[lo : lo + 1000])

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

    def log_input(
        self, df, name: str, *, source: str, digest: str, context: str = "training", query: str | None = None
    ) -> None:
        """The dataset the run read (its first 1,000 rows' schema and profile): ``source`` is ``synthetic:KIND``,
        ``sql:URL`` (redacted; ``query`` the SQL run), an http(s) URL or a local path."""
        mlflow = mlflow_module()
        from mlflow.data.code_dataset_source import CodeDatasetSource

        if source.startswith("synthetic:"):
            src = CodeDatasetSource(tags={"generator": f"rfmlab.data.synthetic.{source.split(':', 1)[1]}"})
        elif source.startswith("sql:"):
            src = CodeDatasetSource(tags={"server": source.split(":", 1)[1], "query": str(query)[:5000]})
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


def base_tags(tags: dict | None) -> dict[str, str]:
    all_tags = {"rfmlab.version": rfmlab.__version__, **(tags or {})}
    commit = git_commit()
    if commit:
        all_tags["mlflow.source.git.commit"] = commit
    return all_tags


@contextlib.contextmanager
def start_run(
    uri: str,
    *,
    experiment: str,
    run_name: str | None = None,
    tags: dict[str, str] | None = None,
    run_id: str | None = None,
) -> Iterator[RunHandle]:
    """A run that ends FINISHED, or FAILED (KILLED on Ctrl-C) with ``error.txt`` and an ``rfmlab.error`` tag.

    ``run_id`` reopens an existing run (a resumed search) instead of creating one. Nothing logged
    before a failure is lost: artifacts are written as each stage finishes. A store fault (``store_faults``: a
    corrupt, read-only or full store or artifact folder) is raised as a one-line StoreError, recorded on the run as
    far as the store still takes writes.
    """
    mlflow = mlflow_module()
    with store_faults.translated(uri):
        handle = _open_run(uri, experiment=experiment, run_name=run_name, tags=tags, run_id=run_id)
    try:
        yield handle
    except BaseException as e:
        fault = store_faults.explain(e, uri=uri, artifacts=handle.artifact_dir()) if isinstance(e, Exception) else None
        _record_failure(handle, error=e, fault=fault)
        if fault is not None and fault is not e:
            raise fault from e
        raise
    else:
        with store_faults.translated(uri):
            mlflow.end_run("FINISHED")


def _open_run(uri: str, *, experiment: str, run_name: str | None, tags: dict | None, run_id: str | None) -> RunHandle:
    """Create the run (or reopen ``run_id``) and make it MLflow's active run."""
    mlflow = mlflow_module()
    exp_id = ensure_experiment(experiment, uri)
    client = mlflow.MlflowClient(uri)
    if run_id:
        from mlflow.entities import RunTag

        client.update_run(run_id, status="RUNNING")
        # log_batch, not set_tag: processes sharing a study reopen one parent at the same instant, and MLflow's
        # set_tag is a select-then-insert without the retry its batch path has (a UniqueViolation on PostgreSQL)
        client.log_batch(run_id, tags=[RunTag("rfmlab.resumed", "true")])
    else:
        run_id = client.create_run(exp_id, run_name=run_name, tags=base_tags(tags)).info.run_id
    mlflow.set_tracking_uri(uri)
    mlflow.start_run(run_id=run_id)  # active, so models can be logged into it with mlflow.pyfunc.log_model
    return RunHandle(run_id=run_id, experiment_id=exp_id, experiment_name=experiment, uri=uri)


def _record_failure(handle: RunHandle, *, error: BaseException, fault: Exception | None) -> None:
    """The reason first (the ``rfmlab.error`` tag, in the database), then ``error.txt`` (an artifact, which a
    read-only or full artifact folder refuses), then the status; each as far as the store lets it."""
    reason = fault or error
    first = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
    with contextlib.suppress(Exception):
        handle.set_tags({"rfmlab.error": f"{type(reason).__name__}: {first}"[:5000]})
    with contextlib.suppress(Exception):
        handle.log_text("".join(traceback.format_exception(error)), catalog.ERROR)
    with contextlib.suppress(Exception):
        mlflow_module().end_run("KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED")


def log_tables(handle: RunHandle, frames: dict[str, object]) -> None:
    """Write polars frames at their artifact paths (``catalog``), as parquet or CSV by the path's suffix, in one
    upload. Parquet keeps the raw values; CSV is for spreadsheets, so its text cells that a spreadsheet would
    evaluate as formulas are neutralised (``report.exports.spreadsheet_safe``)."""
    from rfmlab.report.exports import spreadsheet_safe

    with tempfile.TemporaryDirectory() as tmp:
        for path, df in frames.items():
            target = Path(tmp) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.endswith(".parquet"):
                df.write_parquet(target)
            else:
                spreadsheet_safe(df).write_csv(target)
        handle.log_dir(Path(tmp), None)
