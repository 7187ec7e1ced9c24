"""Compare segmentations across runs (pure: polars in, polars out; the CLI fetches the runs).

- ``leaderboard``: one row per run with the metrics users rank by.
- ``ari_matrix``: adjusted Rand index between every pair of runs' customer -> cluster assignments,
  computed on the customers both runs share (noise counts as one more label).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import adjusted_rand_score

LEADERBOARD_METRICS = ("silhouette", "davies_bouldin", "calinski_harabasz", "n_clusters", "noise_fraction")


def leaderboard(runs: list[dict], *, sort_by: str = "silhouette") -> pl.DataFrame:
    """``runs``: dicts with run_id, name, dataset, features, algorithm and the metrics."""
    rows = [
        {k: r.get(k) for k in ("run_id", "name", "dataset", "features", "algorithm", "params")}
        | {m: r.get(m) for m in LEADERBOARD_METRICS}
        for r in runs
    ]
    df = pl.DataFrame(
        rows,
        schema={
            "run_id": pl.String,
            "name": pl.String,
            "dataset": pl.String,
            "features": pl.String,
            "algorithm": pl.String,
            "params": pl.String,
            **{m: pl.Float64 for m in LEADERBOARD_METRICS},
        },
    )
    return df.sort(sort_by, descending=sort_by != "davies_bouldin", nulls_last=True)


def ari_matrix(assignments: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, np.ndarray]:
    """Pairwise ARI, and how many customers each pair shares.

    ``assignments`` maps a run id to a frame with ``customer_id`` and ``cluster``.
    """
    ids = list(assignments)
    m = np.eye(len(ids))
    common = np.zeros((len(ids), len(ids)), dtype=int)
    for i, a in enumerate(ids):
        common[i, i] = assignments[a].height
        for j in range(i + 1, len(ids)):
            b = ids[j]
            joined = (
                assignments[a]
                .select("customer_id", pl.col("cluster").alias("a"))
                .join(assignments[b].select("customer_id", pl.col("cluster").alias("b")), on="customer_id")
            )
            common[i, j] = common[j, i] = joined.height
            m[i, j] = m[j, i] = adjusted_rand_score(joined["a"], joined["b"]) if joined.height else np.nan
    return pl.DataFrame({"run_id": ids, **{r: m[:, k] for k, r in enumerate(ids)}}), common
