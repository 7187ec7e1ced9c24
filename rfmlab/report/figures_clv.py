"""CLV figures (matplotlib, no I/O): P(alive) and expected purchases over frequency x recency (the BG/NBD
matrices of Fader, Hardie & Lee), expected value by segment, and the holdout calibration chart."""

from __future__ import annotations

import numpy as np
import polars as pl

from rfmlab import clv
from rfmlab.report.figures import subplots

GRID = 40  # recency steps of a matrix


def _grid(summary: pl.DataFrame, *, max_frequency: int) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Every (frequency, recency) pair at the longest customer age T (lifetimes' matrix plots do the same)."""
    T = float(summary["T"].max())
    freq = np.arange(0, max_frequency + 1)
    rec = np.linspace(0, T, GRID)
    f, r = np.meshgrid(freq, rec, indexing="ij")
    grid = pl.DataFrame(
        {"customer_id": np.arange(f.size).astype(str), "frequency": f.ravel(), "recency": r.ravel(), "T": T}
    )
    return grid, freq, rec


def _max_frequency(summary: pl.DataFrame) -> int:
    """Up to the 99th percentile of frequency (at least 5): a few heavy buyers would squash the picture."""
    return max(5, int(np.ceil(summary["frequency"].quantile(0.99) or 0)))


def _matrix(values: np.ndarray, freq, rec, *, title: str, label: str, cmap: str):
    fig, ax = subplots(figsize=(7.5, 5.5))
    mesh = ax.pcolormesh(rec, freq, values, cmap=cmap, shading="nearest")
    fig.colorbar(mesh, ax=ax, label=label)
    ax.set_xlabel("recency: first to last purchase")
    ax.set_ylabel("frequency: repeat purchase days")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def p_alive_matrix(summary: pl.DataFrame, params: clv.ClvParams):
    grid, freq, rec = _grid(summary, max_frequency=_max_frequency(summary))
    values = clv.p_alive(grid, params).reshape(len(freq), len(rec))
    unit = params.time_unit
    title = f"P(alive) by frequency and recency ({unit}; customers aged T = {grid['T'][0]:.0f} {unit})"
    return _matrix(values, freq, rec, title=title, label="P(alive)", cmap="viridis")


def expected_purchases_matrix(summary: pl.DataFrame, params: clv.ClvParams):
    grid, freq, rec = _grid(summary, max_frequency=_max_frequency(summary))
    t = params.horizon_days / clv.DAYS_PER_UNIT[params.time_unit]
    values = clv.expected_purchases(grid, params, t=t).reshape(len(freq), len(rec))
    title = f"Expected purchases in the next {params.horizon_days} days by frequency and recency ({params.time_unit})"
    return _matrix(values, freq, rec, title=title, label="expected purchases", cmap="magma")


def value_by_segment(table: pl.DataFrame, *, by: str, title: str):
    """Horizontal bars of each segment's total CLV, with its share and mean in the label."""
    table = table.sort("clv_total")
    fig, ax = subplots(figsize=(8, 0.45 * table.height + 1.5))
    ax.barh(table[by].cast(pl.String).to_list(), table["clv_total"].to_list(), color="#4c72b0")
    for i, row in enumerate(table.iter_rows(named=True)):
        ax.text(row["clv_total"], i, f" {row['clv_share']:.0%} · mean {row['clv_mean']:,.0f}", va="center", fontsize=8)
    ax.set_xlabel("expected value (clv), total")
    ax.set_title(title, fontsize=10)
    ax.margins(x=0.25)
    fig.tight_layout()
    return fig


def holdout_chart(calibration: pl.DataFrame, *, days: int):
    """Mean actual vs predicted holdout purchases (left) and spend (right) by calibration frequency 0, 1, ..., 7+."""
    fig, axes = subplots(1, 2, figsize=(11, 4.2))
    x = np.arange(calibration.height)
    for ax, (actual, predicted, what) in zip(
        axes, (("actual", "predicted", "purchases"), ("actual_spend", "predicted_spend", "spend")), strict=True
    ):
        ax.plot(x, calibration[actual], "o-", color="black", label="actual")
        ax.plot(x, calibration[predicted], "s--", color="#dd8452", label="BG/NBD + Gamma-Gamma")
        ax.set_xticks(x, calibration["frequency"].to_list())
        ax.set_xlabel("repeat purchase days in the calibration period")
        ax.set_ylabel(f"mean holdout {what} per customer")
        ax.set_title(f"Holdout {what}: {days} days after calibration", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
