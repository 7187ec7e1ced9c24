"""Customer lifetime value at a million customers (issue 24): the embedded generator at
``dataset.synthetic.n_customers=1000000`` through the main job with ``clv.enabled=true`` (BG/NBD + Gamma-Gamma
fitted by pymc-marketing on the per-customer summary, predictions for every customer, charts), under
``/usr/bin/time -v`` (wall time, peak RSS), and the same command with CLV off for the difference. The log is
generated before the first timed run (the cache), so the times are the job's.

Also fits a log simulated from the BG/NBD / Gamma-Gamma processes with known parameters at the same size, to
time the fits alone and show the parameters recovered.

Targets (the scale issue, 10): the command <= 10 min and <= 4 GiB peak on this machine.
Run: .venv/bin/python benchmarks/bench_clv.py [--customers 1000000] [--search none|optuna] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench_scale import stages, timed


def command(customers: int, store: Path, *, clv: bool, search: str) -> list[str]:
    return [
        sys.executable, "-m", "rfmlab.cli", f"dataset.synthetic.n_customers={customers}", f"search={search}",
        f"tracking.uri=sqlite:///{store / 'mlflow.db'}", f"search.storage={store / 'optuna.journal'}",
        f"clv.enabled={str(clv).lower()}",
    ] if search == "optuna" else [
        sys.executable, "-m", "rfmlab.cli", f"dataset.synthetic.n_customers={customers}", "search=none",
        f"tracking.uri=sqlite:///{store / 'mlflow.db'}", f"clv.enabled={str(clv).lower()}",
    ]  # fmt: skip


def simulated_fit(customers: int) -> dict:
    """Fit time and recovered parameters on a log simulated with known parameters (``clv.simulate``)."""
    import resource

    from rfmlab import clv

    bg, gg = {"r": 0.75, "alpha": 5.0, "a": 0.8, "b": 2.5}, {"p": 6.0, "q": 4.0, "v": 15.0}
    t0 = time.perf_counter()
    log = clv.simulate(customers, bgnbd=bg, gg=gg, days=365, seed=0)
    summary = clv.from_timestamps(log, as_of=clv.end_of(365))
    t1 = time.perf_counter()
    params = clv.fit_params(summary, spec=clv.ClvSpec(enabled=True))
    t2 = time.perf_counter()
    clv.predict(summary, params)
    t3 = time.perf_counter()
    true = {**bg, **gg}
    return {
        "lines": log.height,
        "simulate_and_summary_s": round(t1 - t0, 1),
        "fit_s": round(t2 - t1, 1),
        "predict_s": round(t3 - t2, 1),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "relative_error": {k: round(getattr(params, k) / v - 1, 4) for k, v in true.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--search", default="none", choices=("none", "optuna"))
    ap.add_argument("--skip-off", action="store_true", help="only the run with CLV on")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    out: dict = {"customers": args.customers, "search": args.search, "date": time.strftime("%Y-%m-%d"), "runs": {}}
    for clv in (True, False)[: 1 if args.skip_off else 2]:
        with tempfile.TemporaryDirectory() as tmp:
            wall, peak, stdout = timed(command(args.customers, Path(tmp), clv=clv, search=args.search))
        key = "clv_on" if clv else "clv_off"
        out["runs"][key] = {"wall_s": wall, "peak_mb": peak, "stages_s": stages(stdout)}
        print(f"{key:8s} {wall:7.1f} s  peak {peak:7.0f} MiB", flush=True)
    out["simulated_fit"] = simulated_fit(args.customers)
    print(json.dumps(out["simulated_fit"]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
