"""The clusterers, behind one small registry: ``make(name, params, seed)``.

Configs name an algorithm (``kmeans``, ``dbscan``, ``agglomerative``, ``hdbscan``) and give its
parameters; only these classes can be instantiated from a config. Labels follow scikit-learn:
``fit_predict`` returns ints with ``-1`` for noise (DBSCAN, HDBSCAN).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from rfmlab.errors import ConfigError


@dataclass(frozen=True)
class Algorithm:
    target: str  # "module:Class"
    seed_param: str | None  # where the run's seed goes, if the model is random
    fixed: dict  # parameters rfmlab always sets
    memory_limit: int | None = None  # customers above which the fit would exhaust memory


REGISTRY: dict[str, Algorithm] = {
    "kmeans": Algorithm("sklearn.cluster:KMeans", "random_state", {}),
    "dbscan": Algorithm("sklearn.cluster:DBSCAN", None, {}, memory_limit=500_000),
    "agglomerative": Algorithm("sklearn.cluster:AgglomerativeClustering", None, {}, memory_limit=30_000),
    "hdbscan": Algorithm("hdbscan:HDBSCAN", None, {"prediction_data": True}),
}


def make(name: str, params: dict | None = None, seed: int | None = None):
    """An unfitted estimator for ``name`` with ``params``; raises ConfigError on a bad name or parameter."""
    if name not in REGISTRY:
        raise ConfigError(f"unknown algorithm {name!r}; use one of {sorted(REGISTRY)}")
    algo = REGISTRY[name]
    module, cls_name = algo.target.split(":")
    cls = getattr(import_module(module), cls_name)
    kwargs = {**(params or {}), **algo.fixed}
    if algo.seed_param and seed is not None:
        kwargs.setdefault(algo.seed_param, seed)
    try:
        est = cls(**kwargs)
        if hasattr(est, "_parameter_constraints"):
            est._validate_params()
    except (TypeError, ValueError) as e:
        first = str(e).splitlines()[0]
        raise ConfigError(f"invalid parameters for algorithm {name}: {first}") from e
    return est


def check_size(name: str, n_customers: int) -> None:
    limit = REGISTRY[name].memory_limit
    if limit is not None and n_customers > limit:
        raise ConfigError(
            f"{name} on {n_customers} customers would exhaust memory (limit {limit}); "
            "use algorithm=kmeans or hdbscan, or a smaller dataset"
        )


def fit_predict(name: str, params: dict | None, X, seed: int | None = None):
    """Fit ``name`` on X; returns (fitted estimator, labels)."""
    check_size(name, len(X))
    est = make(name, params, seed)
    labels = est.fit_predict(X)
    return est, labels
