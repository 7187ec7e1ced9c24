"""One clustering of a prepared dataset: fit, evaluate, stability, names, profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rfmlab import cluster, evaluate, segments
from rfmlab.pipeline._customers import no_stage
from rfmlab.pipeline._prepare import Prepared


@dataclass(kw_only=True)
class Fit:
    algorithm: str
    params: dict
    estimator: object
    labels: np.ndarray
    metrics: dict[str, float]
    customers: pl.DataFrame  # customer table + cluster, segment and one column per scheme
    profile: pl.DataFrame
    sizes: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # cluster id -> business name
    sample: np.ndarray | None = None  # rows the estimator was fitted on (None: every customer)
    stability: evaluate.Stability | None = None  # per cluster, when evaluation.stability.enabled

    @property
    def fit_params(self) -> dict:
        """``fit.method`` (exact, or sample + out-of-sample assignment) and ``fit.sample_size``, as run params."""
        n = len(self.labels) if self.sample is None else len(self.sample)
        return {"fit.method": "exact" if self.sample is None else "sample+assign", "fit.sample_size": n}

    def training_set(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The customers the estimator was fitted on and their labels (what out-of-sample assignment needs)."""
        if self.sample is None:
            return X, self.labels
        return X[self.sample], self.labels[self.sample]


def fit(
    prep: Prepared,
    *,
    algorithm: str,
    params: dict | None,
    seed: int = 0,
    stage: Callable = no_stage,
    max_exact: int | None = None,
) -> Fit:
    """Cluster (exactly, or on a sample of ``max_exact`` customers with the rest assigned), evaluate, name
    the clusters and profile them."""
    params = dict(params or {})
    with stage(f"cluster ({algorithm})"):
        fitted = cluster.fit(algorithm, params=params, X=prep.X, seed=seed, max_exact=max_exact)
        est, labels = fitted.estimator, fitted.labels
    with stage("evaluate"):
        metrics = prep.evaluator.measure(labels, ci="bootstrap")
        customers = prep.customers.with_columns(pl.Series("cluster", labels.astype(np.int64)))
    stab = None
    if prep.stability.enabled:
        spec = prep.stability
        with stage(f"stability ({spec.n_resamples} resamples)"):
            n_fitted = len(labels) if fitted.sample is None else len(fitted.sample)
            stab = stability_of(prep, algorithm=algorithm, params=params, labels=labels, seed=seed, n_fitted=n_fitted)
            metrics.update(stab.metrics())
    names: dict[int, str] = {}
    if prep.namer is not None:
        with stage("segments"):
            names = segments.name_clusters(prep.namer, customers)
            customers = customers.with_columns(
                pl.col("cluster").replace_strict(names, return_dtype=pl.String).alias("segment")
            )
            if prep.rule_segments is not None:
                customers = customers.join(prep.rule_segments, on="customer_id", how="left")
            for name in prep.schemes:
                ari, ami = segments.agreement(customers["cluster"], customers[name])
                metrics[f"ari_vs_{name}"], metrics[f"ami_vs_{name}"] = ari, ami
    profile = segments.cluster_profile(customers)
    sizes = evaluate.cluster_sizes(labels)
    return Fit(
        algorithm=algorithm,
        params=params,
        estimator=est,
        labels=labels,
        metrics=metrics,
        customers=customers,
        profile=profile,
        sizes=sizes,
        names=names,
        sample=fitted.sample,
        stability=stab,
    )


def stability_of(
    prep: Prepared,
    *,
    algorithm: str,
    params: dict,
    labels: np.ndarray,
    seed: int,
    n_fitted: int,
    on_sample: bool = False,
) -> evaluate.Stability:
    """Clusterwise stability of a labelling (every customer's, or with ``on_sample`` the evaluation sample's) on
    the stability sample, by ``prep.stability``'s resampling."""
    spec, ev = prep.stability, prep.evaluator
    rows = ev.stability_rows(spec.sample_size)
    lab = np.asarray(labels)[rows if on_sample else ev.sample[rows]]
    refit = cluster.refitter(
        algorithm, params=params, seed=seed, n_fitted=n_fitted, count_params=spec.count_params, n_resampled=len(rows)
    )
    return evaluate.clusterwise(
        prep.X[ev.sample[rows]], labels=lab, refit=refit, n_resamples=spec.n_resamples, seed=seed, method=spec.method
    )
