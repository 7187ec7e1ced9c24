import math

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_blobs

from rfmlab import cluster, evaluate, search
from rfmlab.errors import ConfigError
from rfmlab.search import studies

optuna.logging.set_verbosity(optuna.logging.WARNING)
X, y = make_blobs(n_samples=600, centers=4, cluster_std=0.6, random_state=1)


class Prep:  # the part of pipeline.Prepared a search reads
    def __init__(self, X):
        self.X = X
        self.evaluator = evaluate.Evaluator(X, sample_size=10_000, seed=0)


def run(space, spec, algorithm="kmeans", base=None, sampler=None, n_trials=None):
    records = []
    study = optuna.create_study(direction=spec.direction, sampler=sampler or studies.make_sampler(spec, space=space))
    obj = search.Objective(
        Prep(X), algorithm=algorithm, base_params=base or {}, space=space, spec=spec, seed=0, on_trial=records.append
    )
    study.optimize(obj, n_trials=n_trials or spec.n_trials, catch=(search.FitFailed,))
    return study, records


def test_kmeans_search_finds_the_four_blobs_and_never_refits_a_tried_k(monkeypatch):
    fits = []
    real = cluster.fit_predict
    monkeypatch.setattr(cluster._algorithms, "fit_predict", lambda *a, **k: fits.append(a[1]) or real(*a, **k))
    spec = search.SearchSpec(n_trials=30, seed=0)
    space = search.resolve_space("kmeans", space={"n_clusters": {"type": "int", "low": 2, "high": 7}}, X=X)
    study, records = run(space, spec, base={"n_init": 4})
    assert study.best_params == {"n_clusters": 4}
    assert len(fits) == len({f["n_clusters"] for f in fits}) <= 6  # each k fitted once
    dups = [r for r in records if r.duplicate_of is not None]
    assert len(dups) == 30 - len(fits)
    first = {r.params["n_clusters"]: r.metrics["silhouette"] for r in records if r.duplicate_of is None}
    assert all(r.metrics["silhouette"] == first[r.params["n_clusters"]] for r in dups)


def test_constraints_prune_with_reason_and_are_never_best():
    spec = search.SearchSpec(n_trials=12, seed=0, max_noise=0.05, min_cluster_share=0.0)
    space = search.resolve_space(
        "dbscan",
        space={
            "eps": {"type": "float", "low": 0.05, "high": 3.0, "log": True},
            "min_samples": {"type": "int", "low": 3, "high": 10},
        },
        X=X,
    )
    study, records = run(space, spec, algorithm="dbscan")
    pruned = [r for r in records if r.state == "PRUNED"]
    assert pruned and all(r.reason for r in pruned)
    assert any("noise_fraction" in r.reason or "fewer than 2 clusters" in r.reason for r in pruned)
    states = {t.number: t.state.name for t in study.trials}
    assert all(states[r.number] == "PRUNED" for r in pruned)
    best = studies.best_trial(study)
    assert best is not None and best.number not in {r.number for r in pruned}
    assert best.user_attrs["metrics"]["noise_fraction"] <= 0.05


def test_min_cluster_share_and_fewer_than_two_clusters():
    m = {"n_clusters": 1.0, "noise_fraction": 0.0, "min_cluster_share": 1.0, "silhouette": math.nan}
    assert "fewer than 2 clusters" in search.violation(m, search.SearchSpec())
    m = {"n_clusters": 3.0, "noise_fraction": 0.0, "min_cluster_share": 0.001, "silhouette": 0.5}
    assert "min_cluster_share" in search.violation(m, search.SearchSpec(min_cluster_share=0.01))
    assert search.violation(m, search.SearchSpec(min_cluster_share=0.0)) is None


def test_grid_sampler_exhausts_a_small_space_without_repeats():
    spec = search.SearchSpec(n_trials=100, sampler="grid", seed=0)
    space = search.resolve_space(
        "agglomerative",
        space={
            "n_clusters": {"type": "int", "low": 2, "high": 5},
            "linkage": {"type": "categorical", "choices": ["ward", "average"]},
        },
        X=X,
    )
    assert search.grid_size(space, spec.grid_points) == 8
    study, _ = run(space, spec, algorithm="agglomerative")
    assert len(study.trials) == 8
    assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 8


def test_other_metrics_set_the_direction():
    spec = search.SearchSpec(metric="davies_bouldin", n_trials=12, seed=0)
    assert spec.direction == "minimize"
    space = {"n_clusters": {"type": "int", "low": 2, "high": 7}}
    study, records = run(space, spec, base={"n_init": 4})
    done = [r for r in records if r.state == "COMPLETE"]
    assert study.best_value == min(r.metrics["davies_bouldin"] for r in done)
    with pytest.raises(ConfigError, match="search.metric"):
        search.SearchSpec.from_dict({"metric": "accuracy"})
    with pytest.raises(ConfigError, match="unknown search option"):
        search.SearchSpec.from_dict({"n_trails": 3})


def test_dbscan_eps_range_comes_from_k_distances():
    space = search.resolve_space(
        "dbscan",
        space={
            "eps": {"type": "float", "low": None, "high": None, "log": True},
            "min_samples": {"type": "int", "low": 3, "high": 20},
        },
        X=X,
    )
    lo, hi = space["eps"]["low"], space["eps"]["high"]
    d3, d20 = search.k_distance(X, 2), search.k_distance(X, 19)
    assert lo == pytest.approx(np.quantile(d3, 0.10)) and hi == pytest.approx(np.quantile(d20, 0.99))
    assert 0 < lo < hi
    with pytest.raises(ConfigError, match="needs low and high"):
        search.resolve_space("kmeans", space={"n_clusters": {"type": "int", "low": 2}}, X=X)
    with pytest.raises(ConfigError, match="search_space is empty"):
        search.resolve_space("kmeans", space={}, X=X)


def test_size_bounds_are_capped_by_the_data():
    space = search.resolve_space(
        "hdbscan",
        space={
            "min_cluster_size": {"type": "int", "low": 5, "high": 500},
            "min_samples": {"type": "int", "low": 1, "high": 500},
        },
        X=X,
    )
    assert space["min_cluster_size"]["high"] == 150 and space["min_samples"]["high"] == 60


def test_knee_of_an_elbow_curve():
    ks = list(range(2, 11))
    inertia = [1000, 400, 150, 120, 100, 90, 82, 76, 71]
    assert ks[evaluate.elbow_knee(ks, inertia)] == 4
    assert evaluate.elbow_knee([2, 3], [5, 4]) is None


def test_study_names_are_stable_per_config_and_resume_picks_the_latest(tmp_path):
    cfg = {
        "dataset": {"name": "d"},
        "features": {"name": "f"},
        "algorithm": {"name": "kmeans", "params": {}},
        "evaluation": {"sample_size": 10},
        "seed": 1,
        "search": {"metric": "silhouette", "sampler": "tpe"},
    }
    base = studies.study_base_name(cfg)
    assert base.startswith("d.f.kmeans.silhouette-") and base == studies.study_base_name(dict(cfg))
    assert base != studies.study_base_name({**cfg, "seed": 2})
    storage = f"sqlite:///{tmp_path / 'o.db'}"
    space = {"n_clusters": {"type": "int", "low": 2, "high": 3}}
    with pytest.raises(Exception, match="nothing to resume"):
        studies.open_study(base, spec=search.SearchSpec(storage=storage, resume=True), space=space)
    s1, created1 = studies.open_study(base, spec=search.SearchSpec(storage=storage), space=space)
    s2, created2 = studies.open_study(base, spec=search.SearchSpec(storage=storage), space=space)
    assert created1 and created2 and s1.study_name != s2.study_name
    s3, created3 = studies.open_study(base, spec=search.SearchSpec(storage=storage, resume=True), space=space)
    assert not created3 and s3.study_name == max(s1.study_name, s2.study_name)


def test_min_cluster_size_range_starts_at_the_smallest_cluster_the_search_keeps():
    space = {"min_cluster_size": {"type": "int", "low": 5, "high": 500, "log": True}}
    X = np.random.default_rng(0).normal(size=(50_000, 3))
    got = search.resolve_space("hdbscan", space=space, X=X, min_share=0.01)["min_cluster_size"]
    assert (got["low"], got["high"]) == (500, 5000)  # 1% of 50,000; the config's 100x range, at most 10x
    small = search.resolve_space("hdbscan", space=space, X=X[:300], min_share=0.01)["min_cluster_size"]
    assert (small["low"], small["high"]) == (5, 75)  # 1% of 300 is below the config's 5; capped at n/4
