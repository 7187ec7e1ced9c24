"""How many clusters: several criteria side by side, for the algorithms that take k (no MLflow, no Hydra).

For each k the algorithm (with the chosen trial's other parameters, e.g. its linkage) is fitted on the report's
sample (``search.k_report.sample_size`` customers of the evaluation sample) and scored by:
- ``silhouette`` (largest), ``calinski_harabasz`` (largest), ``davies_bouldin`` (smallest): scikit-learn's;
- ``inertia``: the within-cluster sum of squares; the elbow's pick is its knee (``elbow_knee``);
- ``gap``: the gap statistic (Tibshirani, Walther and Hastie 2001): mean log W_k of ``n_refs`` uniform
  reference sets drawn in the box of the data's principal components, minus the data's log W_k; the pick is
  the smallest k with Gap(k) >= Gap(k+1) - s(k+1), s the references' standard error;
- ``stability``: the size-weighted clusterwise bootstrap Jaccard (``rfmlab.stability``); the largest.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import polars as pl
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from rfmlab import cluster
from rfmlab.evaluate._elbow import elbow_knee, inertia
from rfmlab.evaluate._stability import StabilitySpec, clusterwise

K_CRITERIA = {
    "silhouette": "largest",
    "calinski_harabasz": "largest",
    "davies_bouldin": "smallest",
    "inertia": "knee of the curve",
    "gap": "smallest k with Gap(k) >= Gap(k+1) - s(k+1)",
    "stability": "largest",
}
K_ALGORITHMS = ("kmeans", "agglomerative")


def gap_reference_sets(X: np.ndarray, *, n_refs: int, seed: int) -> list[np.ndarray]:
    """Uniform points in the box the data spans along its principal components (Tibshirani's method b)."""
    mean = X.mean(0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    Z = (X - mean) @ vt.T
    lo, hi = Z.min(0), Z.max(0)
    rng = np.random.default_rng(seed)
    return [rng.uniform(lo, hi, size=Z.shape) @ vt + mean for _ in range(n_refs)]


def _log_w(X: np.ndarray, labels: np.ndarray) -> float:
    return math.log(max(inertia(X, labels), 1e-300))


def k_scores(
    X: np.ndarray, *, algorithm: str, params: dict, k: int, seed: int, spec: StabilitySpec, refs: list
) -> dict:
    """Every criterion's value for ``k`` clusters of X."""
    refit = cluster.refitter(
        algorithm, params={**params, "n_clusters": k}, seed=seed, n_fitted=len(X)
    )  # references are X's size too
    labels = refit(X, 0)
    row = {"k": k, **dict.fromkeys(K_CRITERIA, math.nan), "gap_se": math.nan}
    if len(np.unique(labels[labels >= 0])) < 2:
        return row
    row["silhouette"] = float(silhouette_score(X, labels))
    row["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
    row["davies_bouldin"] = float(davies_bouldin_score(X, labels))
    row["inertia"] = inertia(X, labels)
    ref_w = np.array([_log_w(R, refit(R, b)) for b, R in enumerate(refs)])
    row["gap"] = float(ref_w.mean() - _log_w(X, labels))
    row["gap_se"] = float(ref_w.std() * math.sqrt(1 + 1 / len(ref_w)))
    row["stability"] = clusterwise(
        X, labels=labels, refit=refit, n_resamples=spec.n_resamples, seed=seed, method=spec.method
    ).overall
    return row


def k_table(
    X: np.ndarray, *, algorithm: str, params: dict, ks, seed: int, spec: StabilitySpec, n_refs: int = 5
) -> pl.DataFrame:
    """One row per k: silhouette, calinski_harabasz, davies_bouldin, inertia, gap, gap_se, stability."""
    refs = gap_reference_sets(X, n_refs=n_refs, seed=seed)
    return pl.DataFrame(
        [k_scores(X, algorithm=algorithm, params=params, k=int(k), seed=seed, spec=spec, refs=refs) for k in ks]
    )


def k_picks(t: pl.DataFrame) -> dict[str, int | None]:
    """Each criterion's preferred k (None where it cannot tell: fewer than 2 valid values, no knee)."""
    out: dict[str, int | None] = {}
    for name, rule in K_CRITERIA.items():
        ok = t.filter(pl.col(name).is_not_nan())
        ks, v = ok["k"].to_list(), ok[name].to_numpy()
        if len(ks) < 2:
            out[name] = None
        elif rule == "largest":
            out[name] = int(ks[int(np.argmax(v))])
        elif rule == "smallest":
            out[name] = int(ks[int(np.argmin(v))])
        elif name == "inertia":
            i = elbow_knee(ks, v)
            out[name] = None if i is None else int(ks[i])
        else:
            se = ok["gap_se"].to_numpy()
            first = [ks[i] for i in range(len(ks) - 1) if v[i] >= v[i + 1] - se[i + 1]]
            out[name] = int(first[0]) if first else int(ks[-1])
    return out


def k_agreement(chosen: int, chosen_by: dict[str, int | None]) -> tuple[int, int, tuple[int, int] | None]:
    """(criteria preferring ``chosen``, criteria with a pick, (the other k most preferred, its count) or None)."""
    votes = Counter(k for k in chosen_by.values() if k is not None)
    others = [(k, n) for k, n in votes.most_common() if k != chosen]
    return votes.get(chosen, 0), sum(votes.values()), (others[0] if others else None)
