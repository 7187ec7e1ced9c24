"""``report.html`` of an over-time run: segment shares over time, the flows between segments, the largest
movements and drift warnings, in one self-contained page (see ``report.page``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from rfmlab.report.page import esc, image, num, page, table


@dataclass(kw_only=True)
class TimelineFacts:
    title: str
    run_id: str
    url: str
    experiment: str
    when: str
    source: str  # the log
    segmented_by: str  # the model or the rule scheme
    every: str
    counts: pl.DataFrame  # tables/segment_counts.csv: snapshot, segment, customers
    transitions: dict[tuple[str, str], pl.DataFrame]  # (from date, to date) -> matrix (``from`` + one column each)
    psi: pl.DataFrame  # tables/psi.csv: snapshot, feature, psi
    threshold: float
    images: dict[str, bytes] = field(default_factory=dict)  # caption -> PNG bytes


def movements(transitions: dict[tuple[str, str], pl.DataFrame], *, top: int = 10) -> pl.DataFrame:
    """The largest flows between two different segments over all steps: from, to, customers, when."""
    rows = []
    for (a, b), m in transitions.items():
        for r in m.iter_rows(named=True):
            src = r["from"]
            rows += [(src, dst, int(n), f"{a} → {b}") for dst, n in r.items() if dst not in ("from", src) and n]
    schema = {"from": pl.String, "to": pl.String, "customers": pl.Int64, "when": pl.String}
    df = pl.DataFrame(rows, schema=schema, orient="row")
    return df.sort(["customers", "from", "to"], descending=[True, False, False]).head(top)


def shares(counts: pl.DataFrame) -> pl.DataFrame:
    """Each segment's share of customers at the first and the last snapshot, and the change."""
    snaps = sorted(counts["snapshot"].cast(pl.String).unique())
    total = counts.group_by("snapshot").agg(pl.col("customers").sum().alias("_n"))
    share = counts.join(total, on="snapshot").with_columns((pl.col("customers") / pl.col("_n")).alias("share"))
    first, last = (
        share.filter(pl.col("snapshot").cast(pl.String) == s).select("segment", pl.col("share").alias(s))
        for s in (snaps[0], snaps[-1])
    )
    out = first.join(last, on="segment", how="full", coalesce=True).fill_null(0.0)
    out = out.with_columns((pl.col(snaps[-1]) - pl.col(snaps[0])).alias("change"))
    return out.sort(snaps[-1], descending=True)


def _drift(f: TimelineFacts) -> str:
    high = f.psi.filter(pl.col("psi") > f.threshold).sort("psi", descending=True)
    if not high.height:
        return f"<p>No feature drifted beyond a PSI of {num(f.threshold)} between snapshots.</p>"
    worst = high.row(0, named=True)
    return (
        f"<p><b>Drift warning:</b> {high.height} feature reading(s) above a PSI of {num(f.threshold)}; the largest "
        f"is {esc(worst['feature'])} ({num(worst['psi'], digits=2)}) at {esc(worst['snapshot'])}. A PSI above 0.2 "
        "means the customers no longer look like the ones the segments were made from: check the model.</p>"
        + table(high.head(10))
    )


def timeline_page(f: TimelineFacts) -> str:
    snaps = sorted(f.counts["snapshot"].cast(pl.String).unique())
    moves = movements(f.transitions)
    figures = "".join(image(png, caption=cap) for cap, png in f.images.items())
    body = (
        f"<h1>{esc(f.title)}</h1><p class='sub'>{len(snaps)} snapshots every {esc(f.every)} ({esc(snaps[0])} to "
        f"{esc(snaps[-1])}) · segmented by {esc(f.segmented_by)} · run <a href='{esc(f.url)}'>{esc(f.run_id[:8])}</a>"
        f"</p><p>The customers of <code>{esc(f.source)}</code> at each snapshot date, each placed in a segment, and "
        "how they moved between segments.</p>"
        "<h2>Segment shares, first and last snapshot</h2>"
        + table(shares(f.counts).with_columns(pl.exclude("segment").round(3)), digits=3)  # fmt: skip
        + "<h2>Largest movements</h2><p>Customers who changed segment between two consecutive snapshots.</p>"
        + (table(moves) if moves.height else "<p>No customer changed segment.</p>")
        + "<h2>Drift</h2>"
        + _drift(f)
        + ("<h2>Charts</h2>" + figures if figures else "")
        + f"<footer>Made by rfmlab from MLflow run {esc(f.run_id)} in experiment {esc(f.experiment)}. "
        f"<a href='{esc(f.url)}'>Open the run</a>.</footer>"
    )
    return page(f.title, body)
