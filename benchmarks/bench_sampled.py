"""How far a sampled fit (``algorithm.fit.max_exact``) agrees with the exact fit, at sizes where the exact one
still runs: adjusted Rand index between the two labellings of every customer, and both times.

Embedded customers (``log_standard``), each algorithm at its configured threshold and default params.
Run: .venv/bin/python benchmarks/bench_sampled.py [--json F]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from rfmlab import cluster, pipeline
from rfmlab.data.spec import DatasetSpec
from rfmlab.features import FeatureSpec

CASES = (  # algorithm, params, customers, max_exact (the configured threshold)
    ("agglomerative", {"n_clusters": 5, "linkage": "ward"}, 20_000, 10_000),
    ("dbscan", {"eps": 0.3, "min_samples": 10}, 120_000, 50_000),
    ("hdbscan", {"min_cluster_size": 500, "min_samples": 10}, 120_000, 50_000),
)
COLUMNS = {"customer": "CustomerID", "invoice": "InvoiceNo", "date": "InvoiceDate", "quantity": "Quantity",
           "price": "UnitPrice"}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    out = {}
    for algo, params, n, limit in CASES:
        dataset = {"name": "e", "kind": "ecommerce", "synthetic": {"n_customers": n, "seed": 42}, "columns": COLUMNS}
        X = pipeline.prepare(DatasetSpec.from_dict(dataset), features=FeatureSpec(transform=["log", "standard"])).X
        t = time.perf_counter()
        exact = cluster.fit(algo, params=params, X=X, seed=0).labels
        t_exact = time.perf_counter() - t
        t = time.perf_counter()
        sampled = cluster.fit(algo, params=params, X=X, seed=0, max_exact=limit).labels
        t_sampled = time.perf_counter() - t
        k = {name: len(set(lab[lab >= 0])) for name, lab in (("exact", exact), ("sampled", sampled))}
        row = {"customers": len(X), "max_exact": limit, "exact_s": t_exact, "sampled_s": t_sampled,
               "ari": adjusted_rand_score(exact, sampled), "clusters_exact": k["exact"],
               "clusters_sampled": k["sampled"], "noise_exact": float(np.mean(exact < 0)),
               "noise_sampled": float(np.mean(sampled < 0))}  # fmt: skip
        out[algo] = row
        print(f"{algo:14s} {len(X):,} customers: exact {t_exact:.1f} s ({k['exact']} clusters), sample of {limit:,} "
              f"{t_sampled:.1f} s ({k['sampled']} clusters): ARI {row['ari']:.3f}", flush=True)  # fmt: skip
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
