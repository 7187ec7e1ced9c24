"""The tracking-over-time job (``rfmlab-track``): a log's customers at every snapshot date, segmented by a
promoted model (or a rule scheme), their migration and feature drift, in one MLflow run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from rfmlab import evaluate, pipeline, timeline
from rfmlab.data import load
from rfmlab.features import snapshots
from rfmlab.mlflow_edge import tracking
from rfmlab.report import console

FEATURES = ("recency", "frequency", "monetary")
HEATMAPS = 24  # transition heatmaps drawn: the latest steps (every matrix is logged as CSV)


@dataclass(kw_only=True)
class TrackSpec:
    dataset: dict  # layout and cleaning of the log (the model's, or --dataset's)
    input: str
    every: str = "month"
    start: date | None = None
    end: date | None = None
    experiment: str = "timeline"
    psi_threshold: float = 0.2


def metric_name(prefix: str, segment: str) -> str:
    """An MLflow-safe metric key (letters, digits, _ - . / and spaces)."""
    return prefix + "." + re.sub(r"[^0-9A-Za-z_\-. /]", "_", segment)


def _ms(d: date) -> int:
    return int(datetime.combine(d, datetime.min.time()).timestamp() * 1000)


def snapshot_tables(spec: TrackSpec, *, on_stage=lambda n, o: None) -> tuple[dict[date, pl.DataFrame], object]:
    """The customer table at each snapshot date, from one cleaning pass over the log."""
    ds = load.DatasetSpec.from_dict({**{k: v for k, v in spec.dataset.items() if k != "synthetic"},
                                     "path": spec.input, "download": {}, "synthetic": {}})  # fmt: skip
    log = pipeline.clean_log(ds, stage=console.stage, on_stage=on_stage)
    with console.stage("fold the kept lines"):
        rows = snapshots.fold(log.kept)
    if rows.height == 0:
        from rfmlab.errors import DataError

        raise DataError(f"no line of {spec.input} is left after cleaning; check --dataset and the file")
    days = rows[snapshots.DAY]
    when = snapshots.dates(days.min(), days.max(), every=spec.every, start=spec.start, end=spec.end)
    with console.stage(f"{len(when)} snapshots ({spec.every})"):
        tables = {d: snapshots.table(rows, repeats=log.repeats, as_of=d) for d in when}
    return {d: t for d, t in tables.items() if t.height}, log


def log_shares(handle, *, segmented: dict[date, pl.DataFrame]) -> pl.DataFrame:
    """Segment counts and shares per snapshot as stepped metrics; returns the counts table."""
    counts = pl.concat([df.group_by("segment").len().select(pl.lit(d).alias("snapshot"), "segment",
                                                               pl.col("len").alias("customers"))
                        for d, df in segmented.items()])  # fmt: skip
    rows = []
    for i, (d, df) in enumerate(segmented.items()):
        part = counts.filter(pl.col("snapshot") == d)
        for seg, n in part.select("segment", "customers").iter_rows():
            rows += [(metric_name("segment_share", seg), n / df.height, i, _ms(d)),
                     (metric_name("segment_count", seg), n, i, _ms(d))]  # fmt: skip
        rows.append(("customers", df.height, i, _ms(d)))
    handle.log_series(rows)
    return counts


def drift(tables: dict[date, pl.DataFrame], *, reference: dict, threshold: float) -> pl.DataFrame:
    """PSI of each feature at each snapshot against ``reference`` (feature -> ``evaluate.reference``)."""
    out = [
        {"snapshot": d, "feature": f, "psi": evaluate.psi(reference[f], t[f].to_numpy())}
        for d, t in tables.items()
        for f in reference
        if f in t.columns
    ]
    return pl.DataFrame(out, schema={"snapshot": pl.Date, "feature": pl.String, "psi": pl.Float64})


def summary(segmented, *, matrices, acts: pl.DataFrame, psi: pl.DataFrame, threshold: float, source: str) -> str:
    """The run's markdown description: the snapshots, the biggest movements, what feeds At Risk, how steady
    Champions are, drift."""
    snaps = list(segmented)
    first, last = segmented[snaps[0]], segmented[snaps[-1]]
    share = lambda df: dict(df.group_by("segment").len().select("segment", pl.col("len") / df.height).iter_rows())  # noqa: E731
    a, b = share(first), share(last)
    lines = [f"### Segments over {len(snaps)} snapshots, {snaps[0]} to {snaps[-1]} ({source})", "",
             f"**Customers** {first.height:,} -> {last.height:,}; new in the last period "
             f"{int(acts['new'][-1]):,}, returning {int(acts['returning'][-1]):,}, lapsed {int(acts['lapsed'][-1]):,}",
             "", "| segment | first share | last share | change |", "|---|---:|---:|---:|"]  # fmt: skip
    for seg in sorted(set(a) | set(b), key=lambda s: -b.get(s, 0)):
        lines.append(f"| {seg} | {a.get(seg, 0):.1%} | {b.get(seg, 0):.1%} | {b.get(seg, 0) - a.get(seg, 0):+.1%} |")
    moves = timeline.largest_moves(matrices)
    if moves:
        lines += ["", "**Largest movements** (all steps): " + "; ".join(f"{x} -> {y} {n:,}" for x, y, n in moves)]
    for target in ("At Risk", "At-Risk"):
        feed = timeline.feeders(matrices, target)
        if feed:
            lines += ["", f"**{target} is fed by** " + ", ".join(f"{s} {n:,}" for s, n in feed[:4])]
    kept = [r for r in timeline.retention(matrices, "Champions") if r == r]
    if kept:
        lines += ["", f"**Champions** stay Champions from one snapshot to the next: {sum(kept) / len(kept):.0%} on "
                      f"average (lowest {min(kept):.0%})"]  # fmt: skip
    high = psi.filter(pl.col("psi") > threshold)
    if psi.height:
        lines += ["", f"**Drift** {high.height} (snapshot, feature) PSI above {threshold}" + (
            f"; largest {high.sort('psi')['feature'][-1]} {high['psi'].max():.2f}" if high.height else "")]  # fmt: skip
    return "\n".join(lines)


def run(spec: TrackSpec, *, segment, reference: dict | None, tags: dict, uri: str, source: str) -> dict:
    """Snapshots -> segments (``segment(table) -> customer_id, segment``) -> one MLflow run with stepped
    shares, transition matrices, Sankey, paths, activity and PSI drift (against ``reference``, or the first
    snapshot without a model). Returns the run id, link and what was computed."""
    with tracking.start_run(
        uri, experiment=spec.experiment, run_name=f"track-{spec.every}", tags={**tags, "rfmlab.track": spec.every}
    ) as h:
        h.log_params({"input": spec.input, "every": spec.every, "start": str(spec.start), "end": str(spec.end),
                      "psi_threshold": spec.psi_threshold, "dataset.name": spec.dataset.get("name")})  # fmt: skip
        tables, log = snapshot_tables(spec)
        h.log_dict(log.report.to_dict(), "data/cleaning_report.json")
        with console.stage("segments per snapshot"):
            segmented = {d: segment(t) for d, t in tables.items()}
        counts = log_shares(h, segmented=segmented)
        snaps = list(segmented)
        pairs = zip(snaps, snaps[1:], strict=False)
        matrices = {(a, b): timeline.transitions(segmented[a], segmented[b]) for a, b in pairs}
        acts = timeline.activity(tables)
        h.log_series([(k, float(v), i, _ms(d)) for i, r in enumerate(acts.iter_rows(named=True)) for k, v in r.items()
                      if k != "snapshot" for d in [r["snapshot"]]])  # fmt: skip
        ref = reference or {f: evaluate.reference(tables[snaps[0]][f].to_numpy()) for f in FEATURES}
        psi = drift(tables, reference=ref, threshold=spec.psi_threshold)
        h.log_series([(f"psi.{f}", p, snaps.index(d), _ms(d)) for d, f, p in psi.iter_rows()])
        _log_artifacts(h, segmented, counts, matrices, acts, psi, spec.psi_threshold)
        high = psi.filter(pl.col("psi") > spec.psi_threshold)
        if high.height:
            worst = high.sort("psi").row(-1, named=True)
            console.console.print(f"  [yellow]drift: {high.height} PSI above {spec.psi_threshold}[/] (largest "
                                  f"{worst['feature']} {worst['psi']:.2f} at {worst['snapshot']})")  # fmt: skip
        text = summary(segmented, matrices=matrices, acts=acts, psi=psi, threshold=spec.psi_threshold, source=source)
        h.set_tags({"mlflow.note.content": text, "rfmlab.drift": str(bool(high.height)).lower()})
    link = tracking.run_url(tracking.ui_url({}, uri), h.experiment_id, h.run_id)
    return {"run_id": h.run_id, "url": link, "snapshots": snaps, "matrices": matrices, "psi": psi, "text": text}


def _log_artifacts(h, segmented, counts, matrices, acts, psi, threshold) -> None:
    from rfmlab.report import figures_timeline as pm
    from rfmlab.report.figures import close

    path = timeline.paths(segmented)
    frames = {"paths.parquet": path, "segment_counts.csv": counts, "activity.csv": acts, "psi.csv": psi}
    frames |= {f"transitions/{a}_to_{b}.csv": m for (a, b), m in matrices.items()}
    tracking.log_table(h, frames, path="tables")
    figs = {"plots/segment_shares.png": pm.shares(counts), "plots/sankey.png": pm.alluvial(path)}
    if psi.height:
        figs["plots/psi.png"] = pm.psi_lines(psi, threshold=threshold)
    for (a, b), m in list(matrices.items())[-HEATMAPS:]:  # one per step (the latest ones when there are many)
        figs[f"plots/transitions/{a}_to_{b}.png"] = pm.transition_heatmap(m, f"From {a} to {b}")
    for name, fig in figs.items():
        h.log_figure(fig, name)
        close(fig)
    h.log_text(pm.sankey_html(path), "plots/sankey.html")
