"""The customer-table stage on each engine, on the 50M-line log of ``bench_scale.py`` (UCI layout, parquet).

Contenders, each the whole ``rfmlab`` command in its own process (``search=none algorithm=kmeans``, as
``bench_scale.py``'s job), one after another:
- ``polars``: ``dataset.engine=polars`` (the default: streamed by polars in this process);
- ``duckdb``: ``dataset.engine=duckdb`` (DuckDB in this process, all cores);
- ``spark``: ``dataset.engine=spark`` with ``dataset.spark.master=local[2]`` (a JVM child process);
- ``parts``: ``dataset.engine=polars`` on the same log as 50 hive-partitioned parquet parts (``part=NN/``, by date
  range: a line and its exact repeats share a part), against ``polars`` on the one file (issue 22, item 6).

Measured: wall time and peak RSS of the rfmlab process (``/usr/bin/time -v``), the peak of the whole process tree
(the rfmlab process and its children, sampled every 0.2 s: Spark's JVM is a child), the load / clean / features
stage times from the command's console, and the customers and rows it reports (equal for every contender).
Run: .venv/bin/python benchmarks/bench_pushdown.py [--rows 50000000] [--only polars,duckdb,spark,parts]
         [--json out.json]
     .venv/bin/python benchmarks/bench_pushdown.py --table out.json [more.json ...]
         (the table into docs/guides/engines.md)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
sys.path.insert(0, str(HERE))

from bench_scale import job_cmd, make_log, stages  # noqa: E402

PARTS = 50
GUIDE = ROOT / "docs" / "guides" / "engines.md"
START, END = "<!-- pushdown:start -->", "<!-- pushdown:end -->"
LABELS = {"polars": "polars (streaming, default)", "duckdb": "DuckDB", "spark": "Spark `local[2]`",
          "parts": "polars, the log as 50 hive parts"}  # fmt: skip


def write_parts(log: Path, out: Path, parts: int = PARTS) -> None:
    """The log as ``parts`` hive folders ``part=00..`` of equal date ranges (streamed, one part at a time)."""
    import polars as pl

    lf = pl.scan_parquet(log)
    dates = pl.col("InvoiceDate")
    lo, hi = lf.select(dates.min().alias("lo"), dates.max().alias("hi")).collect().row(0)
    step = (hi - lo) / parts
    tmp = out.with_name(out.name + ".writing")
    for i in range(parts):
        start, end = lo + step * i, (hi + step if i == parts - 1 else lo + step * (i + 1))
        folder = tmp / f"part={i:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        when = (pl.col("InvoiceDate") >= start) & (pl.col("InvoiceDate") < end)
        lf.filter(when).sink_parquet(folder / "data.parquet")
    tmp.rename(out)


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def timed(cmd: list[str]) -> dict:
    """Wall seconds, peak RSS of the command (``/usr/bin/time -v``) and of its process tree (sampled), stdout."""
    proc = subprocess.Popen(["/usr/bin/time", "-v", *cmd], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed: {err[-3000:]}")
    rss = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) / 1024
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", err)
    wall = int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    customers = re.search(r"([\d,]+) customers", out)
    return {"wall_s": wall, "peak_mb": rss, "tree_peak_mb": peak[0] / 2**20, "stages": stages(out),
            "customers": customers.group(1) if customers else None}  # fmt: skip


def contender(name: str, log: Path, parts: Path, store: Path) -> list[str]:
    cmd = job_cmd(parts if name == "parts" else log, store)
    if name in ("duckdb", "spark"):
        cmd.append(f"dataset.engine={name}")
    if name == "spark":
        cmd += ["dataset.spark.master='local[2]'", "+dataset.spark.conf.spark.driver.memory=2g"]
    return cmd


def table(results: list[dict]) -> str:
    """The markdown table of one or more results files (runs merged by contender)."""
    runs = {k: v for r in results for k, v in r["runs"].items()}
    first = results[0]
    lines = [
        f"{first['rows'] / 1e6:.0f}M lines, parquet (`bench_scale.py`'s log), the whole `rfmlab ... search=none "
        f"algorithm=kmeans` command; {first['machine']}, {first['date']}, shared with other jobs (load average "
        "4 to 5 on the 2 cores during these runs: compare the rows; the main job alone took 27 s on a quiet day, see "
        "[Benchmarks](../benchmarks.md)).",
        "",
        "| engine | customers | wall | load + clean + features | peak RSS, rfmlab process | peak RSS, process tree |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("polars", "duckdb", "spark", "parts"):
        if name not in runs:
            continue
        r = runs[name]
        stage = sum(r["stages"].get(s, 0) for s in ("load", "clean", "features"))
        lines.append(f"| {LABELS[name]} | {r['customers']} | {r['wall_s']:.0f} s | {stage:.0f} s | "
                     f"{r['peak_mb'] / 1024:.2f} GiB | {r['tree_peak_mb'] / 1024:.2f} GiB |")  # fmt: skip
    return "\n".join(lines)


def write_table(paths: list[str]) -> None:
    text = GUIDE.read_text()
    body = table([json.loads(Path(p).read_text()) for p in paths])
    head, rest = text.split(START)
    GUIDE.write_text(f"{head}{START}\n{body}\n{END}{rest.split(END, 1)[1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--only", default="polars,duckdb,spark,parts")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    log = DATA / f"uci_layout_{args.rows}.parquet"
    parts = DATA / f"uci_layout_{args.rows}_parts"
    if not log.exists():
        make_log(log, args.rows)
    names = args.only.split(",")
    if "parts" in names and not parts.exists():
        write_parts(log, parts)
    runs = {}
    for name in names:
        with tempfile.TemporaryDirectory() as store:
            runs[name] = timed(contender(name, log, parts, Path(store)))
        print(name, json.dumps(runs[name]), flush=True)
    summary = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, 2 cores",
        "date": time.strftime("%Y-%m-%d"),
        "rows": args.rows,
        "runs": runs,
    }
    if "parts" in runs and "polars" in runs:
        summary["parts_vs_file"] = runs["parts"]["wall_s"] / runs["polars"]["wall_s"]
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--table":
        write_table(sys.argv[2:])
    else:
        main()
