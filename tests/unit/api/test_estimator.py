"""rfmlab.RFMSegmenter: a scikit-learn estimator whose fitted segmenter is what a run logs as its model."""

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone

import rfmlab
from rfmlab import pipeline


@pytest.fixture(scope="module")
def customers() -> pl.DataFrame:
    table, _ = rfmlab.customer_table(None, dataset="ecommerce")
    return table.head(1500)


def test_it_fits_names_and_predicts_like_the_pipeline(customers, small_prepared):
    model = rfmlab.RFMSegmenter(params={"n_clusters": 4, "n_init": 10}, random_state=7).fit(customers)
    assert model.labels_.shape == (customers.height,) and model.n_clusters_ == 4
    assert sorted(model.segment_names_) == [0, 1, 2, 3] and len(set(model.segment_names_.values())) >= 3
    assert {"silhouette", "davies_bouldin", "stability"} <= set(model.metrics_)
    assert model.stability_ is not None and len(model.stability_.clusters) == 4
    assert model.profile_.height == 4 and model.customers_["segment"].null_count() == 0
    np.testing.assert_array_equal(model.predict(customers), model.labels_)  # KMeans assigns to the nearest centre
    # the same fit as the command's pipeline on the same table, transform and seed
    prep = pipeline.prepare_table(customers, analysis_date=None, features=small_prepared_features(), seed=7)
    fit = pipeline.fit(prep, algorithm="kmeans", params={"n_clusters": 4, "n_init": 10}, seed=7)
    np.testing.assert_array_equal(fit.labels, model.labels_)
    assert fit.metrics["silhouette"] == pytest.approx(model.metrics_["silhouette"])


def small_prepared_features():
    from rfmlab.features import FeatureSpec

    return FeatureSpec.from_dict({"columns": ["recency", "frequency", "monetary"], "transform": ["log", "standard"]})


def test_scikit_learn_protocol_clone_params_and_pandas(customers):
    model = rfmlab.RFMSegmenter(algorithm="agglomerative", params={"n_clusters": 3, "linkage": "ward"},
                                transform=("log", "minmax"), stability=False)  # fmt: skip
    params = model.get_params()
    assert params["algorithm"] == "agglomerative" and params["transform"] == ("log", "minmax")
    twin = clone(model).set_params(params={"n_clusters": 5, "linkage": "ward"})
    assert twin.get_params()["params"]["n_clusters"] == 5 and model.get_params()["params"]["n_clusters"] == 3
    assert not hasattr(twin, "labels_")
    labels = twin.fit_predict(customers.to_pandas())
    assert labels.shape == (customers.height,) and len(set(labels)) == 5 and twin.stability_ is None
    scored = twin.predict_segments(customers.head(10))
    assert scored.columns == pipeline.OUTPUT_COLUMNS and scored["segment"].null_count() == 0


def test_hdbscan_noise_and_other_columns(customers):
    params = {"min_cluster_size": 60, "min_samples": 10}
    columns = ("recency", "monetary", "return_rate")
    model = rfmlab.RFMSegmenter(algorithm="hdbscan", params=params, columns=columns, naming=None, stability=False)
    model.fit(customers)
    assert list(model.feature_names_in_) == ["recency", "monetary", "return_rate"] and model.n_features_in_ == 3
    assert model.segment_names_ == {} and model.n_clusters_ >= 2


def test_user_errors_are_one_line(customers):
    with pytest.raises(rfmlab.DataError, match=r"lacks column\(s\) \['frequency'\]"):
        rfmlab.RFMSegmenter().fit(customers.drop("frequency"))
    with pytest.raises(rfmlab.ConfigError, match="unknown algorithm 'kmean'"):
        rfmlab.RFMSegmenter(algorithm="kmean").fit(customers)
    with pytest.raises(rfmlab.ConfigError, match="is not a scheme"):
        rfmlab.RFMSegmenter(naming="nope").fit(customers)
    with pytest.raises(rfmlab.TooFewCustomers, match="n_clusters=9 but only 3 customers"):
        rfmlab.RFMSegmenter(params={"n_clusters": 9}).fit(customers.head(3))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        rfmlab.RFMSegmenter().predict(customers)
