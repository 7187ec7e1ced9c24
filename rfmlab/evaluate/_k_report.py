"""How many clusters: several criteria side by side, for the algorithms that take k (no MLflow, no Hydra).

For each k the algorithm (with the chosen trial's other parameters, e.g. its linkage) is fitted on the report's
sample (``search.k_report.sample_size`` customers of the evaluation sample) and scored by:
- ``silhouette`` (largest), ``calinski_harabasz`` (largest), ``davies_bouldin`` (smallest): scikit-learn's;
- ``inertia``: the within-cluster sum of squares; the elbow's pick is its knee (``elbow_knee``);
- ``gap``: the gap statistic (Tibshirani, Walther and Hastie 2001; R's ``cluster::clusGap`` with d.power=2,
  spaceH0="scaledPCA"): mean log W_k of ``n_refs`` uniform reference sets drawn in the box of the data's principal
  components, minus the data's log W_k; s(k) = sd(ddof=1) of the references' log W_k times sqrt(1 + 1/n_refs); the
  pick is the smallest k with Gap(k) >= Gap(k+1) - s(k+1) (clusGap's "Tibs2001SEmax"). k=1 (one cluster: the
  whole data's inertia) is evaluated too when the ks start at 2, so the gap can answer "no cluster structure"
  (``NO_STRUCTURE``); the other criteria are undefined at k=1 and stay null there;
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
    "inertia": "Kneedle knee (S=1); none when the curve has none",
    "gap": "smallest k with Gap(k) >= Gap(k+1) - s(k+1), k=1 included",
    "stability": "largest",
}
K_ALGORITHMS = ("kmeans", "agglomerative")
NO_STRUCTURE = "no cluster structure by the gap statistic"  # said when the gap's pick is k=1


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
    g = gap_at(X, labels=labels, refit=refit, refs=refs)
    row["gap"], row["gap_se"] = g["gap"], g["gap_se"]
    row["stability"] = clusterwise(
        X, labels=labels, refit=refit, n_resamples=spec.n_resamples, seed=seed, method=spec.method
    ).overall
    return row


def _gap_se(ref_w: np.ndarray) -> float:
    """clusGap's SE.sim: the references' sd (ddof=1) times sqrt(1 + 1/B)."""
    return float(ref_w.std(ddof=1) * math.sqrt(1 + 1 / len(ref_w))) if len(ref_w) > 1 else math.nan


def gap_at(X: np.ndarray, *, labels: np.ndarray, refit, refs: list) -> dict[str, float]:
    """Gap(k) (``gap``), s(k) (``gap_se``), log W_k (``log_w``, log WSS: clusGap's logW + log 2) and the
    references' mean (``e_log_w``) for the labelling ``labels`` of X; ``refit(R, b)`` clusters reference set b."""
    ref_w = np.array([_log_w(R, refit(R, b)) for b, R in enumerate(refs)])
    log_w, e_log_w = _log_w(X, labels), float(ref_w.mean())
    return {"gap": e_log_w - log_w, "gap_se": _gap_se(ref_w), "log_w": log_w, "e_log_w": e_log_w}


def _whole(R: np.ndarray, b: int = 0) -> np.ndarray:
    return np.zeros(len(R), dtype=int)


def one_cluster(X: np.ndarray, *, refs: list) -> dict:
    """The k=1 row: the gap of one cluster (W_1 = the whole data's inertia), every other criterion null."""
    row: dict = {"k": 1, **dict.fromkeys(K_CRITERIA), "gap_se": math.nan}
    g = gap_at(X, labels=_whole(X), refit=_whole, refs=refs)
    return {**row, "gap": g["gap"], "gap_se": g["gap_se"]}


def gap_pick(ks, gap, se) -> int:
    """Tibshirani's 1-SE rule (clusGap's "Tibs2001SEmax"): the smallest k with Gap(k) >= Gap(k+1) - s(k+1), else
    the largest k."""
    first = [ks[i] for i in range(len(ks) - 1) if gap[i] >= gap[i + 1] - se[i + 1]]
    return int(first[0]) if first else int(ks[-1])


def gap_table(X: np.ndarray, *, algorithm: str, params: dict, k_max: int, seed: int, n_refs: int) -> pl.DataFrame:
    """The gap statistic alone for k = 1..k_max (columns k, gap, gap_se, log_w, e_log_w), as clusGap."""
    refs = gap_reference_sets(X, n_refs=n_refs, seed=seed)
    rows = [{"k": 1, **gap_at(X, labels=_whole(X), refit=_whole, refs=refs)}]
    for k in range(2, k_max + 1):
        refit = cluster.refitter(algorithm, params={**params, "n_clusters": k}, seed=seed, n_fitted=len(X))
        rows.append({"k": k, **gap_at(X, labels=refit(X, 0), refit=refit, refs=refs)})
    return pl.DataFrame(rows)


def k_table(
    X: np.ndarray, *, algorithm: str, params: dict, ks, seed: int, spec: StabilitySpec, n_refs: int = 30
) -> pl.DataFrame:
    """One row per k: silhouette, calinski_harabasz, davies_bouldin, inertia, gap, gap_se, stability; a k=1 row
    (gap only) first when the ks start at 2."""
    refs = gap_reference_sets(X, n_refs=n_refs, seed=seed)
    ks = [int(k) for k in ks]
    rows = [one_cluster(X, refs=refs)] if ks and min(ks) == 2 else []
    rows += [k_scores(X, algorithm=algorithm, params=params, k=k, seed=seed, spec=spec, refs=refs) for k in ks]
    return pl.DataFrame(rows, schema={"k": pl.Int64, **dict.fromkeys([*K_CRITERIA, "gap_se"], pl.Float64)})


def k_picks(t: pl.DataFrame) -> dict[str, int | None]:
    """Each criterion's preferred k (None where it cannot tell: fewer than 2 valid values, no knee)."""
    out: dict[str, int | None] = {}
    for name, rule in K_CRITERIA.items():
        ok = t.filter(pl.col(name).is_not_null() & pl.col(name).is_not_nan())
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
            out[name] = gap_pick(ks, v, ok["gap_se"].to_numpy())
    return out


def k_agreement(chosen: int, chosen_by: dict[str, int | None]) -> tuple[int, int, tuple[int, int] | None]:
    """(criteria preferring ``chosen``, criteria with a pick, (the other k most preferred, its count) or None)."""
    votes = Counter(k for k in chosen_by.values() if k is not None)
    others = [(k, n) for k, n in votes.most_common() if k != chosen]
    return votes.get(chosen, 0), sum(votes.values()), (others[0] if others else None)
