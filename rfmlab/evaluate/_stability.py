"""Clusterwise stability by resampling (Hennig 2007; R's ``fpc::clusterboot``), no MLflow, no Hydra.

Each resample draws from the stability sample (a seeded subset of the evaluation sample): a bootstrap draw
whose repeated points are used once (``method: bootstrap``, clusterboot's default; about 63% of the points)
or half the points without replacement (``method: subsample``). The resample is clustered again with the same
algorithm and parameters, and every original cluster is matched to its most similar resampled cluster by the
Jaccard index on the points both contain. A cluster's stability is its mean Jaccard over the resamples.

Reading (Hennig): below 0.6 the cluster dissolves, 0.6-0.75 doubtful, 0.75-0.85 stable, above 0.85 highly
stable. Noise (label -1, DBSCAN and HDBSCAN) is not a cluster: noise points belong to no original cluster and
noise in a resample matches nothing.

Edge rules as clusterboot's: an original cluster with no point in a resample scores 0 for that resample (fpc's
``clujaccard(..., zerobsc=0)``), and a cluster "dissolved" in a resample when its best Jaccard is ``<= 0.5``.

Count parameters (``min_samples``, ``min_cluster_size``; ``count_params``): ``fixed`` (default) keeps them in
every resample, as clusterboot keeps DBSCAN's MinPts: this is the statistic R's ``fpc::clusterboot`` computes
(tested against it). A model fitted on more customers than the stability sample has them scaled once to the
sample (the sample is then clusterboot's data). ``scaled`` is rfmlab's variant: a resample of m distinct points
of a model fitted on n gets them scaled by m / n (see ``cluster.refitter``), so the resample is asked for the
same density, not for a 1 / 0.63 times denser one; it reads 0.1-0.2 higher than clusterboot for DBSCAN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

BANDS = ((0.6, "dissolved"), (0.75, "doubtful"), (0.85, "stable"), (math.inf, "highly stable"))  # (below, reading)
STABLE = BANDS[1][0]  # from here up a cluster reads stable
RESAMPLING = ("bootstrap", "subsample")
COUNT_MODES = ("fixed", "scaled")  # evaluation.stability.count_params
DISSOLVED = 0.5  # a cluster dissolved in a resample when its best Jaccard is <= this (clusterboot's dissolution)


def reading(value: float) -> str:
    """Hennig's reading of a cluster's mean Jaccard."""
    if value != value:
        return "undefined"
    return next(name for upper, name in BANDS if value < upper)


@dataclass(frozen=True, kw_only=True)
class StabilitySpec:
    """``evaluation.stability`` of the config."""

    enabled: bool = True
    n_resamples: int = 20
    sample_size: int = 5000
    method: str = "bootstrap"
    count_params: str = "fixed"

    @classmethod
    def from_dict(cls, d: dict | None) -> StabilitySpec:
        from rfmlab.errors import ConfigError, options

        spec = options(cls, d=d, where="evaluation.stability")
        if spec.method not in RESAMPLING:
            raise ConfigError(f"evaluation.stability.method={spec.method!r}; use bootstrap or subsample")
        if spec.count_params not in COUNT_MODES:
            raise ConfigError(f"evaluation.stability.count_params={spec.count_params!r}; use fixed or scaled")
        if spec.n_resamples < 2 or spec.sample_size < 10:
            raise ConfigError("evaluation.stability needs n_resamples >= 2 and sample_size >= 10")
        return spec


@dataclass(frozen=True, kw_only=True)
class EvaluationSpec:
    """The ``evaluation`` config section: the evaluation sample's size and the stability settings."""

    sample_size: int = 10_000
    stability: StabilitySpec = StabilitySpec()

    @classmethod
    def from_dict(cls, d: dict | None) -> EvaluationSpec:
        from rfmlab.errors import ConfigError

        d = dict(d or {})
        unknown = sorted(set(d) - {"sample_size", "stability"})
        if unknown:
            raise ConfigError(f"unknown evaluation option(s) {unknown}; valid are ['sample_size', 'stability']")
        size = int(d.get("sample_size", 10_000))
        if size < 2:
            raise ConfigError(f"evaluation.sample_size={size}; use at least 2 (default 10000)")
        return cls(sample_size=size, stability=StabilitySpec.from_dict(d.get("stability")))


def best_jaccard(original: np.ndarray, resampled: np.ndarray, *, k: int) -> np.ndarray:
    """For each original cluster code 0..k-1, the largest Jaccard index with any resampled cluster, over the
    points of the resample; 0 for an original cluster with no point in it (as clusterboot). Both arrays label the
    same points; -1 is noise on either side."""
    o, r = np.asarray(original), np.asarray(resampled)
    size_o = np.bincount(o[o >= 0], minlength=k).astype(float)
    out = np.zeros(k)
    present = size_o > 0
    rk = r >= 0
    if not rk.any():
        return out
    _, r_code = np.unique(r[rk], return_inverse=True)
    m = int(r_code.max()) + 1
    size_r = np.bincount(r_code, minlength=m).astype(float)
    both = o[rk] >= 0
    inter = np.zeros((k, m))
    np.add.at(inter, (o[rk][both], r_code[both]), 1.0)
    jac = inter / (size_o[:, None] + size_r[None, :] - inter).clip(min=1.0)
    out[present] = jac.max(axis=1)[present]
    return out


def draw(n: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """Sorted distinct row positions of one resample of n points."""
    if method == "subsample":
        return np.sort(rng.choice(n, size=max(n // 2, 2), replace=False))
    return np.unique(rng.integers(0, n, size=n))


@dataclass(kw_only=True)
class Stability:
    clusters: np.ndarray  # original cluster ids (noise left out)
    sizes: np.ndarray  # their customers in the stability sample
    jaccard: np.ndarray  # resamples x clusters (0 where a resample held none of the cluster, as clusterboot)
    method: str

    @property
    def per_cluster(self) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.nanmean(self.jaccard, axis=0) if len(self.jaccard) else np.full(len(self.clusters), np.nan)

    @property
    def dissolved(self) -> np.ndarray:
        """Share of resamples in which a cluster dissolved (its best Jaccard <= 0.5, clusterboot's criterion)."""
        valid = ~np.isnan(self.jaccard)
        return (np.where(valid, self.jaccard, 1.0) <= DISSOLVED).sum(0) / np.maximum(valid.sum(0), 1)

    @property
    def overall(self) -> float:
        """Mean of the clusters' stabilities weighted by their sizes (``stability``)."""
        v = self.per_cluster
        ok = ~np.isnan(v)
        return float(np.average(v[ok], weights=self.sizes[ok])) if ok.any() else math.nan

    @property
    def minimum(self) -> float:
        """The least stable cluster's stability (``stability_min``)."""
        v = self.per_cluster
        return float(np.nanmin(v)) if (~np.isnan(v)).any() else math.nan

    def metrics(self) -> dict[str, float]:
        return {"stability": self.overall, "stability_min": self.minimum}

    def describe(self, names: dict[int, str] | None = None, *, below: float = math.inf) -> str:
        """'name 0.45 (dissolved), ...': the clusters under ``below``, least stable first (the console, the UI)."""
        t = self.table(names).filter(pl.col("stability") < below).sort("stability")
        return ", ".join(f"{s} {v:.2f} ({r})" for s, v, r in t.select("segment", "stability", "reading").iter_rows())

    def table(self, names: dict[int, str] | None = None) -> pl.DataFrame:
        """One row per cluster: id, business name, size, stability, how often it dissolved, Hennig's reading."""
        names = names or {}
        v = self.per_cluster
        return pl.DataFrame(
            {
                "cluster": self.clusters.astype(np.int64),
                "segment": [names.get(int(c), f"cluster {int(c)}") for c in self.clusters],
                "customers_in_sample": self.sizes.astype(np.int64),
                "stability": v,
                "dissolved_share": self.dissolved,
                "reading": [reading(x) for x in v],
            }
        )


def clusterwise(
    X: np.ndarray,
    *,
    labels: np.ndarray,
    refit: Callable[[np.ndarray, int], np.ndarray],
    n_resamples: int = 20,
    seed: int = 0,
    method: str = "bootstrap",
) -> Stability:
    """Stability of the clustering ``labels`` of the points ``X``; ``refit(X_resample, b)`` clusters a resample
    with the same algorithm and parameters (``b`` numbers the resample, for seeding) and returns its labels."""
    labels = np.asarray(labels)
    clusters, codes = np.unique(labels[labels >= 0], return_inverse=True)
    original = np.full(len(labels), -1)
    original[labels >= 0] = codes
    sizes = np.bincount(codes, minlength=len(clusters))
    rng = np.random.default_rng(seed)
    jac = np.full((n_resamples, len(clusters)), np.nan)
    if len(clusters) == 0:
        return Stability(clusters=clusters, sizes=sizes, jaccard=jac[:0], method=method)
    for b in range(n_resamples):
        rows = draw(len(X), method, rng)
        jac[b] = best_jaccard(original[rows], refit(X[rows], b), k=len(clusters))
    return Stability(clusters=clusters, sizes=sizes, jaccard=jac, method=method)
