"""The clusterers, behind one small registry: ``make(name, params, seed)``.

Configs name an algorithm (``kmeans``, ``dbscan``, ``agglomerative``, ``hdbscan``) and give its
parameters; only these classes can be instantiated from a config. Labels follow scikit-learn:
``fit_predict`` returns ints with ``-1`` for noise (DBSCAN, HDBSCAN).

``fit`` scales: above ``max_exact`` customers (``algorithm.fit.max_exact``) the estimator is fitted on a
seeded random sample of that many customers and every other customer is assigned with the same
out-of-sample rule scoring uses (``cluster.assign``). Ward agglomerative needs O(n^2) memory and DBSCAN's
neighbourhoods grow with n, so both would otherwise exhaust memory on a retailer's customer base.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

import numpy as np

from rfmlab.errors import ConfigError, TooFewCustomers

DISTINCT_CHECK_MAX = 200_000  # count distinct profiles up to this many customers (a sort: 65 ms at 100k)
DISTINCT_HEAD = 2_048  # first looked for among this many rows (0.2 ms): enough for any k of a search


@dataclass(frozen=True, kw_only=True)
class Algorithm:
    target: str  # "module:Class"
    seed_param: str | None  # where the run's seed goes, if the model is random
    fixed: dict  # parameters rfmlab always sets
    memory_limit: int | None = None  # customers above which the fit would exhaust memory


ALGORITHMS: dict[str, Algorithm] = {
    "kmeans": Algorithm(target="sklearn.cluster:KMeans", seed_param="random_state", fixed={}),
    "dbscan": Algorithm(target="sklearn.cluster:DBSCAN", seed_param=None, fixed={}, memory_limit=500_000),
    "agglomerative": Algorithm(
        target="sklearn.cluster:AgglomerativeClustering", seed_param=None, fixed={}, memory_limit=30_000
    ),
    "hdbscan": Algorithm(target="hdbscan:HDBSCAN", seed_param=None, fixed={"prediction_data": True}),
}


def make(name: str, *, params: dict | None = None, seed: int | None = None, memory=None):
    """An unfitted estimator for ``name`` with ``params``; raises ConfigError on a bad name or parameter.

    ``memory`` (a ``joblib.Memory``; HDBSCAN only) caches the single-linkage tree, which depends on
    ``min_samples`` but not ``min_cluster_size``: a search's trials that share ``min_samples`` reuse it."""
    if name not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {name!r}; use one of {sorted(ALGORITHMS)}")
    algo = ALGORITHMS[name]
    module, cls_name = algo.target.split(":")
    cls = getattr(import_module(module), cls_name)
    kwargs = {**(params or {}), **algo.fixed}
    if memory is not None and name == "hdbscan":
        kwargs["memory"] = memory
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
    limit = ALGORITHMS[name].memory_limit
    if limit is not None and n_customers > limit:
        raise ConfigError(
            f"{name} on {n_customers} customers would exhaust memory (limit {limit}); "
            f"set algorithm.fit.max_exact to at most {limit} (fit on a sample, assign the rest)"
        )


def _distinct(X, enough: int) -> int:
    """Distinct rows of X, counted in full only when its first rows hold fewer than ``enough`` (a search calls
    this every trial: a full count costs 65 ms at 100k customers). Above ``DISTINCT_CHECK_MAX``: n."""
    n = len(X)
    head = len(np.unique(X[:DISTINCT_HEAD], axis=0))
    if head >= enough or n <= DISTINCT_HEAD:
        return head if n <= DISTINCT_HEAD else max(head, enough)
    return len(np.unique(X, axis=0)) if n <= DISTINCT_CHECK_MAX else n


def check_customers(name: str, params: dict | None, X) -> None:
    """Refuse, in rfmlab's words, a clustering the customers cannot support: fewer than 2 customers, more
    clusters than distinct customer profiles, HDBSCAN's cluster or neighbourhood sizes above the customers."""
    n, params = len(X), params or {}
    if n < 2:
        raise TooFewCustomers(f"{n} customer(s) after cleaning: clustering needs at least 2; use a larger log")
    k = params.get("n_clusters")
    if name in ("kmeans", "agglomerative") and k is not None:
        distinct = _distinct(X, max(k, 2))
        if distinct < 2:
            raise TooFewCustomers(f"all {n} customers have the same features: there is nothing to cluster")
        if k > distinct:
            what = f"{n} customers" if distinct == n else f"{distinct} distinct customer profile(s) among {n} customers"
            raise TooFewCustomers(f"n_clusters={k} but only {what}; choose algorithm.params.n_clusters <= {distinct}")
    if name == "hdbscan":
        for key in ("min_cluster_size", "min_samples"):
            v = params.get(key)
            if v is not None and v > n:
                raise TooFewCustomers(f"{key}={v} is more than the {n} customers; choose algorithm.params.{key} <= {n}")


def fit_predict(name: str, params: dict | None, X, *, seed: int | None = None, memory=None):
    """Fit ``name`` on X; returns (fitted estimator, labels)."""
    check_size(name, len(X))
    check_customers(name, params, X)
    est = make(name, params=params, seed=seed, memory=memory)
    labels = est.fit_predict(X)
    return est, labels


COUNT_PARAMS = {"dbscan": {"min_samples": 1}, "hdbscan": {"min_samples": 1, "min_cluster_size": 2}}  # name: floor


_CONTROLLER = None


def _threads():
    """One threadpoolctl controller for the process (finding the thread pools costs 4 ms a time)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


COUNT_MODES = ("fixed", "scaled")


def refitter(
    name: str,
    *,
    params: dict | None,
    seed: int | None,
    n_fitted: int,
    count_params: str = "fixed",
    n_resampled: int | None = None,
):
    """``refit(X, b)``: the labels of ``name`` with ``params`` fitted again on the resample X (``b`` numbers the
    resample), for ``evaluate.clusterwise``. ``count_params`` (``COUNT_PARAMS``: DBSCAN's ``min_samples``,
    HDBSCAN's ``min_samples`` and ``min_cluster_size``): ``"fixed"`` keeps them the same in every resample of the
    ``n_resampled`` points (default ``n_fitted``), as R's ``fpc::clusterboot`` keeps MinPts; when the model was
    fitted on more customers than are resampled (a stability sample) they are scaled once by n_resampled /
    n_fitted, so the stability sample plays the part of clusterboot's data. ``"scaled"`` (rfmlab's variant) scales
    them by m / n_fitted for each resample of m points, asking it for the same density. A resample the parameters
    cannot cluster (k above its distinct points...) comes back as all noise."""
    import warnings

    if count_params not in COUNT_MODES:
        raise ConfigError(f"count_params={count_params!r}; use fixed or scaled")

    def refit(X, b: int = 0) -> np.ndarray:
        p = dict(params or {})
        m = len(X) if count_params == "scaled" else (n_resampled or n_fitted)
        for key, floor in COUNT_PARAMS.get(name, {}).items() if m != n_fitted else ():
            if p.get(key) is not None:
                p[key] = max(floor, int(round(p[key] * m / max(n_fitted, 1))))
        try:  # one thread: a resample is small, and OpenMP's threads on busy cores cost 10x (measured under load)
            with warnings.catch_warnings(), _threads().limit(limits=1):
                warnings.simplefilter("ignore")
                return np.asarray(fit_predict(name, p, X, seed=None if seed is None else seed + b)[1])
        except (TooFewCustomers, ValueError):
            return np.full(len(X), -1)

    return refit


@dataclass(kw_only=True)
class Fitted:
    estimator: object
    labels: np.ndarray  # every customer's label (-1 = noise)
    sample: np.ndarray | None  # rows the estimator was fitted on; None = all of them


def sample_rows(n: int, size: int, seed: int | None) -> np.ndarray:
    """A seeded random sample of ``size`` of ``n`` rows, sorted (the same rows for the same arguments)."""
    return np.sort(np.random.default_rng(seed or 0).choice(n, size=size, replace=False))


def is_sampled(n: int, max_exact: int | None) -> bool:
    return max_exact is not None and n > max_exact


def fit(
    name: str, *, params: dict | None, X, seed: int | None = None, max_exact: int | None = None, only=None, memory=None
) -> Fitted:
    """Fit ``name`` on X, exactly up to ``max_exact`` rows (None: always); above, on a sample of ``max_exact``
    rows with the rest assigned out of sample (the sample keeps its own labels).

    ``only`` (row indices; sampled fits only) assigns just those rows and returns their labels: a search
    scores a trial on its evaluation sample, and assigning a million customers costs a minute for HDBSCAN.
    ``memory``: see ``make``."""
    if not is_sampled(len(X), max_exact):
        est, labels = fit_predict(name, params, X, seed=seed, memory=memory)
        return Fitted(estimator=est, labels=np.asarray(labels), sample=None)
    from rfmlab.cluster import Assigner

    rows = sample_rows(len(X), int(max_exact), seed)
    est, fitted = fit_predict(name, params, X[rows], seed=seed, memory=memory)
    assigner = Assigner(name, estimator=est, X=X[rows], labels=fitted)
    if only is not None:
        labels = assigner.predict(X[only])[0]
        own = np.searchsorted(rows, only)  # rows of ``only`` inside the fitted sample keep their own labels
        inside = (own < len(rows)) & (rows[np.minimum(own, len(rows) - 1)] == only)
        labels[inside] = fitted[own[inside]]
        return Fitted(estimator=est, labels=labels, sample=rows)
    labels = np.empty(len(X), dtype=np.int64)
    for lo in range(0, len(X), 200_000):
        labels[lo : lo + 200_000] = assigner.predict(X[lo : lo + 200_000])[0]
    labels[rows] = fitted
    return Fitted(estimator=est, labels=labels, sample=rows)
