"""The customer table of a transaction log: load -> clean -> RFM as streaming queries (no Hydra, no MLflow)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from rfmlab import clv as clv_mod
from rfmlab import features
from rfmlab.data import clean as clean_mod
from rfmlab.data import engines, load, tables
from rfmlab.errors import ConfigError


def no_stage(name: str):
    """The stage context when nothing shows progress."""
    return contextlib.nullcontext()


@contextlib.contextmanager
def reading(src: load.Source):
    """Streaming passes over ``src``, then a check that its file did not change meanwhile (its digest and the rows
    read would differ). Their errors (a gzip truncated past its first rows, a file truncated or replaced while it
    was read...) as one-line DataErrors."""
    try:
        yield
    except (pl.exceptions.PolarsError, OSError, EOFError) as e:
        err = load.pass_error(src, e)
        if err is None:
            raise
        raise err from e
    load.ensure_unchanged(src)


@dataclass(kw_only=True)
class CleanLog:
    """A cleaned log, still lazy: the kept lines (exact repeats still in), the repeats to take off aggregates
    (``clean.remove_repeats``), the report so far and the source."""

    src: load.Source
    spec: load.DatasetSpec
    kept: pl.LazyFrame
    repeats: pl.DataFrame | None
    report: clean_mod.CleaningReport


def clean_log(
    spec: load.DatasetSpec,
    *,
    stage: Callable = no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    source: load.Source | None = None,
    as_of: date | None = None,
) -> CleanLog:
    """load -> clean as streaming queries over the source (``spec``'s, or ``source``): the log is never held in
    memory, only the per-line reason codes and hashes of the first cleaning pass (9 bytes a line)."""
    row_ids = (spec.cleaning or {}).get("duplicates", "drop") == "keep"  # see load.canonical

    def canonical(lf: pl.LazyFrame, with_hash: bool = False, own_ids: bool = True) -> pl.LazyFrame:
        return load.canonical(
            lf,
            spec,
            head=src.head,
            with_hash=with_hash,
            row_ids=row_ids,
            own_ids=own_ids,
            replaced=with_hash and src.text,
            tail=with_hash and src.text,
        )

    with stage("load"):
        src = source or load.scan(spec)
        with reading(src):  # the format may take a pass over the whole date column
            spec, detected = load.resolve_date_format(spec, src.lf, src.head)
        tx = canonical(src.lf, with_hash=True, own_ids=False)  # the first pass needs no invoice ids
        zone = load.zone_note(spec, src.lf.collect_schema()[spec.columns.resolve(src.head.columns).date])
        fmt = {"date_format": spec.date_format, "detected": detected, "zone": zone}
        on_stage("load", {"head": src.head, "digest": src.digest, "digest_note": src.digest_note, **fmt,
                          "lineage": src.lineage})  # fmt: skip
    with stage("clean"), reading(src):
        has_price = spec.columns.amount is None
        kept, repeats, report, bad, tail = clean_mod.scan(
            src.lf, tx=tx, has_price=has_price, policy=spec.cleaning, as_of=as_of, canonical=canonical
        )
        if tail:  # some line's last column is empty: is it short of fields?
            load.refuse_ragged(src)
        load.check(src.lf, head=src.head, bad_rows=bad, spec=spec)
    report.filter = spec.filter or None
    return CleanLog(src=src, spec=spec, kept=kept, repeats=repeats, report=report)


def customer_table(
    spec: load.DatasetSpec,
    *,
    stage: Callable = no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    source: load.Source | None = None,
    analysis_date=None,
    clv: clv_mod.ClvSpec | clv_mod.ClvParams | None = None,
    seed: int = 0,
) -> tuple[pl.DataFrame, date, clean_mod.CleaningReport, str]:
    """load -> clean -> RFM (``clean_log``, then the kept lines aggregated per customer in one streaming pass), or
    for a customer table (``dataset.kind: customers``) load -> check (``table_of``). Returns (customers, analysis
    date, cleaning report, source digest). With ``clv`` enabled, a log's customers get ``schema.CLV_COLUMNS``
    (``with_clv``; its ``ClvResult`` goes to ``on_stage("clv", ...)``); ``clv`` as fitted ``ClvParams`` (a model
    scoring new customers) predicts them without fitting."""
    as_of = features.parse_date(analysis_date or spec.analysis_date)
    if spec.is_table:
        return table_of(spec, stage=stage, on_stage=on_stage, source=source, as_of=as_of)
    if engines.chosen(spec) != "polars":
        if source is not None:
            raise ConfigError(f"dataset.engine={spec.engine} reads dataset.path or a table, not a frame in memory")
        if clv is not None and (isinstance(clv, clv_mod.ClvParams) or clv.enabled):
            raise ConfigError(f"clv reads each customer's purchase days from the log: with "
                              f"dataset.engine={spec.engine} set clv.enabled=false, or dataset.engine=polars")
        return pushed_down(spec, stage=stage, on_stage=on_stage, as_of=as_of)
    log = clean_log(spec, stage=stage, on_stage=on_stage, source=source, as_of=as_of)
    with stage("features"), reading(log.src):
        agg = clean_mod.remove_repeats(features.aggregate(log.kept), log.repeats)
        customers, as_of = _table(agg, log.report, on_stage=on_stage, as_of=as_of)
    if isinstance(clv, clv_mod.ClvParams):
        with reading(log.src):
            days = clv_mod.purchase_days(log.kept, repeats=log.repeats)
        summary = clv_mod.summary(days, as_of=as_of, time_unit=clv.time_unit)
        customers = customers.join(clv_mod.predict(summary, clv), on="customer_id", how="left")
    elif clv is not None and clv.enabled:
        customers = with_clv(log, customers, as_of=as_of, spec=clv, seed=seed, stage=stage, on_stage=on_stage)
    on_stage("features", customers)
    return customers, as_of, log.report, log.src.digest


def _table(agg: pl.DataFrame, report: clean_mod.CleaningReport, *, on_stage: Callable, as_of: date | None):
    """Per-customer aggregates (``features.aggregate``'s columns) to the customer table, the report completed."""
    agg, dropped = clean_mod.nonpositive(agg)
    returns = int(agg["_return_lines"].sum())
    rows_out = int(agg["_lines"].sum())
    clean_mod.finish(
        report, dropped_customers_lines=dropped, rows_out=rows_out, customers=agg.height, returns=returns, as_of=as_of
    )
    on_stage("clean", report)
    return features.table(agg, as_of=as_of)


def pushed_down(
    spec: load.DatasetSpec,
    *,
    stage: Callable = no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    as_of: date | None = None,
) -> tuple[pl.DataFrame, date, clean_mod.CleaningReport, str]:
    """load -> clean -> RFM as one query run by the engine that holds the log (``data.pushdown``): only one row per
    customer and reason comes back, then the customer table is made as ``customer_table`` makes it."""
    from rfmlab.data import pushdown

    engine = engines.chosen(spec)
    with stage("load"):
        opened = engines.open_log(spec)
        try:  # the engine's connection (or session) is closed whatever fails once it is open
            spec, detected = pushdown.resolve_date_format(spec, opened.head)
            fmt = {"date_format": spec.date_format, "detected": detected, "zone": None}
            on_stage("load", {"head": opened.head, "digest": opened.digest, "digest_note": opened.digest_note,
                              **fmt, "lineage": opened.lineage})  # fmt: skip
        except BaseException:
            opened.close()
            raise
    try:
        with stage("clean"):
            expr = pushdown.expression(
                engines.ibis_for(engine), opened.table, spec, engine=engine, text=opened.text, as_of=as_of
            )
            try:
                groups = expr.to_polars()
            except Exception as e:
                raise engines.engine_error(engine, opened.shown, e, uri=spec.uri) from None
            report, agg = pushdown.report_and_aggregates(groups, spec, as_of=as_of, engine=engine, shown=opened.shown)
            report.filter = spec.filter or None
        with stage("features"):
            customers, as_of = _table(agg, report, on_stage=on_stage, as_of=as_of)
            on_stage("features", customers)
    finally:
        opened.close()
    return customers, as_of, report, opened.digest


def with_clv(
    log: CleanLog,
    customers: pl.DataFrame,
    *,
    as_of: date,
    spec: clv_mod.ClvSpec,
    seed: int = 0,
    stage: Callable = no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
) -> pl.DataFrame:
    """The customer table with ``schema.CLV_COLUMNS``: the kept lines read once more per customer and day (one
    streaming pass, ``clv.purchase_days``), the fits on the per-customer summary, the predictions joined."""
    with stage("clv: summary"), reading(log.src):
        days = clv_mod.purchase_days(log.kept, repeats=log.repeats)
    with stage(f"clv: BG/NBD + Gamma-Gamma ({spec.method})"):
        result = clv_mod.run(days, as_of=as_of, spec=spec, seed=seed, customers=customers["customer_id"])
    on_stage("clv", result)
    return customers.join(result.predictions, on="customer_id", how="left")


def table_of(
    spec: load.DatasetSpec,
    *,
    stage: Callable = no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    source: load.Source | None = None,
    as_of: date | None = None,
) -> tuple[pl.DataFrame, date | None, clean_mod.CleaningReport, str]:
    """A customer table read and checked (``data.tables``) as ``customer_table`` returns a log's: its analysis date
    is None when recency is given in days and ``dataset.analysis_date`` is not; its report says nothing was
    cleaned (``source: customer table``)."""
    with stage("load"):
        src = source or load.scan(spec)
        on_stage("load", {"head": src.head, "digest": src.digest, "digest_note": src.digest_note,
                          "lineage": src.lineage})  # fmt: skip
    with stage("features"), reading(src):
        customers, as_of = tables.customers(src, spec=spec, as_of=as_of)
        report = tables.report(customers, spec=spec)
        on_stage("clean", report)
        on_stage("features", customers)
    return customers, as_of, report, src.digest
