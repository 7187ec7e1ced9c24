"""evaluation.stability.count_params (issue 21): fixed (clusterboot's fixed MinPts) or scaled (rfmlab's variant)."""

import numpy as np
import pytest

from rfmlab import cluster, evaluate
from rfmlab.errors import ConfigError

X = np.random.default_rng(0).normal(size=(1000, 3))


def seen_params(monkeypatch, **kw) -> dict:
    seen = []
    real = cluster.fit_predict
    monkeypatch.setattr(
        cluster._algorithms, "fit_predict", lambda name, p, X, *a, **k: seen.append(p) or real(name, p, X)
    )
    cluster.refitter("hdbscan", params={"min_cluster_size": 40, "min_samples": 10}, seed=0, **kw)(X[:600], 0)
    return seen[0]


def test_fixed_keeps_the_count_parameters_in_every_resample(monkeypatch):
    assert seen_params(monkeypatch, n_fitted=1000) == {"min_cluster_size": 40, "min_samples": 10}


def test_fixed_scales_once_to_a_stability_sample_smaller_than_the_fit(monkeypatch):
    # a model fitted on 4,000 customers, resampled from a 1,000-customer stability sample: the sample is the data
    p = seen_params(monkeypatch, n_fitted=4000, n_resampled=1000)
    assert p == {"min_cluster_size": 10, "min_samples": 2}  # a quarter, whatever the resample's size (600)


def test_scaled_scales_by_each_resample(monkeypatch):
    p = seen_params(monkeypatch, n_fitted=1000, count_params="scaled")
    assert p == {"min_cluster_size": 24, "min_samples": 6}  # 600 of 1,000


def test_count_params_is_checked():
    assert evaluate.StabilitySpec.from_dict({"count_params": "scaled"}).count_params == "scaled"
    assert evaluate.StabilitySpec().count_params == "fixed"
    with pytest.raises(ConfigError, match="count_params"):
        evaluate.StabilitySpec.from_dict({"count_params": "doubled"})
    with pytest.raises(ConfigError, match="count_params"):
        cluster.refitter("dbscan", params={}, seed=0, n_fitted=10, count_params="doubled")
