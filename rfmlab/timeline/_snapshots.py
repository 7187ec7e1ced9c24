"""A log's customer tables at a series of snapshot dates, from one cleaning pass (``TimelineSpec`` says which)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from rfmlab import clv, pipeline
from rfmlab.data import load, sql
from rfmlab.data import schema as S
from rfmlab.errors import DataError
from rfmlab.features import snapshots

FEATURES = ("recency", "frequency", "monetary")  # drift is measured on these when no model gives its own


@dataclass(kw_only=True)
class TimelineSpec:
    """The over-time command's options: which log, its layout, the snapshot spacing and range, the drift threshold."""

    dataset: dict  # layout and cleaning of the log (the model's, or --dataset's)
    input: str
    table: str | None = None  # a database URL as input: its table, or
    query: str | None = None  # the SQL whose rows are read
    every: str = "month"
    start: date | None = None
    end: date | None = None
    experiment: str = "timeline"
    psi_threshold: float = 0.2
    clv: dict | None = None  # the model's fitted CLV parameters: each snapshot's customers get CLV's columns


def snapshot_tables(
    spec: TimelineSpec, *, stage=pipeline.no_stage, on_stage=lambda n, o: None
) -> tuple[dict[date, pl.DataFrame], pipeline.CleanLog]:
    """The customer table at each snapshot date, from one cleaning pass over the log."""
    where = sql.fields(spec.input, table=spec.table, query=spec.query)
    ds = load.DatasetSpec.from_dict({**{k: v for k, v in spec.dataset.items() if k != "synthetic"},
                                     **where, "download": {}, "synthetic": {}})  # fmt: skip
    log = pipeline.clean_log(ds, stage=stage, on_stage=on_stage)
    with stage("fold the kept lines"), pipeline.reading(log.src):
        rows = snapshots.fold(log.kept)
    if rows.height == 0:
        raise DataError(f"no line of {log.src.name} is left after cleaning; check --dataset and the file")
    days = rows[snapshots.DAY]
    when = snapshots.dates(days.min(), days.max(), every=spec.every, start=spec.start, end=spec.end)
    with stage(f"{len(when)} snapshots ({spec.every})"):
        tables = {d: snapshots.table(rows, repeats=log.repeats, as_of=d) for d in when}
    if spec.clv:
        tables = with_clv(tables, rows=rows, params=clv.ClvParams.from_dict(spec.clv), repeats=log.repeats)
    return {d: t for d, t in tables.items() if t.height}, log


def with_clv(tables: dict[date, pl.DataFrame], *, rows: pl.DataFrame, params: clv.ClvParams,
             repeats: pl.DataFrame | None = None) -> dict:  # fmt: skip
    """Each snapshot's customers with CLV's columns, predicted by the model's parameters from the purchase days
    before the snapshot (the folded rows give them: one row per customer, invoice, kind and day; the exact
    ``repeats`` of kept lines come off the spend, as in a run)."""
    days = clv.purchase_days(
        rows.select(S.CUSTOMER, pl.col(snapshots.DAY).cast(pl.Datetime("us")).alias(S.TIMESTAMP), S.AMOUNT,
                    S.IS_RETURN),
        repeats=repeats,
    )  # fmt: skip
    out = {}
    for d, table in tables.items():
        predicted = clv.predict(clv.summary(days, as_of=d, time_unit=params.time_unit), params)
        out[d] = table.join(predicted, on=S.CUSTOMER, how="left")
    return out
