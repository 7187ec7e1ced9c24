"""The stages in order without MLflow or Hydra: prepare once, fit, build the segmenter, the k report."""

import numpy as np
import polars as pl

from rfmlab import pipeline
from rfmlab.data.schema import CUSTOMER_COLUMNS


def test_prepare_gives_the_customer_table_features_and_rule_segments(small_prepared):
    prep = small_prepared
    assert (
        prep.customers.columns == CUSTOMER_COLUMNS and prep.customers["customer_id"].n_unique() == prep.customers.height
    )
    assert prep.X.shape == (prep.customers.height, 3) and np.allclose(prep.X.mean(axis=0), 0, atol=1e-9)
    assert prep.report.rows_in > prep.report.rows_out > 0
    assert {"rfm11", "rfm11_code"} <= set(prep.rule_segments.columns) and prep.naming == "rfm11"


def test_fit_names_every_cluster_and_profiles_it(small_prepared):
    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": 4, "n_init": 4}, seed=0)
    assert len(fit.labels) == small_prepared.customers.height and sorted(fit.sizes) == [0, 1, 2, 3]
    assert sum(fit.sizes.values()) == len(fit.labels) and fit.metrics["n_clusters"] == 4
    assert len(set(fit.names.values())) >= 1 and set(fit.customers["segment"]) == set(fit.names.values())
    assert fit.profile.height == 4 and 0 < fit.metrics["silhouette"] < 1
    assert 0 <= fit.metrics["stability_min"] <= fit.metrics["stability"] <= 1


def test_the_built_segmenter_scores_the_training_customers_as_the_fit_labelled_them(small_prepared):
    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": 4, "n_init": 4}, seed=0)
    seg = pipeline.build_segmenter(fit, prep=small_prepared, dataset={"name": "ecommerce"}, metadata={"run_id": "x"})
    scored = seg.score(small_prepared.customers)
    assert scored["cluster"].to_list() == fit.labels.tolist()
    assert scored["segment"].to_list() == fit.customers["segment"].to_list()
    assert set(seg.reference) == set(pipeline.DRIFT_FEATURES) and seg.metadata == {"run_id": "x"}


def test_the_k_report_scores_every_k_on_one_sample(small_prepared):
    table = pipeline.k_report(small_prepared, algorithm="kmeans", params={"n_init": 2}, ks=[2, 3, 4, 5],
                              sample_size=300, n_resamples=3, gap_refs=2, seed=0)  # fmt: skip
    assert table["k"].to_list() == [1, 2, 3, 4, 5]  # k=1: the gap statistic's "no cluster structure" row
    assert {"silhouette", "calinski_harabasz", "davies_bouldin", "inertia", "gap", "stability"} <= set(table.columns)
    one, rest = table.filter(pl.col("k") == 1), table.filter(pl.col("k") > 1)
    assert one["gap"].is_not_null().all() and one["silhouette"].is_null().all()
    inertia = rest["inertia"].to_list()
    assert inertia == sorted(inertia, reverse=True)  # more clusters, less within-cluster spread
    assert rest.select(pl.all().is_null().any()).row(0) == tuple(False for _ in rest.columns)


def test_a_model_trained_where_the_data_lives_scores_a_log_here(small_prepared, composed_config):
    """A model keeps its training data's dataset section: trained with the stage pushed down to a database, it still
    reads a new log (a file, a frame) with polars, whatever engine, URL and table the section names."""
    from rfmlab.data import synthetic

    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": 4, "n_init": 4}, seed=0)
    from rfmlab.jobs import Settings

    local = Settings.from_config(composed_config(["dataset.synthetic.n_customers=600"])).dataset_section
    pushed = {**local, "engine": "postgres", "uri": "postgresql://me:***@db/shop", "table": "sales"}
    log = synthetic.generate("ecommerce", n_customers=150, seed=3)
    models = [pipeline.build_segmenter(fit, prep=small_prepared, dataset=d) for d in (local, pushed)]
    scored = [m.customers_from_log(log) for m in models]
    assert scored[0].height > 100 and scored[1].equals(scored[0])
