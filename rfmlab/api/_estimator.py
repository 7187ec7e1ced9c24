"""``rfmlab.RFMSegmenter``: the segmentation as a scikit-learn estimator over a customer table."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.base import BaseEstimator, ClusterMixin

from rfmlab import cluster, pipeline
from rfmlab.cluster import AlgorithmSpec
from rfmlab.data import frames
from rfmlab.errors import DataError
from rfmlab.evaluate import EvaluationSpec
from rfmlab.features import FeatureSpec
from rfmlab.resources import algorithm_config, scheme_config
from rfmlab.segments import SegmentsSpec


def customers_frame(X: object, *, columns: list[str]) -> pl.DataFrame:
    """A customer table in polars with ``customer_id`` and ``columns``; a missing column is a one-line DataError."""
    df = frames.to_polars(X, what="the customer table")
    df = df.collect() if isinstance(df, pl.LazyFrame) else df
    missing = [c for c in ["customer_id", *columns] if c not in df.columns]
    if missing:
        raise DataError(
            f"the customer table lacks column(s) {missing} (it has {df.columns}); "
            "build it with rfmlab.customer_table(...) or give customer_id and the feature columns"
        )
    return df


class RFMSegmenter(ClusterMixin, BaseEstimator):
    """Transform, cluster, evaluate and name a customer table's segments, as one ``rfmlab`` run does.

    A scikit-learn estimator: ``fit`` / ``predict`` / ``fit_predict``, ``get_params`` / ``set_params``, and
    ``sklearn.base.clone`` work. Its fitted ``segmenter_`` is what a run logs as its MLflow model, so ``predict``
    on a table gives the clusters that scoring it with the promoted model gives.

    Args:
        algorithm: ``kmeans``, ``dbscan``, ``agglomerative`` or ``hdbscan``.
        params: the algorithm's parameters (default: ``conf/algorithm/<algorithm>.yaml``'s), e.g.
            ``{"n_clusters": 6}``.
        transform: the transform chain fitted on the feature columns, in order (``log``, ``minmax``,
            ``standard``, ...).
        columns: the clustering columns (default recency, frequency, monetary).
        naming: the rule scheme whose archetypes name the clusters (``conf/segments/``); ``None`` leaves them
            unnamed.
        max_exact: above this many customers, fit on a seeded sample of that size and assign the rest.
        stability: measure clusterwise bootstrap stability (Hennig's Jaccard; ``stability_``).
        random_state: the seed of the algorithm, samples and resamples.

    Attributes:
        labels_: cluster of each customer of the fitted table, shape ``(n_customers,)``; -1 is noise.
        segment_names_: cluster id -> business name (Champions, At Risk, ...).
        profile_: one row per cluster: size, share and mean features (polars).
        metrics_: silhouette, Davies-Bouldin, Calinski-Harabasz, stability... as a dict.
        stability_: the per-cluster stability (``evaluate.Stability``) or ``None``.
        customers_: the fitted table with ``cluster`` and ``segment`` columns (polars).
        segmenter_: the fitted ``pipeline.Segmenter`` (transform, assigner, names).

    Examples:
        >>> import rfmlab
        >>> customers, _ = rfmlab.customer_table(None, dataset="ecommerce")
        >>> model = rfmlab.RFMSegmenter(params={"n_clusters": 4}, stability=False).fit(customers)
        >>> sorted(model.segment_names_) == [0, 1, 2, 3]
        True
    """

    def __init__(
        self,
        *,
        algorithm: str = "kmeans",
        params: dict | None = None,
        transform: tuple[str, ...] = ("log", "standard"),
        columns: tuple[str, ...] | None = None,
        naming: str | None = "rfm11",
        max_exact: int | None = None,
        stability: bool = True,
        random_state: int = 0,
    ):
        self.algorithm = algorithm
        self.params = params
        self.transform = transform
        self.columns = columns
        self.naming = naming
        self.max_exact = max_exact
        self.stability = stability
        self.random_state = random_state

    def _specs(self):
        cfg = algorithm_config(self.algorithm)
        algo = AlgorithmSpec.from_dict({"name": self.algorithm, "params": self.params or cfg.get("params") or {}})
        columns = list(self.columns or ()) or None
        features = FeatureSpec.from_dict({"columns": columns, "transform": list(self.transform)})
        body = scheme_config(self.naming, option="naming") if self.naming else None
        segments = SegmentsSpec.from_dict({"naming": self.naming} if self.naming else None, naming_body=body)
        evaluation = EvaluationSpec.from_dict({"stability": {"enabled": bool(self.stability)}})
        return algo, features, segments, evaluation

    def fit(self, X, y=None) -> RFMSegmenter:
        """Fit on a customer table (polars or pandas: ``customer_id`` and the feature columns, e.g. from
        ``rfmlab.customer_table``); ``y`` is ignored."""
        algo, features, segments, evaluation = self._specs()
        customers = customers_frame(X, columns=features.columns)
        seed = int(self.random_state)
        prep = pipeline.prepare_table(
            customers, analysis_date=None, features=features, segments=segments, evaluation=evaluation, seed=seed
        )
        cluster.check_customers(algo.name, algo.params, prep.X)
        fit = pipeline.fit(prep, algorithm=algo.name, params=algo.params, seed=seed, max_exact=self.max_exact)
        self.labels_ = fit.labels
        self.segment_names_ = dict(fit.names)
        self.profile_ = fit.profile
        self.metrics_ = dict(fit.metrics)
        self.stability_ = fit.stability
        self.customers_ = fit.customers
        self.n_clusters_ = int(len(set(fit.labels.tolist()) - {-1}))
        self.feature_names_in_ = np.asarray(features.columns, dtype=object)
        self.n_features_in_ = len(features.columns)
        self.segmenter_ = pipeline.build_segmenter(fit, prep=prep, dataset={"name": "customer_table"})
        return self

    def predict_segments(self, X) -> pl.DataFrame:
        """customer_id, cluster, segment, is_outlier, outlier_score for each customer of ``X`` (what the served
        model answers)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "segmenter_")
        return self.segmenter_.score(customers_frame(X, columns=list(self.feature_names_in_)))

    def predict(self, X) -> np.ndarray:
        """The cluster of each customer of ``X`` (a customer table), shape ``(n_customers,)``; -1 is noise."""
        return self.predict_segments(X)["cluster"].to_numpy()
