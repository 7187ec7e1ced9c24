"""Clusterwise stability, the number-of-clusters criteria and Pareto fronts, on data with known answers."""

import numpy as np
import optuna
import pytest
from sklearn.datasets import make_blobs

from rfmlab import cluster, evaluate, search
from rfmlab.errors import ConfigError
from rfmlab.search import studies

optuna.logging.set_verbosity(optuna.logging.WARNING)
KM = {"n_init": 4}
BLOBS, TRUTH = make_blobs(
    n_samples=800, n_features=3, centers=[[0, 0, 0], [12, 0, 0], [0, 12, 0], [0, 0, 12]], cluster_std=1.0,
    random_state=3,
)  # fmt: skip


def stab(X, algorithm, params, n_resamples=20, seed=0, method="bootstrap"):
    _, labels = cluster.fit_predict(algorithm, params, X, seed=seed)
    refit = cluster.refitter(algorithm, params=params, seed=seed, n_fitted=len(X))
    return labels, evaluate.clusterwise(
        X, labels=labels, refit=refit, n_resamples=n_resamples, seed=seed, method=method
    )


def test_best_jaccard_on_a_hand_counted_example():
    original = np.array([0, 0, 0, 1, 1, -1])
    resampled = np.array([5, 5, 7, 7, 7, 7])  # cluster 0 = {0,1,2}: best {0,1} -> 2/3; cluster 1 = {3,4}: {2..5} -> 2/4
    assert np.allclose(evaluate.best_jaccard(original, resampled, k=2), [2 / 3, 0.5])
    # noise in the resample matches nothing; an original cluster absent from the resample scores 0 (clusterboot)
    out = evaluate.best_jaccard(np.array([0, 0, 2, 2]), np.array([-1, -1, 3, 3]), k=3)
    assert out[0] == 0.0 and out[1] == 0.0 and out[2] == 1.0


@pytest.mark.parametrize(
    "algorithm,params",
    [
        ("kmeans", {"n_clusters": 4, **KM}),
        ("agglomerative", {"n_clusters": 4, "linkage": "ward"}),
        ("dbscan", {"eps": 1.5, "min_samples": 10}),
        ("hdbscan", {"min_cluster_size": 40}),
    ],
)
def test_well_separated_blobs_are_highly_stable_for_every_algorithm(algorithm, params):
    labels, s = stab(BLOBS, algorithm, params)
    assert len(s.clusters) == 4
    assert s.overall > 0.95 and s.minimum > 0.9
    assert all(r == "highly stable" for r in s.table()["reading"])
    if (labels < 0).any():  # noise is not a cluster
        assert -1 not in s.clusters.tolist() and s.sizes.sum() == (labels >= 0).sum()


def test_uniform_noise_is_not_stable():
    rng = np.random.default_rng(0)  # uniform in a ball: no cluster structure and no corners for k-means to follow
    ball = rng.normal(size=(1500, 3))
    ball *= (rng.uniform(size=(1500, 1)) ** (1 / 3)) / np.linalg.norm(ball, axis=1, keepdims=True)
    _, s = stab(ball, "kmeans", {"n_clusters": 6, **KM})
    _, blobs = stab(BLOBS, "kmeans", {"n_clusters": 4, **KM})
    assert s.overall < 0.75 < blobs.overall
    assert s.minimum < 0.7 < blobs.minimum  # the weakest cluster is doubtful at best
    assert (s.dissolved > 0).all() and not blobs.dissolved.any()  # each dissolves in some resamples; blobs never


def test_a_cluster_split_in_two_by_forcing_k_plus_one_is_the_unstable_one():
    X, truth = make_blobs(1500, n_features=3, centers=[[0, 0, 0], [12, 0, 0], [0, 12, 0]], random_state=2)
    labels, s = stab(X, "kmeans", {"n_clusters": 4, **KM}, n_resamples=30)
    table = s.table().sort("stability")
    weakest = table["cluster"].to_list()[:2]
    # the two least stable clusters are the halves of one true blob; the intact blobs stay stable
    halves = {int(np.bincount(truth[labels == c]).argmax()) for c in weakest}
    assert len(halves) == 1
    assert table["stability"][1] < 0.7 < table["stability"][2]
    assert set(table["reading"][:2]) <= {"dissolved", "doubtful"}
    assert table["dissolved_share"][:2].max() > 0.1


def test_label_permutations_change_no_value():
    _, labels = cluster.fit_predict("kmeans", {"n_clusters": 5, **KM}, BLOBS, seed=0)
    perm = np.array([3, 0, 4, 1, 2])
    refit = cluster.refitter("kmeans", params={"n_clusters": 5, **KM}, seed=0, n_fitted=len(BLOBS))
    a = evaluate.clusterwise(BLOBS, labels=labels, refit=refit, n_resamples=15, seed=0)
    b = evaluate.clusterwise(BLOBS, labels=perm[labels], refit=lambda X, i: 10 + refit(X, i), n_resamples=15, seed=0)
    assert a.overall == pytest.approx(b.overall) and a.minimum == pytest.approx(b.minimum)
    by_a = dict(zip(a.clusters.tolist(), a.per_cluster, strict=True))
    by_b = dict(zip(b.clusters.tolist(), b.per_cluster, strict=True))
    assert all(by_b[int(perm[c])] == pytest.approx(v) for c, v in by_a.items())


def test_subsampling_and_seeds_are_reproducible():
    _, a = stab(BLOBS, "kmeans", {"n_clusters": 4, **KM}, 10, seed=5, method="subsample")
    _, b = stab(BLOBS, "kmeans", {"n_clusters": 4, **KM}, 10, seed=5, method="subsample")
    assert np.array_equal(a.jaccard, b.jaccard) and a.overall > 0.95
    with pytest.raises(ConfigError, match="evaluation.stability.method"):
        evaluate.StabilitySpec.from_dict({"method": "jackknife"})
    with pytest.raises(ConfigError, match="unknown evaluation.stability"):
        evaluate.StabilitySpec.from_dict({"n_resample": 3})


def test_resamples_ask_density_algorithms_for_the_same_density(monkeypatch):
    seen = []
    real = cluster.fit_predict
    monkeypatch.setattr(
        cluster._algorithms, "fit_predict", lambda name, p, X, *a, **k: seen.append((len(X), p)) or real(name, p, X)
    )
    cluster.refitter(
        "hdbscan", params={"min_cluster_size": 40, "min_samples": 10}, seed=0, n_fitted=4000, count_params="scaled"
    )(BLOBS[:1000], 0)
    cluster.refitter("dbscan", params={"eps": 1.0, "min_samples": 3}, seed=0, n_fitted=100_000, count_params="scaled")(
        BLOBS[:1000], 0
    )
    cluster.refitter("kmeans", params={"n_clusters": 4}, seed=0, n_fitted=4000)(BLOBS[:1000], 0)
    assert len(BLOBS) == 800 and seen[0][1] == {"min_cluster_size": 8, "min_samples": 2}  # a fifth: a fifth the counts
    assert seen[1][1] == {"eps": 1.0, "min_samples": 1}  # never below the algorithm's floor
    assert seen[2][1] == {"n_clusters": 4}


def test_every_criterion_finds_the_four_blobs():
    spec = evaluate.StabilitySpec(n_resamples=10)
    table = evaluate.k_table(BLOBS, algorithm="kmeans", params=KM, ks=range(2, 9), seed=0, spec=spec, n_refs=5)
    assert table["k"].to_list() == list(range(1, 9))  # k=1: the gap only
    picks = evaluate.k_picks(table)
    assert picks == dict.fromkeys(evaluate.K_CRITERIA, 4)
    assert evaluate.k_agreement(4, picks) == (6, 6, None) and evaluate.k_agreement(2, picks) == (0, 6, (4, 6))
    agg = evaluate.k_picks(
        evaluate.k_table(
            BLOBS, algorithm="agglomerative", params={"linkage": "ward"}, ks=range(2, 8), seed=0, spec=spec
        )
    )
    assert set(agg.values()) == {4}


def test_gap_rule_takes_the_smallest_k_within_one_standard_error():
    import polars as pl

    t = pl.DataFrame({"k": [2, 3, 4, 5], "gap": [0.5, 0.9, 0.95, 0.97], "gap_se": [0.1, 0.1, 0.1, 0.1]})
    for name in ("silhouette", "calinski_harabasz", "davies_bouldin", "inertia", "stability"):
        t = t.with_columns(pl.lit(float("nan")).alias(name))
    picks = evaluate.k_picks(t)
    assert picks["gap"] == 3  # 0.9 >= 0.95 - 0.1, while 0.5 < 0.9 - 0.1
    assert picks["silhouette"] is None


def test_pareto_front_and_selection_rules():
    rng = np.random.default_rng(1)
    v = rng.uniform(size=(40, 2))
    dirs = ["maximize", "minimize"]
    front = [i for i in range(40) if not any(v[j, 0] >= v[i, 0] and v[j, 1] <= v[i, 1] and (v[j] != v[i]).any()
                                             for j in range(40))]  # fmt: skip
    assert 2 <= len(front) < 40
    f = v[front]
    names = ["silhouette", "davies_bouldin"]
    i, why = search.choose(f, names=names, directions=dirs, select=search.Select())
    scaled = np.column_stack([(f[:, 0] - f[:, 0].min()) / np.ptp(f[:, 0]), (f[:, 1].max() - f[:, 1]) / np.ptp(f[:, 1])])
    assert i == int(np.argmin(np.hypot(1 - scaled[:, 0], 1 - scaled[:, 1]))) and "knee" in why
    sel = search.Select(rule="best", metric="silhouette", floor={"davies_bouldin": 0.3})
    i, why = search.choose(f, names=names, directions=dirs, select=sel)
    ok = f[:, 1] <= 0.3
    assert f[i, 0] == f[ok, 0].max() and "davies_bouldin <= 0.3" in why
    i, why = search.choose(
        f,
        names=names,
        directions=dirs,
        select=search.Select(rule="best", metric="silhouette", floor={"davies_bouldin": -1}),
    )
    assert f[i, 0] == f[:, 0].max() and why.startswith("no front trial")
    with pytest.raises(ConfigError, match="search.select.floor"):
        search.Select.from_dict({"rule": "best", "metric": "silhouette", "floor": {"inertia": 1}}, names)
    with pytest.raises(ConfigError, match="search.select.metric"):
        search.Select.from_dict({"rule": "best"}, names)
    with pytest.raises(ConfigError, match=r"unknown search.select option\(s\) \['rul'\]"):
        search.Select.from_dict({"rul": "best"}, names)


class Prep:  # the part of pipeline.Prepared a search reads
    def __init__(self, X):
        self.X = X
        self.evaluator = evaluate.Evaluator(X, sample_size=10_000, seed=0)
        self.stability = evaluate.StabilitySpec(n_resamples=8, sample_size=400)


def test_multi_objective_search_front_equals_the_brute_force_front_on_a_grid():
    from rfmlab import pipeline

    X, _ = make_blobs(500, n_features=3, centers=[[0, 0, 0], [8, 0, 0], [0, 8, 0], [4, 4, 6], [9, 9, 9]],
                      cluster_std=[1.0, 1.0, 1.0, 2.5, 0.5], random_state=7)  # fmt: skip
    spec = search.SearchSpec.from_dict({"objectives": ["silhouette", "stability"], "sampler": "grid", "n_trials": 50})
    assert spec.multi and spec.directions == ["maximize", "maximize"] and spec.select.rule == "knee"
    space = {"n_clusters": {"type": "int", "low": 2, "high": 9}}
    study = optuna.create_study(directions=spec.directions, sampler=studies.make_sampler(spec, space=space))
    prep = Prep(X)
    study.optimize(
        search.Objective(prep, algorithm="kmeans", base_params=KM, space=space, spec=spec, seed=0), n_trials=50
    )
    assert len(study.trials) == 8
    # brute force: every k scored exactly as a run scores it, then every pair compared
    values = {}
    for k in range(2, 10):
        params = {**KM, "n_clusters": k}
        labels = cluster.fit("kmeans", params=params, X=X, seed=0).labels
        m = prep.evaluator.measure(labels)
        values[k] = (
            m["silhouette"],
            pipeline.stability_of(
                prep, algorithm="kmeans", params=params, labels=labels, seed=0, n_fitted=len(X)
            ).overall,
        )
    front = {k for k, (s, t) in values.items() if not any(s2 >= s and t2 >= t and (s2, t2) != (s, t)
                                                          for s2, t2 in values.values())}  # fmt: skip
    assert {t.params["n_clusters"] for t in studies.pareto_front(study)} == front
    chosen, why = studies.choose_from_front(study, spec=spec)
    assert chosen.params["n_clusters"] in front and "knee" in why
    assert studies.best_trial(study, spec=spec).number == chosen.number


def test_objectives_are_validated():
    with pytest.raises(ConfigError, match="search.objectives"):
        search.SearchSpec.from_dict({"objectives": ["silhouette", "accuracy"]})
    with pytest.raises(ConfigError, match="twice"):
        search.SearchSpec.from_dict({"objectives": ["silhouette", "silhouette"]})
    one = search.SearchSpec.from_dict({"objectives": ["stability"]})  # one objective is the metric
    assert not one.multi and one.metric == "stability" and one.needs_stability
