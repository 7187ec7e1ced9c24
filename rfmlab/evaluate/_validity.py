"""Cluster quality on a fixed evaluation sample, the same metric names for every algorithm.

``Evaluator(X, sample_size=..., seed=...)`` draws one seeded sample of customers (all of them when fewer than
``sample_size``) and scores every labelling on it, so runs and search trials are compared fairly.

Noise (label ``-1``, from DBSCAN and HDBSCAN) is left out of ``silhouette``, ``davies_bouldin`` and
``calinski_harabasz``: they describe the clusters found; ``noise_fraction`` says how much was left out.
With fewer than 2 clusters among the non-noise points these three are NaN.

The silhouette is exact (equal to ``sklearn.metrics.silhouette_score`` on the sample): the sample's
pairwise distances are computed once, and each labelling costs one matrix product, which makes a
search's many trials cheap.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, pairwise_distances

from rfmlab.evaluate._silhouette_ci import influence_ci, resampled_ci, silhouette_parts

METRICS = (
    "silhouette",
    "davies_bouldin",
    "calinski_harabasz",
    "n_clusters",
    "noise_fraction",
    "min_cluster_share",
    "max_cluster_share",
)
# what a search can optimise (``search.metric`` / ``search.objectives``) and in which direction
DIRECTION = {
    "silhouette": "maximize",
    "davies_bouldin": "minimize",
    "calinski_harabasz": "maximize",
    "stability": "maximize",  # rfmlab.stability: clusterwise bootstrap Jaccard, size-weighted mean
    "stability_min": "maximize",  # the least stable cluster's
    "noise_fraction": "minimize",
    "min_cluster_share": "maximize",
}
NEEDS_STABILITY = ("stability", "stability_min")


class Evaluator:
    def __init__(self, X: np.ndarray, *, sample_size: int = 10_000, seed: int = 0):
        self.X = np.asarray(X, dtype=float)
        n = len(self.X)
        if sample_size and n > sample_size:
            rng = np.random.default_rng(seed)
            self.sample = np.sort(rng.choice(n, size=sample_size, replace=False))
        else:
            self.sample = np.arange(n)
        self._dist: np.ndarray | None = None
        self.seed = seed

    def stability_rows(self, size: int) -> np.ndarray:
        """Positions, within the evaluation sample, of the stability sample: a seeded subset of ``size`` (all
        of the evaluation sample when it is smaller). The same rows for every trial and run of one config."""
        n = len(self.sample)
        if n <= size:
            return np.arange(n)
        return np.sort(np.random.default_rng(self.seed + 1).choice(n, size=size, replace=False))

    @property
    def distances(self) -> np.ndarray:
        if self._dist is None:
            # float32 in, float32 out: 400 MB at 10k (float64 and a cast would peak at 1.2 GB)
            self._dist = pairwise_distances(self.X[self.sample].astype(np.float32))
        return self._dist

    def silhouette(self, labels: np.ndarray, *, on_sample: bool = False) -> float:
        """Mean silhouette of the non-noise sample points (sklearn's definition, exact); ``labels`` are every
        customer's, or with ``on_sample`` the evaluation sample's only."""
        values = self.silhouette_values(labels, on_sample=on_sample)
        return math.nan if values is None else float(values.mean())

    def _kept(self, labels: np.ndarray, *, on_sample: bool) -> tuple[np.ndarray, np.ndarray]:
        """The non-noise sample points' labels and distances."""
        lab = np.asarray(labels) if on_sample else np.asarray(labels)[self.sample]
        keep = lab >= 0
        return lab[keep], self.distances if keep.all() else self.distances[np.ix_(keep, keep)]

    def silhouette_ci(self, labels: np.ndarray, *, on_sample: bool = False, ci: str = "normal") -> tuple[float, float]:
        """The silhouette's 95% interval over the evaluation sample, a(i) and b(i) recomputed with the sample:
        ``ci="bootstrap"`` the silhouette of 200 resamples (percentile), ``"normal"`` mean +- 1.96 influence-function
        standard errors (see ``evaluate._silhouette_ci``)."""
        lab, D = self._kept(labels, on_sample=on_sample)
        return self._ci(D, lab, ci=ci, parts=None)

    @staticmethod
    def _ci(D: np.ndarray, lab: np.ndarray, *, ci: str, parts: dict | None) -> tuple[float, float]:
        if len(np.unique(lab)) < 2:
            return math.nan, math.nan
        return resampled_ci(D, lab) if ci == "bootstrap" else influence_ci(D, lab, parts=parts)

    def silhouette_values(self, labels: np.ndarray, *, on_sample: bool = False) -> np.ndarray | None:
        """Each non-noise sample point's silhouette (None with fewer than 2 clusters)."""
        parts = silhouette_parts(*self._kept(labels, on_sample=on_sample)[::-1])
        return None if parts is None else parts["s"]

    def measure(self, labels: np.ndarray, *, on_sample: bool = False, ci: str = "normal") -> dict[str, float]:
        """Every metric for a labelling of all customers, or with ``on_sample`` of the evaluation sample only
        (then the shares, noise, Davies-Bouldin and Calinski-Harabasz are the sample's estimates).

        ``silhouette_ci_low`` / ``_high``: the silhouette's 95% interval over the evaluation sample (``silhouette_ci``),
        by ``ci="bootstrap"`` (the silhouette recomputed on 200 resamples, percentile: a run's refit) or ``"normal"``
        (influence-function standard errors: every search trial, one more matrix product); both cover 95%
        (tests/unit/evaluate/test_silhouette_interval.py)."""
        labels = np.asarray(labels)
        X = self.X[self.sample] if on_sample else self.X
        n = len(labels)
        keep = labels >= 0
        ids, sizes = np.unique(labels[keep], return_counts=True)
        k = len(ids)
        out = {
            "n_clusters": float(k),
            "noise_fraction": float(1 - keep.mean()) if n else math.nan,
            "min_cluster_share": float(sizes.min() / n) if k else 0.0,
            "max_cluster_share": float(sizes.max() / n) if k else 0.0,
            "silhouette": math.nan,
            "silhouette_ci_low": math.nan,
            "silhouette_ci_high": math.nan,
            "davies_bouldin": math.nan,
            "calinski_harabasz": math.nan,
        }
        if 2 <= k < keep.sum():
            Xk, lk = X[keep], labels[keep]
            lab, D = self._kept(labels, on_sample=on_sample)  # noise left out: a copy of D, made once
            parts = silhouette_parts(D, lab)
            if parts is not None:  # None: fewer than 2 clusters among the sample's customers
                out["silhouette"] = float(parts["s"].mean())
                out["silhouette_ci_low"], out["silhouette_ci_high"] = self._ci(D, lab, ci=ci, parts=parts)
            out["davies_bouldin"] = float(davies_bouldin_score(Xk, lk))
            out["calinski_harabasz"] = float(calinski_harabasz_score(Xk, lk))
        return out


def normal_ci(values: np.ndarray, *, z: float = 1.96) -> tuple[float, float]:
    """Mean +- z standard errors of ``values`` (independent values; not the silhouette's interval, whose points'
    values depend on each other: ``Evaluator.silhouette_ci``)."""
    m, se = float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    return m - z * se, m + z * se


def bootstrap_ci(values: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of independent ``values`` (resampled with replacement, seeded);
    not the silhouette's interval (``Evaluator.silhouette_ci``)."""
    rng = np.random.default_rng(seed)
    v = values.astype(np.float32)
    means = np.empty(n_boot)
    for lo in range(0, n_boot, 100):  # 100 resamples at a time: bounded memory at any sample size
        idx = rng.integers(0, len(v), size=(min(100, n_boot - lo), len(v)))
        means[lo : lo + len(idx)] = v[idx].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def cluster_sizes(labels: np.ndarray) -> dict[int, int]:
    ids, counts = np.unique(np.asarray(labels), return_counts=True)
    return {int(i): int(c) for i, c in zip(ids, counts, strict=True)}
