import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from rfmlab import cluster
from rfmlab.errors import ConfigError

X, y = make_blobs(n_samples=600, centers=[[0, 0, 0], [6, 6, 0], [0, 6, 6], [6, 0, 6]], cluster_std=0.5, random_state=3)


@pytest.mark.parametrize(
    "name, params",
    [
        ("kmeans", {"n_clusters": 4, "n_init": 10}),
        ("agglomerative", {"n_clusters": 4, "linkage": "ward"}),
        ("dbscan", {"eps": 1.0, "min_samples": 5}),
        ("hdbscan", {"min_cluster_size": 30}),
    ],
)
def test_each_algorithm_recovers_separated_blobs(name, params):
    est, labels = cluster.fit_predict(name, params, X, seed=0)
    keep = labels >= 0
    assert keep.mean() > 0.95
    assert len(set(labels[keep])) == 4
    assert adjusted_rand_score(y[keep], labels[keep]) == pytest.approx(1.0)


def test_registry_errors_and_seed():
    with pytest.raises(ConfigError, match="unknown algorithm 'spectral'"):
        cluster.make("spectral")
    with pytest.raises(ConfigError, match="invalid parameters for algorithm kmeans"):
        cluster.make("kmeans", params={"k": 3})
    with pytest.raises(ConfigError, match="invalid parameters for algorithm dbscan"):
        cluster.make("dbscan", params={"eps": -1})
    assert cluster.make("kmeans", params={"n_clusters": 3}, seed=5).random_state == 5
    assert cluster.make("hdbscan", params={"min_cluster_size": 5}).prediction_data is True
    with pytest.raises(ConfigError, match="would exhaust memory"):
        cluster.check_size("agglomerative", 100_000)


@pytest.mark.parametrize(
    "name, params",
    [
        ("agglomerative", {"n_clusters": 4, "linkage": "ward"}),
        ("dbscan", {"eps": 1.0, "min_samples": 5}),
        ("hdbscan", {"min_cluster_size": 15}),
        ("kmeans", {"n_clusters": 4, "n_init": 4}),
    ],
)
def test_fit_above_max_exact_fits_a_sample_and_assigns_the_rest(name, params):
    exact = cluster.fit(name, params=params, X=X, seed=0)
    assert exact.sample is None
    scaled = cluster.fit(name, params=params, X=X, seed=0, max_exact=200)
    assert len(scaled.sample) == 200 and len(scaled.labels) == len(X)
    again = cluster.fit(name, params=params, X=X, seed=0, max_exact=200)
    assert (again.sample == scaled.sample).all() and (again.labels == scaled.labels).all()  # seeded
    # the sample keeps the labels its own fit gave, and the whole labelling recovers the blobs
    _, own = cluster.fit_predict(name, params, X[scaled.sample], seed=0)
    assert (scaled.labels[scaled.sample] == own).all()
    keep = scaled.labels >= 0
    assert keep.mean() > 0.9
    assert adjusted_rand_score(y[keep], scaled.labels[keep]) == pytest.approx(1.0)


def test_check_size_points_at_max_exact():
    with pytest.raises(ConfigError, match="algorithm.fit.max_exact to at most 30000"):
        cluster.check_size("agglomerative", 100_000)


@pytest.mark.parametrize("name, params", [("hdbscan", {"min_cluster_size": 15}), ("dbscan", {"eps": 1.0})])
def test_sampled_fit_can_assign_only_the_rows_a_search_scores(name, params):
    full = cluster.fit(name, params=params, X=X, seed=0, max_exact=200)
    rows = np.arange(0, len(X), 7)
    part = cluster.fit(name, params=params, X=X, seed=0, max_exact=200, only=rows)
    assert (part.sample == full.sample).all() and (part.labels == full.labels[rows]).all()


def test_hdbscan_trials_sharing_min_samples_reuse_one_tree(tmp_path):
    import joblib

    from rfmlab import search

    memory = joblib.Memory(tmp_path, verbose=0)
    trees = lambda: len(list(tmp_path.rglob("output.pkl")))  # noqa: E731 - one cached tree per file
    for mcs in (20, 40, 80):
        params = {"min_cluster_size": mcs, "min_samples": 5}
        cached = cluster.fit("hdbscan", params=params, X=X, memory=memory).labels
        assert np.array_equal(cached, cluster.fit("hdbscan", params=params, X=X).labels)
    assert trees() == 1  # three min_cluster_size values, one min_samples: the tree was built once
    cluster.fit("hdbscan", params={"min_cluster_size": 20, "min_samples": 9}, X=X, memory=memory)
    assert trees() == 2
    # a search's objective owns such a cache for hdbscan only, and the refitted model does not carry it
    assert (
        search.Objective(None, algorithm="hdbscan", base_params={}, space={}, spec=search.SearchSpec()).memory
        is not None
    )
    assert search.Objective(None, algorithm="kmeans", base_params={}, space={}, spec=search.SearchSpec()).memory is None
    assert cluster.make("hdbscan", params={"min_cluster_size": 5}).memory.location is None


def test_distinct_profiles_are_counted_past_the_first_rows_only_when_needed():
    from rfmlab.errors import TooFewCustomers

    Y = np.zeros((30_000, 3))
    Y[-3:] = [[1, 1, 1], [2, 2, 2], [3, 3, 3]]  # the first rows are all alike; 4 profiles in all
    cluster.check_customers("kmeans", {"n_clusters": 4}, Y)  # counted in full: enough
    with pytest.raises(TooFewCustomers, match="n_clusters=5 but only 4 distinct customer profile"):
        cluster.check_customers("kmeans", {"n_clusters": 5}, Y)
    with pytest.raises(TooFewCustomers, match="all 30000 customers have the same features"):
        cluster.check_customers("agglomerative", {"n_clusters": 2}, np.ones((30_000, 3)))
    cluster.check_customers("kmeans", {"n_clusters": 12}, X)  # 600 distinct blobs points: fine
