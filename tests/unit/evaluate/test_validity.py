import math

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from rfmlab.evaluate import Evaluator, cluster_sizes

X, y = make_blobs(n_samples=1500, centers=5, cluster_std=1.5, random_state=0)


def test_metrics_equal_sklearn_on_all_points():
    m = Evaluator(X, sample_size=10_000).measure(y)
    assert m["silhouette"] == pytest.approx(silhouette_score(X, y), abs=1e-5)
    assert m["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, y))
    assert m["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, y))
    assert m["n_clusters"] == 5 and m["noise_fraction"] == 0


def test_fixed_sample_is_seeded_and_matches_sklearn_on_it():
    ev = Evaluator(X, sample_size=400, seed=1)
    assert len(ev.sample) == 400 and np.array_equal(ev.sample, Evaluator(X, sample_size=400, seed=1).sample)
    assert not np.array_equal(ev.sample, Evaluator(X, sample_size=400, seed=2).sample)
    labels = np.random.default_rng(0).integers(0, 3, len(X))
    expected = silhouette_score(X[ev.sample], labels[ev.sample])
    assert ev.measure(labels)["silhouette"] == pytest.approx(expected, abs=1e-5)


def test_noise_is_left_out_and_counted():
    labels = y.copy()
    labels[:150] = -1
    m = Evaluator(X).measure(labels)
    keep = labels >= 0
    assert m["noise_fraction"] == pytest.approx(0.1)
    assert m["silhouette"] == pytest.approx(silhouette_score(X[keep], labels[keep]), abs=1e-5)
    assert m["davies_bouldin"] == pytest.approx(davies_bouldin_score(X[keep], labels[keep]))
    assert cluster_sizes(labels)[-1] == 150


def test_fewer_than_two_clusters_gives_nan_quality():
    m = Evaluator(X).measure(np.zeros(len(X), dtype=int))
    assert math.isnan(m["silhouette"]) and math.isnan(m["davies_bouldin"])
    assert m["n_clusters"] == 1 and m["max_cluster_share"] == 1.0


def test_scores_on_the_evaluation_sample_alone_match_the_silhouette_of_the_full_labelling():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 0.3, size=(400, 3)) for c in (0, 3, 6)])
    labels = np.repeat([0, 1, 2], 400)
    ev = Evaluator(X, sample_size=300, seed=0)
    full, part = ev.measure(labels), ev.measure(labels[ev.sample], on_sample=True)
    assert part["silhouette"] == full["silhouette"]
    assert part["n_clusters"] == 3 and abs(part["max_cluster_share"] - 1 / 3) < 0.1


def test_silhouette_interval_bootstrap_and_normal_agree_and_shrink_with_the_sample():
    from sklearn.datasets import make_blobs

    from rfmlab.evaluate import Evaluator, bootstrap_ci, normal_ci

    X, y = make_blobs(n_samples=12_000, centers=4, cluster_std=2.5, random_state=1)
    ev = Evaluator(X, sample_size=10_000, seed=0)
    values = ev.silhouette_values(y)
    mean = float(values.mean())
    b, n = bootstrap_ci(values), normal_ci(values)
    assert b[0] < mean < b[1] and n[0] < mean < n[1]
    assert abs(b[0] - n[0]) < 0.001 and abs(b[1] - n[1]) < 0.001  # why trials may use the free normal interval
    m = ev.measure(y, ci="bootstrap")
    assert (m["silhouette_ci_low"], m["silhouette_ci_high"]) == pytest.approx(ev.silhouette_ci(y, ci="bootstrap"))
    small = Evaluator(X, sample_size=1_000, seed=0)
    lo, hi = small.measure(y)["silhouette_ci_low"], small.measure(y)["silhouette_ci_high"]
    assert hi - lo > 2.5 * (n[1] - n[0])  # ~sqrt(10) wider on a tenth of the points


def test_trials_within_the_best_interval_are_reported_indistinguishable():
    import optuna

    from rfmlab import search

    study = optuna.create_study(direction="maximize")
    dist = {"n_clusters": optuna.distributions.IntDistribution(2, 12)}
    for k, sil in ((2, 0.450), (3, 0.446), (4, 0.430), (3, 0.446)):  # k=3 twice: one parameter set
        m = {"silhouette": sil, "silhouette_ci_low": sil - 0.005, "silhouette_ci_high": sil + 0.005}
        study.add_trial(optuna.trial.create_trial(params={"n_clusters": k}, distributions=dist, value=sil,
                                                  user_attrs={"metrics": m}))  # fmt: skip
    best = study.best_trial
    assert best.params == {"n_clusters": 2}
    close = search.indistinguishable(study, best=best)
    assert [(p, round(v, 3)) for _, p, v in close] == [("n_clusters=3", 0.446)]  # k=4 lies outside [0.445, 0.455]
