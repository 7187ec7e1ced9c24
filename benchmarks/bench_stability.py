"""What stability and the number-of-clusters report cost.

1. ``evaluate.clusterwise`` alone, each algorithm at its default params, on the embedded customers
   (``log_standard``): a stability sample of 10,000 customers (the evaluation sample's default size), 5,000 and
   2,000, ``n_resamples`` 20.
2. The number-of-clusters report (k = 2-12, 6 criteria) for kmeans and agglomerative on the default sample.
3. The whole ``make run`` command (``rfmlab``, a 50-trial kmeans search on 5,000 customers) with and without
   both (``evaluation.stability.enabled=false search.k_report.enabled=false``), interleaved, medians, peak memory from
   ``/usr/bin/time -v``.

Run: .venv/bin/python benchmarks/bench_stability.py [--repeat 3] [--json F]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rfmlab import cluster, evaluate, pipeline, search
from rfmlab.data.spec import DatasetSpec
from rfmlab.evaluate import EvaluationSpec
from rfmlab.features import FeatureSpec

ALGORITHMS = {
    "kmeans": {"n_clusters": 5, "n_init": 10},
    "agglomerative": {"n_clusters": 5, "linkage": "ward"},
    "dbscan": {"eps": 0.3, "min_samples": 10},
    "hdbscan": {"min_cluster_size": 50},
}
COLUMNS = {"customer": "CustomerID", "invoice": "InvoiceNo", "date": "InvoiceDate", "quantity": "Quantity",
           "price": "UnitPrice"}  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent


def stability_costs(n_customers: int) -> dict:
    dataset = {"name": "e", "kind": "ecommerce", "synthetic": {"n_customers": n_customers, "seed": 42},
               "columns": COLUMNS}  # fmt: skip
    prep = pipeline.prepare(DatasetSpec.from_dict(dataset), features=FeatureSpec(transform=["log", "standard"]),
                            evaluation=EvaluationSpec(sample_size=10_000), seed=42)  # fmt: skip
    out = {}
    for algo, params in ALGORITHMS.items():
        labels = cluster.fit(algo, params=params, X=prep.X, seed=42).labels
        for size in (10_000, 5_000, 2_000):
            prep.stability = evaluate.StabilitySpec(n_resamples=20, sample_size=size)
            t = time.perf_counter()
            s = pipeline.stability_of(prep, algorithm=algo, params=params, labels=labels, seed=42, n_fitted=len(labels))
            took = time.perf_counter() - t
            out[f"{algo}@{size}"] = {"seconds": took, "stability": s.overall, "clusters": len(s.clusters)}
            print(f"  stability {algo:13s} sample {size:6,}: {took:6.2f} s "
                  f"(stability {s.overall:.3f}, {len(s.clusters)} clusters)", flush=True)  # fmt: skip
    rep = search.KReport()
    ev = prep.evaluator
    X = prep.X[ev.sample[ev.stability_rows(rep.sample_size)]]
    for algo in ("kmeans", "agglomerative"):
        params = {k: v for k, v in ALGORITHMS[algo].items() if k != "n_clusters"}
        t = time.perf_counter()
        spec = evaluate.StabilitySpec(n_resamples=rep.n_resamples)
        table = evaluate.k_table(
            X, algorithm=algo, params=params, ks=range(2, 13), seed=42, spec=spec, n_refs=rep.gap_refs
        )
        out[f"k_report.{algo}"] = {"seconds": time.perf_counter() - t, "picks": evaluate.k_picks(table)}
        print(f"  k report {algo}: {out[f'k_report.{algo}']['seconds']:.2f} s", flush=True)
    return out


def whole_command(extra: list[str]) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "rfmlab.cli", "plots.enabled=true", *extra]
        t = time.perf_counter()
        res = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1)) / 1024
    return wall, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    res = {"customers": a.customers, "costs": stability_costs(a.customers), "repeat": a.repeat}
    off = ["evaluation.stability.enabled=false", "search.k_report.enabled=false"]
    runs = {"without": [], "with": []}
    for _ in range(a.repeat):  # interleaved: the machine's drift hits both alike
        runs["without"].append(whole_command(off))
        runs["with"].append(whole_command([]))
    for key, rs in runs.items():
        res[f"make_run_{key}"] = {"wall_s": statistics.median(r[0] for r in rs), "peak_mb": max(r[1] for r in rs)}
    res["make_run_ratio"] = res["make_run_with"]["wall_s"] / res["make_run_without"]["wall_s"]
    print(f"  make run: {res['make_run_without']['wall_s']:.1f} s without, {res['make_run_with']['wall_s']:.1f} s "
          f"with stability and the k report (x{res['make_run_ratio']:.2f})")  # fmt: skip
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2, default=str))


if __name__ == "__main__":
    main()
