"""The main job on a SQL source: a 10-million-line log in the UCI layout in a PostgreSQL table, streamed.

The log is ``bench_scale.make_log``'s (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
CustomerID, Country; 2% cancellations, 10% guests, 0.3% zero prices and exact duplicates), written once to
``benchmarks/_data``, then loaded with the COPY protocol (psycopg, 1M lines a slice) into a typed table of a
PostgreSQL server started here (``tests/servers.py``: Debian's server on 127.0.0.1, a free port; removed at the end).

Contenders, each in its own process under ``/usr/bin/time -v`` (wall time, peak RSS of the command; the server's
own memory is not in it):
- ``sql``: ``rfmlab dataset=transactions dataset.uri=postgresql://... dataset.table=retail ... search=none
  algorithm=kmeans`` (the whole command: the rows read in batches through ADBC into parquet parts, then load ->
  clean -> features, KMeans, evaluation, every artifact and the model in MLflow);
- ``pushdown``: the same command with ``dataset.engine=postgres``: load -> clean -> RFM run by the server as one
  query (``data.pushdown``), only the customer table read back;
- ``file``: the same command on the parquet file the table was loaded from (``dataset.path``).

Target (issue 22): the SQL command's peak <= 1.5 GiB.
Run: .venv/bin/python benchmarks/bench_sql_source.py [--rows 10000000] [--only sql,pushdown,file] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import DATA, ROOT, job_cmd, make_log, stages, timed

DDL = """CREATE TABLE retail ("InvoiceNo" text, "StockCode" text, "Description" text, "Quantity" bigint,
         "InvoiceDate" timestamp, "UnitPrice" double precision, "CustomerID" bigint, "Country" text)"""
SLICE = 1_000_000


def load(url: str, path: Path) -> float:
    """The parquet log COPYed into table ``retail`` a slice at a time; the seconds it took."""
    import polars as pl
    import psycopg

    t = time.perf_counter()
    lf = pl.scan_parquet(path)
    rows = lf.select(pl.len()).collect().item()
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(DDL)
        with cur.copy("COPY retail FROM STDIN (FORMAT csv, HEADER false)") as copy:
            for start in range(0, rows, SLICE):
                buf = io.BytesIO()
                lf.slice(start, SLICE).collect().write_csv(buf, include_header=False)
                copy.write(buf.getvalue())
        cur.execute("ANALYZE retail")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--json", default=None)
    ap.add_argument("--only", default="sql,pushdown,file", help="contenders, comma-separated")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import servers

    DATA.mkdir(exist_ok=True)
    path = DATA / f"uci_layout_{args.rows}.parquet"
    if not path.exists():
        make_log(path, args.rows)
    out: dict = {"machine": f"{platform.node()} {platform.processor() or platform.machine()}, 2 cores",
                 "date": time.strftime("%Y-%m-%d"), "rows": args.rows}  # fmt: skip
    with servers.postgres(("shop",)) as base:
        url = f"{base}/shop"
        out["copy_s"] = load(url, path)
        for name in args.only.split(","):
            with tempfile.TemporaryDirectory() as store:
                cmd = job_cmd(path, Path(store))
                if name in ("sql", "pushdown"):
                    cmd = [a for a in cmd if not a.startswith("dataset.path=")]
                    cmd += [f"dataset.uri={url}", "dataset.table=retail"]
                if name == "pushdown":
                    cmd += ["dataset.engine=postgres"]
                wall, peak, stdout = timed(cmd)
            out[name] = {"wall_s": wall, "peak_mb": peak, "stages_s": stages(stdout)}
            print(name, json.dumps(out[name]), flush=True)
    out["sql_peak_within_1_5_gib"] = max(out[k]["peak_mb"] for k in ("sql", "pushdown") if k in out) <= 1536
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
