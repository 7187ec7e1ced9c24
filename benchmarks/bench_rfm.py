"""RFM speed and memory: the full UCI Online Retail file, and a 50-million-row log (polars vs pandas).

1. Load, clean and RFM of ../shared/data/online_retail.csv.gz through rfmlab (target: <= 2 s).
2. A 50M-row synthetic transaction log in parquet (customer, invoice, timestamp, amount, is_return):
   - pandas the way the seed notebooks do it: read_parquet, to_datetime, pivot_table with
     nunique / sum / max per customer;
   - rfmlab.features.rfm on pl.scan_parquet (lazy, streaming engine);
   - a bare parquet read, for scale.
   Each runs in its own process; time and peak memory (VmHWM) are that process's.
   Targets: polars >= 8x faster and >= 10x less peak memory than pandas.

Run: .venv/bin/python benchmarks/bench_rfm.py [--rows 50000000]   (the log is cached in benchmarks/_data/)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
SHARED = HERE.parent.parent / "shared" / "data" / "online_retail.csv.gz"


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_log(path: Path, rows: int, customers: int = 1_000_000, seed: int = 0) -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    chunk = 10_000_000
    start = np.datetime64("2010-12-01T00:00:00", "s")
    parts = []
    for lo in range(0, rows, chunk):
        n = min(chunk, rows - lo)
        invoice = (lo + np.arange(n)) // 8 + 500_000  # 8 lines an invoice, one customer an invoice
        first = np.unique(invoice)
        cust_of = (rng.pareto(1.2, first.size) * 1000).astype(np.int64) % customers + 10_000
        parts.append(
            pl.DataFrame(
                {
                    "customer_id": cust_of[invoice - first[0]],
                    "invoice_id": invoice,
                    "timestamp": (start + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]")).astype(
                        "datetime64[us]"
                    ),
                    "amount": np.round(rng.lognormal(2.0, 1.0, n), 2),
                    "is_return": rng.random(n) < 0.02,
                }
            ).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))
        )
    pl.concat(parts).write_parquet(path, row_group_size=1_000_000)


def child(kind: str, path: str) -> None:
    t0 = time.perf_counter()
    if kind == "pandas":
        import pandas as pd

        df = pd.read_parquet(path)
        df["timestamp"] = pd.to_datetime(df["timestamp"])
        out = df.pivot_table(
            index="customer_id",
            values=["invoice_id", "amount", "timestamp"],
            aggfunc={"invoice_id": "nunique", "amount": "sum", "timestamp": "max"},
        )
        n = len(out)
    elif kind == "polars":
        import polars as pl

        from rfmlab.features import rfm

        out, _ = rfm(pl.scan_parquet(path))  # ids stay integers, as pandas reads them
        n = out.height
    elif kind == "read":
        import polars as pl

        n = pl.read_parquet(path).height
    elif kind == "online_retail":
        from rfmlab import pipeline
        from rfmlab.data import load

        spec = load.DatasetSpec.from_dict(
            {
                "name": "online_retail",
                "path": path,
                "columns": {
                    "customer": "CustomerID",
                    "invoice": "InvoiceNo",
                    "date": "InvoiceDate",
                    "quantity": "Quantity",
                    "price": "UnitPrice",
                },
            }
        )
        t0 = time.perf_counter()  # imports excluded: the stages only
        n = pipeline.prepare(spec, {"transform": ["log", "standard"]}).customers.height
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), "rows_out": n}))


def run(kind: str, path: Path) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--child", nargs=2)
    a = ap.parse_args()
    if a.child:
        return child(*a.child)
    if SHARED.exists():
        r = run("online_retail", SHARED)
        print(
            f"Online Retail (541,909 rows) load+clean+RFM: {r['seconds']:.2f} s, {r['rows_out']:,} customers "
            f"(target <= 2 s: {'met' if r['seconds'] <= 2 else 'NOT met'})"
        )
    DATA.mkdir(exist_ok=True)
    path = DATA / f"log_{a.rows}.parquet"
    if not path.exists():
        t = time.perf_counter()
        make_log(path, a.rows)
        print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f} s")
    res = {k: run(k, path) for k in ("read", "polars", "pandas")}
    for k, r in res.items():
        print(f"{k:7s}: {r['seconds']:6.2f} s  peak {r['peak_mb']:7.0f} MB  ({r['rows_out']:,} rows out)")
    speed = res["pandas"]["seconds"] / res["polars"]["seconds"]
    mem = res["pandas"]["peak_mb"] / res["polars"]["peak_mb"]
    ok = speed >= 8 and mem >= 10
    print(
        f"polars vs pandas: x{speed:.1f} faster, x{mem:.1f} less peak memory "
        f"(targets x8 and x10: {'met' if ok else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
