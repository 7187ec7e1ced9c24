"""A million customers through each algorithm's default search: the embedded generator at
``dataset.synthetic.n_customers=1000000`` (about 96M invoice lines, written once to the cache in blocks),
then ``rfmlab algorithm=X`` with everything else as configured (50-trial Optuna search, refit, artifacts,
model). Each command runs under ``/usr/bin/time -v`` (wall time, peak RSS); the log is generated before the
first timed run, so the times are the search's, not the generator's (which is reported apart).

Targets (issue 10): each algorithm <= 10 min and <= 4 GiB peak on this machine.
Run: .venv/bin/python benchmarks/bench_million.py [--customers 1000000] [--algorithms kmeans,hdbscan,...] [--json F]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import stages, timed

ALGORITHMS = ("kmeans", "hdbscan", "dbscan", "agglomerative")


def command(algorithm: str, customers: int, store: Path, extra: list[str]) -> list[str]:
    study = [] if "search=none" in extra else [f"search.storage={store / 'optuna.journal'}"]
    return [
        sys.executable, "-m", "rfmlab.cli", f"dataset.synthetic.n_customers={customers}", f"algorithm={algorithm}",
        f"tracking.uri=sqlite:///{store / 'mlflow.db'}", *study, *extra,
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--algorithms", default=",".join(ALGORITHMS))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    out: dict = {"customers": args.customers, "date": time.strftime("%Y-%m-%d"), "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:  # generate (or find in the cache) before timing anything
        wall, peak, _ = timed(command("kmeans", args.customers, Path(tmp), ["search=none", "plots.enabled=false"]))
        out["generate_and_single_kmeans"] = {"wall_s": wall, "peak_mb": peak}
    for algo in args.algorithms.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            wall, peak, stdout = timed(command(algo, args.customers, Path(tmp), []))
        m = re.search(r"(\d+)/(\d+)/(\d+)\s+│\s+\d+\s+│\s+(.+?)\s+│\s+([\d.]+)", stdout)
        run = {"wall_s": wall, "peak_mb": peak, "stages_s": stages(stdout)}
        refit = re.search(r"^algorithm\s+\S+ (\{.*\})", stdout, re.M)  # the refitted model's parameters
        if refit:
            run["params"] = refit.group(1)
        if m:
            run.update(
                trials_ok=int(m.group(1)), trials_pruned=int(m.group(2)), best=m.group(4), silhouette=float(m.group(5))
            )
        out["runs"][algo] = run
        print(f"{algo:14s} {wall:7.1f} s  peak {peak:7.0f} MiB  {run.get('best', '')}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
