"""``make bench``: every benchmark in this folder, one after another, into ``benchmarks/results.json`` and a
table between the ``bench:start`` / ``bench:end`` markers of the README (machine and date included).

Takes about 27 minutes on this 2-core machine (the 50M- and 96M-line logs are generated once and cached in
benchmarks/_data and ~/.cache/rfmlab). ``--quick`` runs smaller sizes (a check that everything still runs).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def run(script: str, *args: str) -> dict:
    out = HERE / "_data" / f"{Path(script).stem}.json"
    out.parent.mkdir(exist_ok=True)
    print(f"== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args, "--json", str(out)], check=True, cwd=HERE)
    return json.loads(out.read_text())


def table(res: dict) -> str:
    r, s, m = res["rfm"]["medians"], res["search"], res["million"]
    sc = res["scale"].get("summary", res["scale"])
    rows = [
        ("RFM, 50M-line log: `features.rfm` streamed / eager / pandas seed way / floor query",
         f"{r['polars']['seconds']:.2f} / {r['eager']['seconds']:.2f} / {r['pandas']['seconds']:.2f} / "
         f"{r['floor']['seconds']:.2f} s; peak {r['polars']['peak_mb']:.0f} / {r['eager']['peak_mb']:.0f} / "
         f"{r['pandas']['peak_mb']:.0f} / {r['floor']['peak_mb']:.0f} MiB"),
        (f"main job, {sc['rows'] / 1e6:.0f}M-line log (`search=none algorithm=kmeans`, whole command)",
         f"{sc['job_wall_s']:.1f} s, peak {sc['job_peak_mb']:.0f} MiB; load+clean+features "
         f"{sc['job_load_clean_features_s']:.1f} s = x{sc['ratio_vs_rfm']:.2f} `features.rfm` alone "
         f"({sc['rfm_alone_s']:.1f} s)"),
        (f"search, 100k customers, 50 KMeans trials (medians of {s.get('repeat', 1)}): in memory / + journal study / "
         "+ MLflow child runs / both",
         f"{s['memory_s']:.2f} / {s['storage_s']:.2f} / {s['mlflow_s']:.2f} / {s['tracked_s']:.2f} s: tracking "
         f"{s['tracking_share']:.0%} of the tracked search (baseline loop {s['baseline_s']:.1f} s)"),
    ]  # fmt: skip
    for algo, run_ in m["runs"].items():
        rows.append(
            (f"{m['customers']:,} customers, `algorithm={algo}` default search",
             f"{run_['wall_s'] / 60:.1f} min, peak {run_['peak_mb']:.0f} MiB; {run_.get('trials_ok', '?')} of 50 "
             f"trials valid, best {run_.get('params') or run_.get('best', '?').rstrip(',')} (silhouette "
             f"{run_.get('silhouette', float('nan')):.3f})")
        )  # fmt: skip
    tr = res.get("track")
    if tr:
        o, b = tr["orii"], tr["big"]
        rows.append(("`rfmlab-timeline --scheme rfm11`, Online Retail II: 13 monthly snapshots / one (whole commands)",
                     f"{o['monthly']['wall_s']:.1f} / {o['one']['wall_s']:.1f} s = x{o['ratio']:.2f}, peak "
                     f"{o['monthly']['peak_mb']:.0f} MiB"))  # fmt: skip
        what = f"`rfmlab-timeline`, {b['rows'] / 1e6:.0f}M-line log over 2 years: {b['snapshots']} monthly snapshots"
        rows.append((what,
                     f"{b['wall_s']:.1f} s, peak {b['peak_mb']:.0f} MiB"))  # fmt: skip
    st = res.get("stability")
    if st:
        c = st["costs"]
        per = ", ".join(f"{a} {c[f'{a}@10000']['seconds']:.1f} / {c[f'{a}@5000']['seconds']:.1f} s"
                        for a in ("kmeans", "agglomerative", "dbscan", "hdbscan"))  # fmt: skip
        rows.append(("stability, 20 resamples of a 10,000 / 5,000-customer stability sample" + st.get("note", ""), per))
        rows.append(("`make run` (50-trial kmeans search, 5,000 customers) without / with stability and the k report",
                     f"{st['make_run_without']['wall_s']:.1f} / {st['make_run_with']['wall_s']:.1f} s = "
                     f"x{st['make_run_ratio']:.2f}; k report (k=2-12) kmeans {c['k_report.kmeans']['seconds']:.1f} s, "
                     f"agglomerative {c['k_report.agglomerative']['seconds']:.1f} s"))  # fmt: skip
    head = f"Measured by `make bench` on {res['machine']}, {res['date']}:\n\n| benchmark | result |\n|---|---|\n"
    return head + "\n".join(f"| {a} | {b} |" for a, b in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--table-only", action="store_true", help="rebuild results.json and the table from the last runs")
    a = ap.parse_args()
    q = a.quick
    if a.table_only:
        run = lambda script, *args: json.loads((HERE / "_data" / f"{Path(script).stem}.json").read_text())  # noqa: E731
    res = {
        "machine": f"{platform.machine()}, 2 cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "rfm": run("bench_rfm.py", "--rows", "2000000" if q else "50000000", "--repeat", "1" if q else "3"),
        "search": run("bench_search.py", "--customers", "20000" if q else "100000", "--repeat", "1" if q else "5"),
        "scale": run("bench_scale.py", "--rows", "2000000" if q else "50000000", "--repeat", "1" if q else "3"),
        "million": run("bench_million.py", "--customers", "60000" if q else "1000000"),
        "track": run("bench_track.py", "--rows", "2000000" if q else "50000000", "--repeat", "1" if q else "3"),
        "stability": run("bench_stability.py", "--customers", "5000" if q else "20000", "--repeat", "1" if q else "3"),
    }
    (HERE / "results.json").write_text(json.dumps(res, indent=2))
    text = README.read_text()
    if START in text and END in text and not q:
        before, rest = text.split(START, 1)
        README.write_text(before + START + "\n" + table(res) + "\n" + END + rest.split(END, 1)[1])
    print(table(res))


if __name__ == "__main__":
    main()
