"""Search speed: rfmlab's kmeans search vs the straightforward Optuna loop, 100k customers, 50 trials.

Baseline (what a notebook does): Optuna TPE, each trial fits KMeans and calls
``sklearn.metrics.silhouette_score(X, labels, sample_size=10000, random_state=seed)``.
rfmlab: the same sampler, seed and KMeans settings through ``rfmlab.search.Objective``: one fixed
evaluation sample whose distances are computed once (one matrix product per trial), and a parameter
set already tried is not fitted again. Measured twice: in memory (the search itself) and fully tracked
(Optuna journal file + one MLflow child run per trial, batch-written in the background), as ``rfmlab`` runs it.

Run: .venv/bin/python benchmarks/bench_search.py [--customers 100000] [--trials 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import optuna
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from rfmlab import pipeline, search
from rfmlab.data.spec import DatasetSpec
from rfmlab.evaluate import EvaluationSpec
from rfmlab.features import FeatureSpec
from rfmlab.jobs import trials
from rfmlab.mlflow_edge import child_runs, tracking
from rfmlab.search import studies

warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.WARNING)

KMEANS: dict = {}


def baseline(X, n_trials, seed):
    def objective(trial):
        k = trial.suggest_int("n_clusters", 2, 12)
        labels = KMeans(n_clusters=k, random_state=seed, **KMEANS).fit_predict(X)
        return silhouette_score(X, labels, sample_size=10_000, random_state=seed)

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    t = time.perf_counter()
    study.optimize(objective, n_trials=n_trials)
    return time.perf_counter() - t, study.best_params["n_clusters"], len({t.params["n_clusters"] for t in study.trials})


def rfmlab_search(prep, n_trials, seed, tmp: str, storage: bool = False, mlflow: bool = False):
    """rfmlab's objective; with ``storage`` the Optuna study lives in storage as rfmlab opens it, with ``mlflow``
    every trial gets its child run (background writer, drained before the clock stops). The default storage
    is a journal file under ``tmp/mlruns``."""
    spec = search.SearchSpec(n_trials=n_trials, seed=seed, min_cluster_share=0.0)
    space = {"n_clusters": {"type": "int", "low": 2, "high": 12}}
    callbacks = [trials.StopAt(n_trials)]  # rfmlab always counts finished trials (all processes) after each
    writer = child_runs.ChildRunWriter()
    if mlflow:
        uri = f"sqlite:///{tmp}/mlflow.db"
        exp = tracking.ensure_experiment("bench", uri)
        parent = child_runs.log_child_run(
            uri, experiment_id=exp, parent_run_id="", name="parent", params={}, metrics={}, tags={}
        )
        callbacks.append(
            trials.TrialLogger(uri, experiment_id=exp, parent_run_id=parent, tags={}, writer=writer)
        )  # one child run per trial
    rdb = studies.storage_for(studies.default_storage(tmp)) if storage else None  # as rfmlab opens its default
    t = time.perf_counter()
    prep.evaluator._dist = None  # the distance cache is part of the measured time
    study = optuna.create_study(storage=rdb, direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    obj = search.Objective(prep, algorithm="kmeans", base_params=KMEANS, space=space, spec=spec, seed=seed)
    study.optimize(obj, n_trials=n_trials, catch=(search.FitFailed,), callbacks=callbacks)
    writer.close()  # every child run written: part of the measured time
    return time.perf_counter() - t, study.best_params["n_clusters"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-init", default="auto", help="KMeans n_init for both loops (scikit-learn default: auto)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each contender, interleaved; medians reported")
    a = ap.parse_args()
    KMEANS["n_init"] = a.n_init if a.n_init == "auto" else int(a.n_init)
    print(f"KMeans n_init={KMEANS['n_init']}, {a.trials} trials, TPE seed {a.seed}")
    t = time.perf_counter()
    prep = pipeline.prepare(
        DatasetSpec.from_dict(
            {
                "name": "bench",
                "kind": "stock_market",
                "synthetic": {"n_customers": a.customers, "seed": a.seed},
                "columns": {
                    "customer": "AccountID",
                    "invoice": "TradeID",
                    "date": "TradeTime",
                    "quantity": "Quantity",
                    "price": "Price",
                },
                "return_prefix": None,
                "cleaning": {"cancellations": "drop"},
            }
        ),
        features=FeatureSpec(transform=["log", "standard"]),
        evaluation=EvaluationSpec(sample_size=10_000),
        seed=a.seed,
    )
    print(f"data: {prep.customers.height:,} customers prepared in {time.perf_counter() - t:.1f} s")
    tb, kb, distinct = baseline(prep.X, a.trials, a.seed)
    print(f"baseline loop      : {tb:6.1f} s  best k={kb}  ({distinct} distinct k in {a.trials} trials)")
    import statistics

    res: dict = {"baseline_s": tb, "repeat": a.repeat}
    contenders = [("memory", {}), ("storage", {"storage": True}), ("mlflow", {"mlflow": True}),
                  ("tracked", {"storage": True, "mlflow": True})]  # fmt: skip
    times: dict[str, list] = {name: [] for name, _ in contenders}
    for _ in range(a.repeat):  # interleaved: a slow spell of this shared machine hits every contender
        for name, kw in contenders:
            with tempfile.TemporaryDirectory() as tmp:
                sec, k = rfmlab_search(prep, a.trials, a.seed, tmp, **kw)
            times[name].append(sec)
    for name, secs in times.items():
        res[f"{name}_s"] = statistics.median(secs)
        print(f"rfmlab ({name:8s}): {res[f'{name}_s']:6.2f} s median (runs {', '.join(f'{x:.2f}' for x in secs)})")
    share = (res["tracked_s"] - res["memory_s"]) / res["tracked_s"]  # of the medians
    res["tracking_share"] = share
    alone = {k: res[f"{k}_s"] - res["memory_s"] for k in ("storage", "mlflow")}
    print(
        f"tracking share of the tracked search: {share:.1%} (Optuna storage alone +{alone['storage']:.2f} s, "
        f"MLflow child runs alone +{alone['mlflow']:.2f} s); target <= 10%"
    )
    if a.json:
        import json

        Path(a.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
