"""``rfmlab.promote`` and ``rfmlab.score``: the Model Registry's champion, and new customers segmented by a model
(what ``rfmlab-promote`` and ``rfmlab-score`` do; the commands call these)."""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike
from pathlib import Path

import polars as pl

from rfmlab.data import frames, load, locations, sql
from rfmlab.errors import RfmlabError
from rfmlab.mlflow_edge import registry, tracking
from rfmlab.report.exports import spreadsheet_safe
from rfmlab.resources import dataset_config


def promote(
    run_id: str | None = None,
    *,
    best: bool = False,
    experiment: str | None = None,
    metric: str | None = None,
    filter_string: str | None = None,
    name: str = "rfm-segmenter",
    alias: str = "champion",
    tracking_uri: str | None = None,
) -> dict:
    """Register a run's model (``run_id``, or with ``best=True`` the best finished run of ``experiment`` by
    ``metric``, default silhouette) and point ``alias`` at the new version.

    Returns:
        ``{"name", "version", "alias", "run_id", "uri", "metrics"}``; ``uri`` (``models:/NAME@ALIAS``) is what
        ``score`` and ``mlflow models serve`` take.
    """
    if best and not experiment:
        raise RfmlabError("--best needs --experiment NAME")
    if not best and not run_id:
        raise RfmlabError("give the run to promote (run_id), or best=True with an experiment")
    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    return registry.promote(
        uri,
        run_id=None if best else run_id,
        experiment=experiment,
        metric=metric or ("silhouette" if best else None),
        filter_string=filter_string,
        name=name,
        alias=alias,
    )


def check_output(output: str | PathLike, *, source: object, overwrite: bool) -> Path:
    """The output path, once it is neither the input file nor an existing file (without ``overwrite``)."""
    target = Path(output)
    if target.suffix not in (".parquet", ".csv", ".txt"):
        raise RfmlabError(f"--output must end in .csv or .parquet, not {target.suffix!r}")
    if isinstance(source, str | PathLike) and target.exists() and Path(source).exists() and target.samefile(source):
        raise RfmlabError(f"--output {output} is the --input file; write the scores to another file")
    if target.is_dir():
        raise RfmlabError(f"--output {output} is a directory; give a .csv or .parquet file name")
    if target.exists() and not overwrite:
        raise RfmlabError(f"--output {output} exists; pass --overwrite to replace it, or choose another file")
    return target


def _input(data: object, *, dataset: dict, table: str | None = None, query: str | None = None) -> load.Source:
    if frames.is_frame(data):
        return frames.source_of(data)
    if not locations.may_exist(data):
        raise RfmlabError(f"--input {data} does not exist; give a CSV or parquet file, a folder of parts or a URL")
    fields = {k: v for k, v in dataset.items() if k != "synthetic"}
    where = sql.fields(str(data), table=table, query=query)
    spec = load.DatasetSpec.from_dict({**fields, **where, "download": {}, "synthetic": {}})
    return load.scan(spec, with_digest=False)  # a log is streamed: load -> clean -> RFM never hold it whole


def score(
    model: str,
    data: str | PathLike | pl.DataFrame | object,
    *,
    dataset: str | None = None,
    as_of: str | None = None,
    output: str | PathLike | None = None,
    overwrite: bool = False,
    tracking_uri: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    table: str | None = None,
    query: str | None = None,
) -> pl.DataFrame:
    """Segment customers with a logged model: ``data`` is a customer table (``customer_id`` and the model's
    feature columns) or a transaction log, as a file path, a folder or glob of parts, an object-store URL
    (``s3://``...; credentials from the environment), a database URL with ``table`` or ``query``
    (``postgresql://user@host/db``...) or a polars / pandas frame.

    Args:
        model: ``models:/rfm-segmenter@champion``, ``runs:/RUN_ID/model``...
        dataset: the ``conf/dataset/`` layout and cleaning that read a log (default: the model's training data's).
        as_of: the analysis date for a log (default: the day after its last transaction).
        output: also write the scores to this CSV (cells a spreadsheet would evaluate start with ``'``) or
            parquet file (raw values); an existing file needs ``overwrite=True``.

    Returns:
        customer_id, cluster, segment, is_outlier, outlier_score per customer (polars).
    """
    target = None if output is None else check_output(output, source=data, overwrite=overwrite)
    if not frames.is_frame(data) and not locations.may_exist(data):
        _input(data, dataset={})  # the missing input is named before the model is loaded
    if not frames.is_frame(data):
        sql.fields(str(data), table=table, query=query)  # --table / --query with a file: refused before the model
    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    segmenter = registry.load_segmenter(model, uri)
    layout = dataset_config(dataset) if dataset else dict(segmenter.dataset)
    src = _input(data, dataset=layout, table=table, query=query)
    if segmenter.looks_like_customer_table(src.head):
        shown = "data" if frames.is_frame(data) else f"--input {locations.shown(str(data))}"
        segmenter.check_customer_table(src.head, source=shown)
    try:
        out = segmenter.score(src, as_of=as_of, dataset=layout, progress=progress)
    except RfmlabError as e:
        e.layout = layout.get("name")  # the layout that read the log: the command names it in its own terms
        raise
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".parquet":
            out.write_parquet(target)  # raw values: parquet is read by programs, not evaluated by spreadsheets
        else:
            spreadsheet_safe(out).write_csv(target)
    return out
