import numpy as np
import pytest
from helpers import ONLINE_RETAIL
from sklearn.datasets import make_blobs

from rfmlab import cluster, pipeline
from rfmlab.cluster import Assigner
from rfmlab.data.spec import DatasetSpec
from rfmlab.features import FeatureSpec

CASES = [
    ("kmeans", {"n_clusters": 5, "n_init": 4}, 1.0),
    ("agglomerative", {"n_clusters": 5, "linkage": "ward"}, 0.99),
    ("agglomerative", {"n_clusters": 4, "linkage": "average"}, 0.99),
    ("dbscan", {"eps": 0.3, "min_samples": 10}, 0.99),
    ("hdbscan", {"min_cluster_size": 40}, 1.0),
]


@pytest.fixture(scope="module")
def X():
    prep = pipeline.prepare(
        DatasetSpec.from_dict(
            {"name": "t", "kind": "ecommerce", "synthetic": {"n_customers": 1500, "seed": 5}, "columns": ONLINE_RETAIL}
        ),
        features=FeatureSpec(transform=["log", "standard"]),
    )
    return prep.X


@pytest.mark.parametrize("name, params, required", CASES)
def test_assignment_reproduces_the_training_labels(X, name, params, required):
    est, labels = cluster.fit_predict(name, params, X, seed=0)
    got, score = Assigner(name, estimator=est, X=X, labels=labels).predict(X)
    if name in ("kmeans", "hdbscan"):
        keep = labels >= 0  # HDBSCAN: exact on its non-noise points
        assert keep.mean() > 0.3
        assert np.array_equal(got[keep], labels[keep])
    else:
        assert (got == labels).mean() >= required
    if name == "dbscan":
        assert np.all((score > 1) == (got == -1))  # beyond eps of every core sample = noise
    if name in ("kmeans", "agglomerative"):
        assert np.isnan(score).all()


def test_new_points_go_to_the_cluster_they_are_drawn_from():
    centers = np.array([[0, 0], [8, 8], [0, 8]])
    Xb, yb = make_blobs(900, centers=centers, cluster_std=0.7, random_state=0)
    new = centers + 0.1
    for name, params in [
        ("kmeans", {"n_clusters": 3}),
        ("agglomerative", {"n_clusters": 3}),
        ("dbscan", {"eps": 0.8, "min_samples": 5}),
        ("hdbscan", {"min_cluster_size": 30}),
    ]:
        est, labels = cluster.fit_predict(name, params, Xb, seed=0)
        got, _ = Assigner(name, estimator=est, X=Xb, labels=labels).predict(np.vstack([new, [[40.0, -40.0]]]))
        train_of = [labels[np.argmin(((Xb - c) ** 2).sum(1))] for c in centers]
        assert list(got[:3]) == train_of, name
        if name in ("dbscan", "hdbscan"):
            assert got[3] == -1, name  # far from everything: an outlier
