"""Figures of segments over time (``rfmlab-timeline``): shares per snapshot, a transition heatmap, the Sankey
of all snapshots (a plotly page that needs no network, and a matplotlib alluvial PNG of the same flows), PSI
drift. No file I/O."""

from __future__ import annotations

from datetime import date

import matplotlib
import matplotlib.patches
import numpy as np
import polars as pl

from rfmlab.report import interactive
from rfmlab.report.figures import subplots

PALETTE = matplotlib.colormaps.get_cmap("tab20")


def _color(names: list[str]) -> dict[str, str]:
    import matplotlib

    return {n: matplotlib.colors.to_hex(PALETTE(i % 20)) for i, n in enumerate(sorted(names))}


def shares(counts: pl.DataFrame):
    """Stacked shares of each segment per snapshot (``counts``: snapshot, segment, customers)."""
    wide = counts.pivot(on="segment", index="snapshot", values="customers").fill_null(0).sort("snapshot")
    names = [c for c in wide.columns if c != "snapshot"]
    total = wide.select(names).sum_horizontal().to_numpy()
    colors = _color(names)
    fig, ax = subplots(figsize=(10, 5))
    x = wide["snapshot"].to_list()
    ax.stackplot(x, *[wide[n].to_numpy() / np.maximum(total, 1) for n in names], labels=names,
                 colors=[colors[n] for n in names])  # fmt: skip
    ax.set_ylabel("share of customers")
    ax.set_ylim(0, 1)
    ax.set_title("Segment shares per snapshot")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def transition_heatmap(matrix: pl.DataFrame, title: str):
    """Counts from row segment (previous snapshot) to column segment, with row shares in the cells."""
    cols = [c for c in matrix.columns if c != "from"]
    m = matrix.select(cols).to_numpy().astype(float)
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = subplots(figsize=(1.1 * len(cols) + 3, 0.55 * len(m) + 2))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(m)), matrix["from"].to_list(), fontsize=8)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                ax.text(j, i, f"{int(m[i, j]):,}\n{share[i, j]:.0%}", ha="center", va="center", fontsize=7,
                        color="white" if share[i, j] > 0.6 else "black")  # fmt: skip
    ax.set_xlabel("to (this snapshot)")
    ax.set_ylabel("from (previous snapshot)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _flows(path: pl.DataFrame) -> tuple[list[date], pl.DataFrame]:
    """Consecutive-snapshot flows (step, from, to, customers) of the customers present at both ends."""
    snaps = sorted(path["snapshot"].unique().to_list())
    step = {d: i for i, d in enumerate(snaps)}
    p = path.with_columns(pl.col("snapshot").replace_strict(step, return_dtype=pl.Int32).alias("i"))
    nxt = p.select("customer_id", (pl.col("i") - 1).alias("i"), pl.col("segment").alias("to"))
    flows = p.join(nxt, on=["customer_id", "i"]).group_by("i", "segment", "to").len().sort("i", "segment", "to")
    return snaps, flows.rename({"segment": "from", "len": "customers"})


def sankey_html(path: pl.DataFrame) -> str:
    """One Sankey across all snapshots: a node per (snapshot, segment), links between consecutive ones."""
    import plotly.graph_objects as go

    snaps, flows = _flows(path)
    sizes = path.group_by("snapshot", "segment").len()
    names = sorted(path["segment"].unique().to_list())
    colors = _color(names)
    keys = sorted((d, s) for d, s in sizes.select("snapshot", "segment").iter_rows())
    nodes = {key: k for k, key in enumerate(keys)}
    src = [nodes[(snaps[i], a)] for i, a, _, _ in flows.iter_rows()]
    dst = [nodes[(snaps[i + 1], b)] for i, _, b, _ in flows.iter_rows()]
    fig = go.Figure(go.Sankey(
        node={"label": [f"{s} ({d:%Y-%m-%d})" for d, s in nodes], "color": [colors[s] for _, s in nodes], "pad": 8},
        link={"source": src, "target": dst, "value": flows["customers"].to_list()},
    ))  # fmt: skip
    fig.update_layout(title="Customers between segments, snapshot to snapshot", height=700)
    return interactive.page([(None, fig)], title="Customers between segments")


def alluvial(path: pl.DataFrame):
    """The Sankey's flows as a static picture: a stacked bar per snapshot, bands between consecutive bars."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    snaps, flows = _flows(path)
    names = sorted(path["segment"].unique().to_list())
    colors = _color(names)
    sizes = {(d, s): n for d, s, n in path.group_by("snapshot", "segment").len().iter_rows()}
    total = max(sum(n for (d, _), n in sizes.items() if d == s) for s in snaps)
    gap, width = 0.02 * total, 0.25
    fig, ax = subplots(figsize=(max(8, 1.1 * len(snaps)), 6))
    bottoms: dict[tuple[int, str], float] = {}
    for i, d in enumerate(snaps):
        y = 0.0
        for s in names:
            n = sizes.get((d, s), 0)
            if n:
                ax.bar(i, n, width, bottom=y, color=colors[s], edgecolor="white", linewidth=0.5)
                bottoms[(i, s)] = y
                y += n + gap
    out_y, in_y = dict(bottoms), dict(bottoms)
    for i, a, b, n in flows.iter_rows():
        y0, y1 = out_y[(i, a)], in_y[(i + 1, b)]
        out_y[(i, a)] += n
        in_y[(i + 1, b)] += n
        x0, x1 = i + width / 2, i + 1 - width / 2
        xm = (x0 + x1) / 2
        verts = [(x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 + n), (xm, y1 + n), (xm, y0 + n), (x0, y0 + n),
                 (x0, y0)]  # fmt: skip
        codes = [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4, MPath.LINETO, MPath.CURVE4, MPath.CURVE4,
                 MPath.CURVE4, MPath.CLOSEPOLY]  # fmt: skip
        ax.add_patch(PathPatch(MPath(verts, codes), facecolor=colors[a], alpha=0.35, edgecolor="none"))
    ax.set_xticks(range(len(snaps)), [f"{d:%Y-%m-%d}" for d in snaps], rotation=40, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_title("Customers between segments, snapshot to snapshot")
    handles = [matplotlib.patches.Rectangle((0, 0), 1, 1, color=colors[s]) for s in names]
    ax.legend(handles, names, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def psi_lines(psi: pl.DataFrame, *, threshold: float):
    """PSI per feature per snapshot (``psi``: snapshot, feature, psi), the warning threshold dashed."""
    fig, ax = subplots(figsize=(9, 4.5))
    for f in sorted(psi["feature"].unique().to_list()):
        part = psi.filter(pl.col("feature") == f).sort("snapshot")
        ax.plot(part["snapshot"].to_list(), part["psi"].to_list(), marker="o", label=f)
    ax.axhline(threshold, color="#d62728", ls="--", label=f"threshold {threshold}")
    ax.set_ylabel("population stability index")
    ax.set_title("Feature drift against the promoted model's training customers")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
