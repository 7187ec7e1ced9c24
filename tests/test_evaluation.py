import math

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from rfmlab.evaluation import Evaluator, cluster_sizes

X, y = make_blobs(n_samples=1500, centers=5, cluster_std=1.5, random_state=0)


def test_metrics_equal_sklearn_on_all_points():
    m = Evaluator(X, sample_size=10_000).score(y)
    assert m["silhouette"] == pytest.approx(silhouette_score(X, y), abs=1e-5)
    assert m["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, y))
    assert m["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, y))
    assert m["n_clusters"] == 5 and m["noise_fraction"] == 0


def test_fixed_sample_is_seeded_and_matches_sklearn_on_it():
    ev = Evaluator(X, sample_size=400, seed=1)
    assert len(ev.sample) == 400 and np.array_equal(ev.sample, Evaluator(X, 400, seed=1).sample)
    assert not np.array_equal(ev.sample, Evaluator(X, 400, seed=2).sample)
    labels = np.random.default_rng(0).integers(0, 3, len(X))
    expected = silhouette_score(X[ev.sample], labels[ev.sample])
    assert ev.score(labels)["silhouette"] == pytest.approx(expected, abs=1e-5)


def test_noise_is_left_out_and_counted():
    labels = y.copy()
    labels[:150] = -1
    m = Evaluator(X).score(labels)
    keep = labels >= 0
    assert m["noise_fraction"] == pytest.approx(0.1)
    assert m["silhouette"] == pytest.approx(silhouette_score(X[keep], labels[keep]), abs=1e-5)
    assert m["davies_bouldin"] == pytest.approx(davies_bouldin_score(X[keep], labels[keep]))
    assert cluster_sizes(labels)[-1] == 150


def test_fewer_than_two_clusters_gives_nan_quality():
    m = Evaluator(X).score(np.zeros(len(X), dtype=int))
    assert math.isnan(m["silhouette"]) and math.isnan(m["davies_bouldin"])
    assert m["n_clusters"] == 1 and m["max_cluster_share"] == 1.0


def test_scores_on_the_evaluation_sample_alone_match_the_silhouette_of_the_full_labelling():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(c, 0.3, size=(400, 3)) for c in (0, 3, 6)])
    labels = np.repeat([0, 1, 2], 400)
    ev = Evaluator(X, sample_size=300, seed=0)
    full, part = ev.score(labels), ev.score(labels[ev.sample], on_sample=True)
    assert part["silhouette"] == full["silhouette"]
    assert part["n_clusters"] == 3 and abs(part["max_cluster_share"] - 1 / 3) < 0.1
