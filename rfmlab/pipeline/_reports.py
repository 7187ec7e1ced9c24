"""Reports on a prepared dataset beyond one fit: the number-of-clusters report over a range of k."""

from __future__ import annotations

import polars as pl

from rfmlab import evaluate
from rfmlab.pipeline._prepare import Prepared


def k_report(
    prep: Prepared,
    *,
    algorithm: str,
    params: dict,
    ks: list[int],
    sample_size: int,
    n_resamples: int,
    gap_refs: int,
    seed: int = 0,
) -> pl.DataFrame:
    """Six criteria for every k in ``ks`` (``evaluate.k_table``), each k refitted on a seeded subset of
    ``sample_size`` customers of the evaluation sample (the same subset for every k, so the criteria compare), with
    ``n_resamples`` stability resamples and ``gap_refs`` uniform reference sets per k."""
    ev = prep.evaluator
    X = prep.X[ev.sample[ev.stability_rows(sample_size)]]
    stab = evaluate.StabilitySpec(n_resamples=n_resamples, method=prep.stability.method)
    return evaluate.k_table(X, algorithm=algorithm, params=params, ks=ks, seed=seed, spec=stab, n_refs=gap_refs)
