"""Out-of-sample assignment: put new customers into the clusters of a fitted model.

- kmeans: nearest centre (``KMeans.predict``); reproduces the training labels exactly.
- agglomerative: the 5 nearest training customers vote, weighted by 1/distance; a training customer is
  its own nearest neighbour (distance 0), so it keeps its label (agreement >= 0.99).
- dbscan: the nearest core sample if it lies within eps, otherwise noise (-1); core points and noise
  are reproduced exactly, a border point may go to another cluster's core within eps (>= 0.99).
- hdbscan: ``hdbscan.approximate_predict`` (fitted with ``prediction_data=True``); exact on the
  training customers that are not noise.

Why k-NN for agglomerative rather than the nearest centroid: single, average and complete linkage (and
ward on uneven clusters) produce clusters that are not convex balls around a centroid; a centroid rule
would move customers across those boundaries, the neighbours follow them.

``outlier_score``: DBSCAN, distance to the nearest core sample / eps (> 1 is noise); HDBSCAN,
1 - membership strength; KMeans and agglomerative have none (NaN).
"""

from __future__ import annotations

import numpy as np


class Assigner:
    def __init__(self, algorithm: str, *, estimator, X: np.ndarray, labels: np.ndarray):
        self.algorithm = algorithm
        self.estimator = estimator
        labels = np.asarray(labels)
        if algorithm == "agglomerative":
            from sklearn.neighbors import KNeighborsClassifier

            self._knn = KNeighborsClassifier(n_neighbors=min(5, len(X)), weights="distance").fit(X, labels)
        elif algorithm == "dbscan":
            from sklearn.neighbors import NearestNeighbors

            core = estimator.core_sample_indices_
            self._eps = float(estimator.eps)
            self._core_labels = labels[core]
            self._nn = NearestNeighbors(n_neighbors=1).fit(X[core]) if len(core) else None
        elif algorithm not in ("kmeans", "hdbscan"):
            raise ValueError(f"no out-of-sample rule for {algorithm}")

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cluster labels (-1 = noise) and an outlier score (NaN where the algorithm has none)."""
        X = np.asarray(X, dtype=float)
        nan = np.full(len(X), np.nan)
        if self.algorithm == "kmeans":
            return self.estimator.predict(X).astype(np.int64), nan
        if self.algorithm == "agglomerative":
            return self._knn.predict(X).astype(np.int64), nan
        if self.algorithm == "dbscan":
            if self._nn is None:
                return np.full(len(X), -1, dtype=np.int64), np.full(len(X), np.inf)
            d, i = self._nn.kneighbors(X)
            d, i = d[:, 0], i[:, 0]
            labels = np.where(d <= self._eps, self._core_labels[i], -1).astype(np.int64)
            return labels, d / self._eps
        import hdbscan

        if not (np.asarray(self.estimator.labels_) >= 0).any():  # no cluster at all: everyone is noise
            return np.full(len(X), -1, dtype=np.int64), np.ones(len(X))
        labels, strength = hdbscan.approximate_predict(self.estimator, X)
        return labels.astype(np.int64), 1.0 - strength
