"""The over-time run's description (markdown for MLflow's Overview page): shares first and last, the largest
movements, what feeds At Risk, how steady Champions are, drift."""

from __future__ import annotations

import polars as pl

from rfmlab import timeline


def markdown(segmented, *, matrices, acts: pl.DataFrame, psi: pl.DataFrame, threshold: float, source: str) -> str:
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
