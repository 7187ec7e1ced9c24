"""``rfmlab.over_time``: a log's customers followed through snapshots, segmented by a promoted model or a rule
scheme, their migration and drift in one MLflow run (what ``rfmlab-timeline`` does; the command calls this)."""

from __future__ import annotations

from os import PathLike

import polars as pl

from rfmlab import features, segments
from rfmlab.data import locations, sql
from rfmlab.errors import RfmlabError
from rfmlab.jobs import timeline as timeline_job
from rfmlab.mlflow_edge import registry, tracking
from rfmlab.resources import dataset_config, scheme_config
from rfmlab.timeline import TimelineSpec


def _by_model(model_uri: str, uri: str):
    segmenter = registry.load_segmenter(model_uri, uri)
    name, version, alias = registry.model_version(model_uri, uri)

    def segment(table):
        return segmenter.score(table).select("customer_id", "segment", *(["clv"] if segmenter.clv else []))

    tags = {"rfmlab.model": name or model_uri, "rfmlab.model_version": str(version or ""),
            "rfmlab.model_alias": alias or "", "rfmlab.model_uri": model_uri}  # fmt: skip
    return segment, dict(segmenter.dataset), getattr(segmenter, "reference", None) or None, tags, getattr(
        segmenter, "clv", None
    )


def _by_scheme(name: str):
    scheme = segments.Scheme.from_dict(name, scheme_config(name, "--scheme"))

    def segment(table):
        return segments.apply(scheme, table).select("customer_id", pl.col(name).alias("segment"))

    return segment


def over_time(
    data: str | PathLike,
    *,
    model: str | None = None,
    scheme: str | None = None,
    dataset: str | None = None,
    every: str = "month",
    start: str | None = None,
    end: str | None = None,
    experiment: str = "timeline",
    psi_threshold: float = 0.2,
    tracking_uri: str | None = None,
    table: str | None = None,
    query: str | None = None,
) -> dict:
    """Follow the customers of the log ``data`` (a file, a folder or glob of parts, an object-store URL, a database
    URL with ``table`` or ``query``) through
    snapshots every ``every`` (week, month, quarter), segmented by ``model`` (``models:/rfm-segmenter@champion``)
    or a rule ``scheme`` (rfm11...), and log shares, transition matrices, the Sankey, paths, activity and PSI drift
    in one MLflow run.

    Returns:
        ``{"run_id", "url", "snapshots", "matrices", "psi", "text"}``: the run, the snapshot dates, the
        transition matrix of each step (polars), PSI per feature and snapshot, and the run's description.
    """
    if (model is None) == (scheme is None):
        raise RfmlabError("give exactly one of --model (a logged model) or --scheme (a rule scheme)")
    if every not in ("week", "month", "quarter"):
        raise RfmlabError(f"every={every!r}; use week, month or quarter")
    if not locations.may_exist(data):
        raise RfmlabError(f"--input {data} does not exist; give a transaction log file, a folder of parts or a URL")
    sql.fields(str(data), table=table, query=query)  # --table / --query with a file: refused before the run
    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    if model:
        segment, layout, reference, tags, clv = _by_model(model, uri)
    else:
        segment, reference, tags, clv = _by_scheme(scheme), None, {"rfmlab.scheme": scheme}, None
        layout = dataset_config(dataset or "ecommerce")
    if dataset and model:
        layout = dataset_config(dataset)
    spec = TimelineSpec(
        dataset=layout,
        input=str(data),
        table=table,
        query=query,
        every=every,
        start=features.parse_date(start),
        end=features.parse_date(end),
        experiment=experiment,
        psi_threshold=psi_threshold,
        clv=clv,
    )
    source = model or scheme
    return timeline_job.run(spec, segment=segment, reference=reference, tags=tags, uri=uri, source=source)
