"""The elbow of an inertia curve: inertia of a labelling and the curve's knee."""

from __future__ import annotations

import numpy as np


def inertia(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares (noise left out): the elbow chart's y for any algorithm."""
    total = 0.0
    for c in np.unique(labels[labels >= 0]):
        pts = X[labels == c]
        total += float(((pts - pts.mean(0)) ** 2).sum())
    return total


def elbow_knee(x, y) -> int | None:
    """Index of the knee of a decreasing curve (largest distance below the chord), kneedle-style."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn, yn = (x - x.min()) / np.ptp(x), (y - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * (xn - xn[0]) / (xn[-1] - xn[0])
    return int(np.argmax(chord - yn))
