"""Figures for a run: pure functions that return matplotlib / plotly figures (no file I/O).

The tracking module decides where they are saved. Large tables are subsampled (seeded) for scatter figures.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from rfmlab.report import interactive

RFM = ("recency", "frequency", "monetary")


def subplots(*grid: int, figsize, **kw):
    """``plt.subplots`` without pyplot: a Figure not registered with any GUI backend (a notebook's or a desktop's
    backend is left as the user chose it; the commands draw with Agg), and its axes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kw)


NOISE_COLOR = "#9e9e9e"


def _names(labels, names: dict[int, str] | None) -> dict[int, str]:
    out = {}
    for c in sorted(set(int(v) for v in labels)):
        base = "noise" if c == -1 else f"cluster {c}"
        out[c] = f"{c}: {names[c]}" if names and c in names else base
    return out


def _colors(labels) -> dict[int, str]:
    cmap = matplotlib.colormaps.get_cmap("tab10" if len(set(labels)) <= 11 else "tab20")
    ids = [c for c in sorted(set(int(v) for v in labels)) if c != -1]
    colors = {c: matplotlib.colors.to_hex(cmap(i % cmap.N)) for i, c in enumerate(ids)}
    colors[-1] = NOISE_COLOR
    return colors


def _sample(customers: pl.DataFrame, max_points: int, seed: int) -> pl.DataFrame:
    return customers.sample(max_points, seed=seed) if customers.height > max_points else customers


def scatter3d_png(customers: pl.DataFrame, *, names=None, max_points: int = 5000, seed: int = 0):
    df = _sample(customers, max_points, seed)
    labels = df["cluster"].to_numpy()
    fig = Figure(figsize=(8, 6.5))
    ax = fig.add_subplot(projection="3d")
    colors, label_names = _colors(labels), _names(labels, names)
    for c in sorted(colors):
        m = labels == c
        if m.any():
            ax.scatter(
                *(np.log1p(df[col].to_numpy()[m]) for col in RFM),
                s=6,
                alpha=0.6,
                color=colors[c],
                label=label_names[c],
            )
    ax.set_xlabel("log1p(recency, days)")
    ax.set_ylabel("log1p(frequency)")
    ax.set_zlabel("log1p(monetary)")
    ax.set_title("Customers in RFM space")
    ax.legend(loc="upper left", fontsize=7, markerscale=2)
    fig.tight_layout()
    return fig


def scatter3d_html(customers: pl.DataFrame, *, names=None, max_points: int = 5000, seed: int = 0) -> str:
    import plotly.graph_objects as go

    df = _sample(customers, max_points, seed)
    labels = df["cluster"].to_numpy()
    colors, label_names = _colors(labels), _names(labels, names)
    fig = go.Figure()
    for c in sorted(colors):
        m = labels == c
        if not m.any():
            continue
        sub = df.filter(pl.Series(m))
        fig.add_trace(
            go.Scatter3d(
                x=sub["recency"],
                y=sub["frequency"],
                z=sub["monetary"],
                mode="markers",
                name=label_names[c],
                marker={"size": 2.5, "color": colors[c], "opacity": 0.7},
                text=sub["customer_id"],
                hovertemplate="customer %{text}<br>R %{x} d<br>F %{y}<br>M %{z:,.2f}<extra></extra>",
            )
        )
    fig.update_layout(
        title="Customers in RFM space (log axes)",
        height=700,
        legend={"itemsizing": "constant"},
        scene={
            "xaxis": {"title": "recency (days)", "type": "log"},
            "yaxis": {"title": "frequency", "type": "log"},
            "zaxis": {"title": "monetary", "type": "log"},
        },
    )
    return interactive.page([(None, fig)], title="Customers in RFM space")


def cluster_sizes(profile: pl.DataFrame, *, names=None):
    ids = profile["cluster"].to_list()
    colors, label_names = _colors(ids), _names(ids, names)
    fig, ax = subplots(figsize=(7, 0.45 * len(ids) + 1.5))
    ax.barh([label_names[c] for c in ids], profile["size"].to_list(), color=[colors[c] for c in ids])
    for y, (size, share) in enumerate(zip(profile["size"], profile["share"], strict=True)):
        ax.text(size, y, f" {size:,} ({share:.0%})", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("customers")
    ax.set_title("Cluster sizes")
    ax.margins(x=0.2)
    fig.tight_layout()
    return fig


def rfm_boxplots(customers: pl.DataFrame, *, names=None):
    labels = customers["cluster"].to_numpy()
    ids = sorted(set(int(v) for v in labels))
    colors, label_names = _colors(labels), _names(labels, names)
    fig, axes = subplots(1, 3, figsize=(13, 0.35 * len(ids) + 2.5), sharey=True)
    for ax, col in zip(axes, RFM, strict=True):
        vals = customers[col].to_numpy()
        data = [vals[labels == c] for c in ids]
        bp = ax.boxplot(
            data,
            orientation="horizontal",
            patch_artist=True,
            showfliers=False,
            widths=0.6,
            medianprops={"color": "black", "linewidth": 1.5},
        )
        for patch, c in zip(bp["boxes"], ids, strict=True):
            patch.set_facecolor(colors[c])
            patch.set_alpha(0.75)
        ax.set_title(col)
        if col != "recency":
            ax.set_xscale("log")
    axes[0].set_yticks(range(1, len(ids) + 1), [label_names[c] for c in ids])
    axes[0].invert_yaxis()
    axes[0].set_xlabel("days since last purchase")
    axes[1].set_xlabel("purchases (log)")
    axes[2].set_xlabel("net value (log)")
    fig.suptitle("R, F, M per cluster (boxes: quartiles, whiskers: 1.5 IQR)")
    fig.tight_layout()
    return fig


def profile_heatmap(profile: pl.DataFrame, *, names=None):
    cols = [c for c in profile.columns if c.endswith("_median") or c in ("share", "revenue_share", "return_rate_mean")]
    ids = profile["cluster"].to_list()
    label_names = _names(ids, names)
    M = profile.select(cols).to_numpy().astype(float)
    z = (M - M.mean(0)) / np.where(M.std(0) > 0, M.std(0), 1)
    lower_is_better = [c in ("recency_median", "return_rate_mean") for c in cols]
    z[:, lower_is_better] *= -1
    fig, ax = subplots(figsize=(1.2 * len(cols) + 3, 0.5 * len(ids) + 2))
    im = ax.imshow(z, cmap="RdYlGn", aspect="auto", vmin=-2, vmax=2)
    ax.set_xticks(
        range(len(cols)),
        [c.replace("_median", " (median)").replace("_mean", " (mean)") for c in cols],
        rotation=30,
        ha="right",
    )
    ax.set_yticks(range(len(ids)), [label_names[c] for c in ids])
    for i in range(len(ids)):
        for j in range(len(cols)):
            v = M[i, j]
            txt = f"{v:.0%}" if cols[j] in ("share", "revenue_share", "return_rate_mean") else f"{v:,.0f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=8)
    ax.set_title("Cluster profiles (green = better than the average cluster; low recency and returns are better)")
    fig.colorbar(im, ax=ax, label="z-score across clusters")
    fig.tight_layout()
    return fig


def close(fig) -> None:
    """Release a figure: pyplot's (Optuna draws with pyplot) are closed; rfmlab's own are plain Figures."""
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def stability_bars(table: pl.DataFrame, *, stab=None):
    """Each cluster's stability (mean bootstrap Jaccard) as a bar under its business name, coloured by
    Hennig's reading, with the band limits (``evaluate.BANDS``: 0.6 / 0.75 / 0.85) as lines."""
    from rfmlab.evaluate import BANDS

    colors = {"dissolved": "#d62728", "doubtful": "#ff7f0e", "stable": "#2ca02c", "highly stable": "#1a7a1a"}
    xmax = 1.08
    t = table.sort("stability", descending=True, nulls_last=True)
    labels = [f"{c}: {s} (n={n:,})" for c, s, n in t.select("cluster", "segment", "customers_in_sample").iter_rows()]
    values = np.nan_to_num(t["stability"].to_numpy(), nan=0.0)
    fig, ax = subplots(figsize=(8, 0.45 * len(labels) + 1.8))
    ax.barh(range(len(labels)), values, color=[colors.get(r, NOISE_COLOR) for r in t["reading"]])
    lows = (0.0, *(upper for upper, _ in BANDS[:-1]))
    for lo, (hi, name) in zip(lows, BANDS, strict=True):
        hi = min(hi, xmax)
        if lo > 0:
            ax.axvline(lo, color="#555", ls=":", lw=1)
        ax.text((lo + hi) / 2, 1.01, name, transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7,
                color=colors[name])  # fmt: skip
    for i, v in enumerate(values):
        ax.annotate(f"{v:.2f}", (min(v, 1.0), i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, xmax)
    ax.set_xlabel("stability: mean Jaccard with the best-matching cluster of a resample")
    how = f"{len(stab.jaccard)} {stab.method} resamples; " if stab is not None else ""
    ax.set_title(f"Cluster stability ({how}noise left out)", fontsize=10, pad=14)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- segments
def contingency_heatmap(
    table: pl.DataFrame, *, row_names: dict[int, str] | None, scheme: str, ari: float | None = None
):
    """Clusters x rule segments: share of each cluster's customers in each segment (counts printed)."""
    rows = table[table.columns[0]].to_list()
    cols = table.columns[1:]
    counts = table.select(cols).to_numpy().astype(float)
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    labels = _names(rows, row_names)
    fig, ax = subplots(figsize=(1.0 * len(cols) + 4, 0.5 * len(rows) + 2.5))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=35, ha="right")
    ax.set_yticks(range(len(rows)), [labels[r] for r in rows])
    for i in range(len(rows)):
        for j in range(len(cols)):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    f"{int(counts[i, j]):,}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if share[i, j] > 0.6 else "black",
                )
    title = f"Clusters vs {scheme} segments"
    if ari is not None and ari == ari:
        title += f" (ARI {ari:.2f})"
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="share of the cluster")
    fig.tight_layout()
    return fig


def segments_html(title: str, *, sections: list[tuple[str, str, pl.DataFrame]]) -> str:
    """A readable, self-contained HTML page of segment summaries (one table per section)."""
    import html

    def fmt(col, v):
        if v is None:
            return ""
        if col in ("share", "revenue_share"):
            return f"{v:.1%}"
        if isinstance(v, float):
            return f"{v:,.2f}" if col == "median_monetary" else f"{v:,.0f}"
        return html.escape(str(v))

    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
        "margin-bottom:2.5em}th,td{padding:.35em .8em;border-bottom:1px solid #ddd;text-align:right}"
        "th{background:#f3f5f8}td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}"
        "caption{text-align:left;font-weight:600;font-size:1.1em;margin:.4em 0}.d{color:#666;margin:-.2em 0 .6em}"
        "</style></head><body><h1>" + html.escape(title) + "</h1>",
    ]
    for name, description, df in sections:
        parts.append(f"<h2>{html.escape(name)}</h2><p class='d'>{html.escape(description)}</p><table><tr>")
        parts += [f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in df.columns]
        parts.append("</tr>")
        for row in df.iter_rows(named=True):
            parts.append("<tr>" + "".join(f"<td>{fmt(c, v)}</td>" for c, v in row.items()) + "</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def ari_heatmap(ari: pl.DataFrame):
    ids = ari["run_id"].to_list()
    m = ari.select(ids).to_numpy()
    fig, ax = subplots(figsize=(0.8 * len(ids) + 3, 0.7 * len(ids) + 2))
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(ids)), ids, rotation=45, ha="right")
    ax.set_yticks(range(len(ids)), ids)
    for i in range(len(ids)):
        for j in range(len(ids)):
            ax.text(
                j,
                i,
                f"{m[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if m[i, j] < 0.6 else "black",
            )
    ax.set_title("Agreement between runs (adjusted Rand index)")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig
