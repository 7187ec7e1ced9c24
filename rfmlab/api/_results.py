"""``rfmlab.RunResult`` and ``rfmlab.load_run``: a tracked run as an object in a notebook (its record from MLflow,
its tables and figures downloaded when first asked for)."""

from __future__ import annotations

import functools
import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from rfmlab.mlflow_edge import catalog, runs, tracking

_SHOWN = ("n_clusters", "silhouette", "stability", "stability_min", "davies_bouldin", "calinski_harabasz")


@dataclass(kw_only=True, eq=False)
class RunResult:
    """One tracked run (a single fit, a search's parent run or an over-time run) read back from MLflow.

    ``customers`` (every customer with features, cluster and segment), ``segments`` (the clusters under their
    business names) and ``figures`` (artifact path -> local PNG file) are downloaded when first used.
    """

    run_id: str
    experiment_id: str
    experiment: str | None
    status: str  # FINISHED, FAILED, KILLED, RUNNING
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]
    url: str  # the run's page in the MLflow UI
    tracking_uri: str
    run_name: str | None = None
    _dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="rfmlab-run-"), repr=False)

    def artifact(self, path: str) -> Path | None:
        """A local copy of one of the run's artifacts (``catalog`` names them), or None."""
        return runs.download(self.tracking_uri, self.run_id, path=path, dst=self._dir)

    def _table(self, path: str) -> pl.DataFrame | None:
        local = self.artifact(path)
        if local is None:
            return None
        return pl.read_parquet(local) if local.suffix == ".parquet" else pl.read_csv(local)

    @functools.cached_property
    def customers(self) -> pl.DataFrame | None:
        """Every customer: features, ``cluster``, ``segment`` and one column per rule scheme (polars)."""
        return self._table(catalog.CUSTOMERS)

    @functools.cached_property
    def segments(self) -> pl.DataFrame | None:
        """The clusters under their business names: customers, share and mean features (polars)."""
        return self._table(catalog.SEGMENTS)

    @functools.cached_property
    def labels(self):
        """Each customer's cluster (numpy, in ``customers`` order)."""
        return None if self.customers is None else self.customers["cluster"].to_numpy()

    @functools.cached_property
    def figures(self) -> dict[str, Path]:
        """The run's PNG figures: artifact path -> local file (open with ``IPython.display.Image``)."""
        pngs = [p for p in runs.artifacts(self.tracking_uri, self.run_id) if p.endswith(".png")]
        return {p: local for p in pngs if (local := self.artifact(p)) is not None}

    def _repr_html_(self) -> str:
        esc = html.escape
        shown = [(k, self.metrics[k]) for k in _SHOWN if k in self.metrics]
        rows = "".join(f"<tr><td>{esc(k)}</td><td>{v:.4g}</td></tr>" for k, v in shown)
        seg = ""
        if self.segments is not None:
            seg = "<h4>Segments</h4>" + _table_html(self.segments.head(20))
        return (
            f"<div><h3>rfmlab run {esc(self.run_name or self.run_id)} "
            f"<small>({esc(self.status)})</small></h3>"
            f"<p>experiment <b>{esc(self.experiment or '')}</b> · run <code>{esc(self.run_id)}</code> · "
            f'<a href="{esc(self.url)}" target="_blank">open in the MLflow UI</a></p>'
            f"<table><tr><th>metric</th><th>value</th></tr>{rows}</table>{seg}</div>"
        )

    def __repr__(self) -> str:
        m = ", ".join(f"{k}={self.metrics[k]:.4g}" for k in _SHOWN if k in self.metrics)
        return f"RunResult(run_id={self.run_id!r}, status={self.status!r}, {m})"


def _table_html(df: pl.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in df.iter_rows())
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))


def load_run(run_id: str, *, tracking_uri: str | None = None, ui_url: str | None = None) -> RunResult:
    """A run read back from MLflow (``tracking_uri``: default ``$MLFLOW_TRACKING_URI`` or
    ``sqlite:///mlruns/mlflow.db``).

    Examples:
        >>> run = rfmlab.load_run("3f2a...", tracking_uri="sqlite:///mlruns/mlflow.db")  # doctest: +SKIP
        >>> run.metrics["silhouette"], run.segments
    """
    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    rec = runs.read_run(uri, run_id)
    link = tracking.run_url(tracking.ui_url({"ui_url": ui_url}, uri), rec["experiment_id"], rec["run_id"])
    return RunResult(
        run_id=rec["run_id"],
        run_name=rec["run_name"],
        experiment_id=rec["experiment_id"],
        experiment=rec["experiment"],
        status=rec["status"],
        metrics=rec["metrics"],
        params=rec["params"],
        tags=rec["tags"],
        url=link,
        tracking_uri=uri,
    )
