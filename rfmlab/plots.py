"""Figures for a run: pure functions that return matplotlib / plotly figures (no file I/O).

The tracking module decides where they are saved. Large tables are subsampled (seeded) for scatter plots.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

RFM = ("recency", "frequency", "monetary")
NOISE_COLOR = "#9e9e9e"


def _names(labels, names: dict[int, str] | None) -> dict[int, str]:
    out = {}
    for c in sorted(set(int(v) for v in labels)):
        base = "noise" if c == -1 else f"cluster {c}"
        out[c] = f"{c}: {names[c]}" if names and c in names else base
    return out


def _colors(labels) -> dict[int, str]:
    cmap = plt.get_cmap("tab10" if len(set(labels)) <= 11 else "tab20")
    ids = [c for c in sorted(set(int(v) for v in labels)) if c != -1]
    colors = {c: matplotlib.colors.to_hex(cmap(i % cmap.N)) for i, c in enumerate(ids)}
    colors[-1] = NOISE_COLOR
    return colors


def _sample(customers: pl.DataFrame, max_points: int, seed: int) -> pl.DataFrame:
    return customers.sample(max_points, seed=seed) if customers.height > max_points else customers


def scatter3d_png(customers: pl.DataFrame, names=None, max_points: int = 5000, seed: int = 0):
    df = _sample(customers, max_points, seed)
    labels = df["cluster"].to_numpy()
    fig = plt.figure(figsize=(8, 6.5))
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


def scatter3d_html(customers: pl.DataFrame, names=None, max_points: int = 5000, seed: int = 0) -> str:
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
    return fig.to_html(include_plotlyjs="cdn", full_html=True)


def cluster_sizes(profile: pl.DataFrame, names=None):
    ids = profile["cluster"].to_list()
    colors, label_names = _colors(ids), _names(ids, names)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(ids) + 1.5))
    ax.barh([label_names[c] for c in ids], profile["size"].to_list(), color=[colors[c] for c in ids])
    for y, (size, share) in enumerate(zip(profile["size"], profile["share"], strict=True)):
        ax.text(size, y, f" {size:,} ({share:.0%})", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("customers")
    ax.set_title("Cluster sizes")
    ax.margins(x=0.2)
    fig.tight_layout()
    return fig


def rfm_boxplots(customers: pl.DataFrame, names=None):
    labels = customers["cluster"].to_numpy()
    ids = sorted(set(int(v) for v in labels))
    colors, label_names = _colors(labels), _names(labels, names)
    fig, axes = plt.subplots(1, 3, figsize=(13, 0.35 * len(ids) + 2.5), sharey=True)
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


def profile_heatmap(profile: pl.DataFrame, names=None):
    cols = [c for c in profile.columns if c.endswith("_median") or c in ("share", "revenue_share", "return_rate_mean")]
    ids = profile["cluster"].to_list()
    label_names = _names(ids, names)
    M = profile.select(cols).to_numpy().astype(float)
    z = (M - M.mean(0)) / np.where(M.std(0) > 0, M.std(0), 1)
    lower_is_better = [c in ("recency_median", "return_rate_mean") for c in cols]
    z[:, lower_is_better] *= -1
    fig, ax = plt.subplots(figsize=(1.2 * len(cols) + 3, 0.5 * len(ids) + 2))
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
    plt.close(fig)
