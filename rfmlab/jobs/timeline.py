"""The over-time job (``rfmlab-timeline``): a log's customers at every snapshot date, segmented by a
promoted model (or a rule scheme), their migration and feature drift, in one MLflow run."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from rfmlab import timeline
from rfmlab.data import locations
from rfmlab.mlflow_edge import catalog, tracking
from rfmlab.report import console, timeline_description

HEATMAPS = 24  # transition heatmaps drawn: the latest steps (every matrix is logged as CSV)


def _ms(d: date) -> int:
    return int(datetime.combine(d, datetime.min.time()).timestamp() * 1000)


def log_shares(handle, *, segmented: dict[date, pl.DataFrame]) -> pl.DataFrame:
    """Segment counts and shares per snapshot as stepped metrics; returns the counts table."""
    counts = pl.concat([df.group_by("segment").len().select(pl.lit(d).alias("snapshot"), "segment",
                                                               pl.col("len").alias("customers"))
                        for d, df in segmented.items()])  # fmt: skip
    rows = []
    for i, (d, df) in enumerate(segmented.items()):
        part = counts.filter(pl.col("snapshot") == d)
        for seg, n in part.select("segment", "customers").iter_rows():
            rows += [(tracking.metric_key("segment_share", seg), n / df.height, i, _ms(d)),
                     (tracking.metric_key("segment_count", seg), n, i, _ms(d))]  # fmt: skip
        rows.append(("customers", df.height, i, _ms(d)))
        if "clv" in df.columns:  # expected value per segment (a model fitted with CLV)
            for r in df.group_by("segment").agg(pl.col("clv").sum().alias("t"), pl.col("clv").mean().alias("m")).rows():
                rows += [(tracking.metric_key("clv_total", r[0]), float(r[1]), i, _ms(d)),
                         (tracking.metric_key("clv_mean", r[0]), float(r[2]), i, _ms(d))]  # fmt: skip
            rows.append(("clv.total", float(df["clv"].sum()), i, _ms(d)))
    handle.log_series(rows)
    return counts


def run(spec: timeline.TimelineSpec, *, segment, reference: dict | None, tags: dict, uri: str, source: str) -> dict:
    """Snapshots -> segments (``segment(table) -> customer_id, segment``) -> one MLflow run with stepped
    shares, transition matrices, Sankey, paths, activity and PSI drift (against ``reference``, or the first
    snapshot without a model). Returns the run id, link and what was computed."""
    with tracking.start_run(
        uri, experiment=spec.experiment, run_name=f"track-{spec.every}", tags={**tags, "rfmlab.track": spec.every}
    ) as h:
        h.log_params({"input": locations.shown(spec.input), "every": spec.every, "start": str(spec.start),
                      "end": str(spec.end), "psi_threshold": spec.psi_threshold,
                      "dataset.name": spec.dataset.get("name"), "table": spec.table, "query": spec.query})  # fmt: skip
        tables, log = timeline.snapshot_tables(spec, stage=console.stage)
        h.log_dict(log.report.to_dict(), catalog.CLEANING_REPORT)
        with console.stage("segments per snapshot"):
            segmented = {d: segment(t) for d, t in tables.items()}
        counts = log_shares(h, segmented=segmented)
        snaps = list(segmented)
        pairs = zip(snaps, snaps[1:], strict=False)
        matrices = {(a, b): timeline.transitions(segmented[a], segmented[b]) for a, b in pairs}
        acts = timeline.activity(tables)
        h.log_series([(k, float(v), i, _ms(d)) for i, r in enumerate(acts.iter_rows(named=True)) for k, v in r.items()
                      if k != "snapshot" for d in [r["snapshot"]]])  # fmt: skip
        ref = reference or timeline.first_snapshot_reference(tables)
        psi = timeline.drift(tables, reference=ref)
        h.log_series([(f"psi.{f}", p, snaps.index(d), _ms(d)) for d, f, p in psi.iter_rows()])
        _log_artifacts(h, segmented, counts, matrices, acts, psi, spec.psi_threshold)
        high = psi.filter(pl.col("psi") > spec.psi_threshold)
        if high.height:
            worst = high.sort("psi").row(-1, named=True)
            console.console.print(f"  [yellow]drift: {high.height} PSI above {spec.psi_threshold}[/] (largest "
                                  f"{worst['feature']} {worst['psi']:.2f} at {worst['snapshot']})")  # fmt: skip
        text = timeline_description.markdown(
            segmented, matrices=matrices, acts=acts, psi=psi, threshold=spec.psi_threshold, source=source
        )
        h.set_tags({"mlflow.note.content": text, "rfmlab.drift": str(bool(high.height)).lower()})
        from rfmlab.jobs import report_page

        report_page.log(h)
    link = tracking.run_url(tracking.ui_url({}, uri), h.experiment_id, h.run_id)
    return {"run_id": h.run_id, "url": link, "snapshots": snaps, "matrices": matrices, "psi": psi, "text": text}


def _log_artifacts(h, segmented, counts, matrices, acts, psi, threshold) -> None:
    from rfmlab.report import figures_timeline as pm
    from rfmlab.report.figures import close

    path = timeline.paths(segmented)
    frames = {catalog.PATHS: path, catalog.SEGMENT_COUNTS: counts, catalog.ACTIVITY: acts, catalog.PSI: psi}
    frames |= {catalog.transitions(a, b): m for (a, b), m in matrices.items()}
    tracking.log_tables(h, frames)
    figs = {catalog.SEGMENT_SHARES_PNG: pm.shares(counts), catalog.SANKEY_PNG: pm.alluvial(path)}
    if psi.height:
        figs[catalog.PSI_PNG] = pm.psi_lines(psi, threshold=threshold)
    for (a, b), m in list(matrices.items())[-HEATMAPS:]:  # one per step (the latest ones when there are many)
        figs[catalog.transitions_png(a, b)] = pm.transition_heatmap(m, f"From {a} to {b}")
    for name, fig in figs.items():
        h.log_figure(fig, name)
        close(fig)
    h.log_text(pm.sankey_html(path), catalog.SANKEY)
