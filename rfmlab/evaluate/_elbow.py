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


def elbow_knee(x, y, *, sensitivity: float = 1.0) -> int | None:
    """Index of the knee of a decreasing convex curve by Kneedle (Satopaa et al. 2011; as ``kneed.KneeLocator``
    with curve="convex", direction="decreasing", interp_method="interp1d", online=False), or None when the curve
    has no knee: the difference curve must drop below a local maximum's threshold, that maximum minus
    ``sensitivity`` (Kneedle's S) times the mean x step (normalised) before the next local minimum. A straight line
    has none."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn, yn = (x - x.min()) / np.ptp(x), (y - y.min()) / np.ptp(y)
    diff = (yn.max() - yn) - xn  # convex decreasing turned into a concave increasing knee, minus the diagonal
    maxima, minima = _extrema(diff, np.greater_equal), _extrema(diff, np.less_equal)
    if not len(maxima):
        return None
    thresholds = diff[maxima] - sensitivity * np.abs(np.diff(xn).mean())
    m, threshold, at = 0, None, None
    for i in range(int(maxima[0]), len(x) - 1):
        if i in maxima:
            threshold, at, m = thresholds[m], i, m + 1
        if i in minima:
            threshold = 0.0
        if threshold is not None and diff[i + 1] < threshold:
            return at
    return None


def _extrema(v: np.ndarray, comparator) -> np.ndarray:
    """Indices where ``comparator(v[i], neighbour)`` holds for both neighbours (scipy's ``argrelextrema``, order 1,
    mode "clip": an end point is compared with itself)."""
    left, right = np.r_[v[:1], v[:-1]], np.r_[v[1:], v[-1:]]
    return np.flatnonzero(comparator(v, left) & comparator(v, right))
