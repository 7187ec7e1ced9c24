"""Population stability index (PSI): a feature's distribution against a stored reference."""

from __future__ import annotations

import numpy as np

PSI_BINS = 10


def reference(values: np.ndarray, *, bins: int = PSI_BINS) -> dict:
    """The distribution PSI compares against: inner decile edges of ``values`` and each bin's share."""
    values = np.asarray(values, dtype=float)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    return {"edges": edges.tolist(), "expected": _shares(values, edges).tolist()}


def _shares(values: np.ndarray, edges) -> np.ndarray:
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="right"), minlength=len(edges) + 1)
    return counts / max(len(values), 1)


def psi(ref: dict, values: np.ndarray, *, floor: float = 1e-4) -> float:
    """Population stability index of ``values`` against ``ref``: sum of (actual - expected) x ln(actual /
    expected) over its bins (shares floored at 1e-4). 0 for the same distribution; > 0.2 is usually a shift."""
    expected = np.maximum(np.asarray(ref["expected"], dtype=float), floor)
    actual = np.maximum(_shares(np.asarray(values, dtype=float), ref["edges"]), floor)
    return float(np.sum((actual - expected) * np.log(actual / expected)))
