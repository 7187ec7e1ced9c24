"""rfmlab-timeline's speed: snapshots from one cleaning pass, not one pass per date.

1. Online Retail II 2009-2010 (the shared file): ``rfmlab-timeline --scheme rfm11`` with its 13 monthly snapshots
   against the same command with one snapshot (``--start`` at the log's end). Target: <= 3x.
2. A 50M-line log over two years (UCI layout, the generator of bench_scale.py with 730 days): 24 monthly
   snapshots. Target: peak <= 1.5 GiB (issue 10's bound for the main job).

Whole commands in their own processes under ``/usr/bin/time -v`` (wall, peak RSS); medians of ``--repeat``.
Run: .venv/bin/python benchmarks/bench_track.py [--rows 50000000] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "_data"
SHARED = Path(os.environ.get("RFMLAB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def timed(cmd: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        res = subprocess.run(["/usr/bin/time", "-v", "-o", t.name, *cmd], capture_output=True, text=True, cwd=ROOT)
        if res.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed: {res.stderr[-2000:]}")
        txt = t.read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", txt)
    h, m, s = (float(x) if x else 0.0 for x in wall.groups())
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt).group(1)) / 1024
    snaps = re.search(r"tracked (\d+) snapshots", res.stdout)
    return {"wall_s": h * 3600 + m * 60 + s, "peak_mb": peak, "snapshots": int(snaps.group(1)) if snaps else None}


def track(log: Path, dataset: str, store: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "rfmlab.cli.timeline", "--scheme", "rfm11", "--input", str(log), "--dataset", dataset,
            "--tracking-uri", f"sqlite:///{store / 'mlflow.db'}", *extra]  # fmt: skip


def median_of(runs: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "peak_mb")}
    return {**med, "snapshots": runs[0]["snapshots"], "runs": [round(r["wall_s"], 2) for r in runs]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    res: dict = {}
    orii = SHARED / "online_retail_II_2009_2010.csv.gz"
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp)
        many, one = [], []
        for _ in range(a.repeat):  # interleaved
            many.append(timed(track(orii, "online_retail_ii", store)))
            one.append(timed(track(orii, "online_retail_ii", store, "--start", "2010-12-10")))
        res["orii"] = {"monthly": median_of(many), "one": median_of(one)}
        res["orii"]["ratio"] = res["orii"]["monthly"]["wall_s"] / res["orii"]["one"]["wall_s"]
        o = res["orii"]
        print(f"Online Retail II: {o['monthly']['snapshots']} monthly snapshots {o['monthly']['wall_s']:.1f} s, "
              f"one snapshot {o['one']['wall_s']:.1f} s: x{o['ratio']:.2f} (target <= 3); peak "
              f"{o['monthly']['peak_mb']:.0f} MiB")  # fmt: skip
        sys.path.insert(0, str(HERE))
        from bench_scale import make_log

        big = DATA / f"uci_layout_{a.rows}_2y.parquet"
        if not big.exists():
            DATA.mkdir(exist_ok=True)
            make_log(big, a.rows, days=730)
        runs = [timed(track(big, "online_retail", store)) for _ in range(a.repeat)]
        res["big"] = {"rows": a.rows, **median_of(runs)}
        b = res["big"]
        print(f"{a.rows / 1e6:.0f}M lines, 2 years: {b['snapshots']} monthly snapshots in {b['wall_s']:.1f} s, peak "
              f"{b['peak_mb']:.0f} MiB (target <= 1,536)")  # fmt: skip
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
