"""The main job at a retailer's size: a 50-million-line log in the UCI layout, streamed end to end.

The log (``make_log``): InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country;
invoices numbered in time order with their lines together (1 + geometric lines, mean 8), 2% cancellations
(``C`` invoices, negative quantities), 10% guest invoices without CustomerID, 0.3% zero prices and 0.3% exact
duplicate lines (next to their original, as exports repeat them), about 250,000 customers.

Contenders, each in its own process, timed by ``/usr/bin/time -v`` (wall time, peak RSS):
- ``job``: ``rfmlab dataset=transactions dataset.path=LOG ... search=none algorithm=kmeans`` (the whole command:
  imports, load -> clean -> features, transform, KMeans, evaluation, every artifact and the model in MLflow).
  Its stage times come from its own console lines.
- ``rfm``: ``features.rfm`` alone on the same file (the columns mapped to the canonical schema, no cleaning).

Targets (issue 10): job peak <= 1.5 GiB; its load + clean + features <= 3x ``rfm`` alone.
Run: .venv/bin/python benchmarks/bench_scale.py [--rows 50000000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
CHUNK = 5_000_000


def _chunk(rng, rows: int, first_invoice: int, t0: float, t1: float, customers: int):
    import numpy as np
    import polars as pl

    lines = rng.geometric(1 / 8, rows // 7 + 16)
    end = np.cumsum(lines)
    k = int(np.searchsorted(end, rows)) + 1
    lines = lines[:k]
    lines[-1] -= end[k - 1] - rows
    when = np.datetime64("2010-12-01T08:00:00", "s") + np.sort(rng.uniform(t0, t1, k)).astype("timedelta64[s]")
    cust = ((rng.pareto(1.1, k) * 2000).astype(np.int64) % customers + 12346).astype(float)
    cust[rng.random(k) < 0.10] = np.nan
    cancel = rng.random(k) < 0.02
    number = (first_invoice + np.arange(k)).astype(str)
    inv = np.where(cancel, np.char.add("C", number), number)
    qty = rng.integers(1, 25, rows)
    price = np.round(rng.lognormal(1.0, 0.8, rows), 2)
    price[rng.random(rows) < 0.003] = 0.0
    stock = rng.integers(0, 4000, rows)
    df = pl.DataFrame(
        {
            "InvoiceNo": np.repeat(inv, lines),
            "StockCode": (85000 + stock).astype(str),
            "Description": np.char.add("PRODUCT ", stock.astype(str)),
            "Quantity": np.where(np.repeat(cancel, lines), -qty, qty),
            "InvoiceDate": np.repeat(when, lines).astype("datetime64[us]"),
            "UnitPrice": price,
            "CustomerID": np.repeat(cust, lines),
            "Country": "United Kingdom",
        }
    ).with_columns(pl.col("CustomerID").fill_nan(None).cast(pl.Int64))
    dup = np.flatnonzero(rng.random(rows) < 0.003)
    idx = np.sort(np.concatenate([np.arange(rows), dup]))  # a repeated line follows its original
    return df[idx], k


def make_log(path: Path, rows: int, customers: int = 250_000, seed: int = 0, days: int = 374) -> None:
    """Written in 5M-line parts, then joined by a streaming sink (bounded memory); ``days`` of history."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    parts, first, n_parts = [], 536_365, max(1, rows // CHUNK)
    span = days * 86400 / n_parts
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        for i in range(n_parts):
            df, k = _chunk(rng, rows // n_parts, first, i * span, (i + 1) * span, customers)
            first += k
            parts.append(Path(tmp) / f"{i:04d}.parquet")
            df.write_parquet(parts[-1])
        pl.scan_parquet(parts).sink_parquet(path)


def rfm_alone(path: str) -> None:
    """features.rfm on the file, mapped to the canonical schema with no cleaning (a child process)."""
    import polars as pl

    from rfmlab.features import rfm

    t = time.perf_counter()
    lf = pl.scan_parquet(path).select(
        pl.col("CustomerID").cast(pl.String).alias("customer_id"),
        pl.col("InvoiceNo").alias("invoice_id"),
        pl.col("InvoiceDate").alias("timestamp"),
        (pl.col("Quantity") * pl.col("UnitPrice")).alias("amount"),
        pl.col("InvoiceNo").str.starts_with("C").alias("is_return"),
    )
    out, _ = rfm(lf.filter(pl.col("customer_id").is_not_null()))
    print(json.dumps({"seconds": time.perf_counter() - t, "customers": out.height}))


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of a command under /usr/bin/time -v."""
    res = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"{cmd} failed: {res.stderr[-2000:]}")
    peak = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr).group(1)) / 1024
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", res.stderr)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    return wall, peak, res.stdout


def stages(stdout: str) -> dict[str, float]:
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"✓ (.+?) \(([\d.]+) s\)", stdout)}


def job_cmd(path: Path, store: Path) -> list[str]:
    return [
        sys.executable, "-m", "rfmlab.cli", "dataset=transactions", f"dataset.path={path}",
        "dataset.columns.customer=CustomerID", "dataset.columns.invoice=InvoiceNo", "dataset.columns.date=InvoiceDate",
        "dataset.columns.quantity=Quantity", "dataset.columns.price=UnitPrice", "dataset.return_prefix=C",
        "search=none", "algorithm=kmeans", f"tracking.uri=sqlite:///{store / 'mlflow.db'}",
    ]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"uci_layout_{args.rows}.parquet"
    if not path.exists():
        t = time.perf_counter()
        make_log(path, args.rows)
        print(f"wrote {path} in {time.perf_counter() - t:.0f} s")
    runs: dict[str, list] = {"job": [], "rfm": []}
    for _ in range(args.repeat):  # interleaved: both see the same machine load
        with tempfile.TemporaryDirectory() as store:
            wall, peak, out = timed(job_cmd(path, Path(store)))
        st = stages(out)
        runs["job"].append({"wall": wall, "peak_mb": peak, "stages": st})
        wall, peak, out = timed([sys.executable, __file__, "--child-rfm", str(path)])
        runs["rfm"].append({"wall": wall, "peak_mb": peak, **json.loads(out.strip().splitlines()[-1])})
    med = statistics.median
    load_clean_features = med(sum(r["stages"].get(s, 0) for s in ("load", "clean", "features")) for r in runs["job"])
    summary = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, 2 cores",
        "date": time.strftime("%Y-%m-%d"),
        "rows": args.rows,
        "job_wall_s": med(r["wall"] for r in runs["job"]),
        "job_peak_mb": med(r["peak_mb"] for r in runs["job"]),
        "job_load_clean_features_s": load_clean_features,
        "job_stages_s": {s: med(r["stages"].get(s, 0) for r in runs["job"]) for s in runs["job"][0]["stages"]},
        "rfm_alone_s": med(r["seconds"] for r in runs["rfm"]),
        "rfm_alone_peak_mb": med(r["peak_mb"] for r in runs["rfm"]),
    }
    summary["ratio_vs_rfm"] = summary["job_load_clean_features_s"] / summary["rfm_alone_s"]
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": runs}, indent=2))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child-rfm":
        rfm_alone(sys.argv[2])
    else:
        main()
