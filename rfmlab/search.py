"""Hyper-parameter search with Optuna over one prepared dataset (no MLflow, no Hydra).

- Search spaces come from each algorithm's config (``algorithm.search_space``): ``{type: int|float|
  categorical, low, high, log, step, choices}``. DBSCAN's ``eps`` range is derived from the data's
  k-distance quantiles when ``low``/``high`` are null.
- Every trial is scored by the same ``Evaluator`` (one fixed sample). A trial with fewer than 2 clusters,
  too much noise or a too-small cluster is PRUNED with its reason (user attr ``prune_reason``), so it is
  never the best. A parameter set already tried in the study is not fitted again: its result is reused.
- Studies (storage, sharing between processes, counting finished trials) are ``rfmlab.studies``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rfmlab import evaluation, models, pareto
from rfmlab.errors import ConfigError, RfmlabError, TooFewCustomers, options


class FitFailed(Exception):
    """A trial's fit raised; Optuna records the trial as FAIL (``optimize(catch=(FitFailed,))``)."""


@dataclass(frozen=True)
class KReport:
    """``search.k_report``: every k of the space scored by six criteria (``rfmlab.nclusters``) on a seeded sample of
    ``sample_size`` customers of the evaluation sample, stability from ``n_resamples`` resamples, the gap statistic
    from ``gap_refs`` uniform reference sets."""

    enabled: bool = True
    sample_size: int = 2000
    n_resamples: int = 10
    gap_refs: int = 5

    @classmethod
    def from_dict(cls, d) -> KReport:
        if isinstance(d, KReport):
            return d
        out = options(cls, d, "search.k_report")
        if out.sample_size < 20 or out.n_resamples < 2 or out.gap_refs < 1:
            raise ConfigError("search.k_report needs sample_size >= 20, n_resamples >= 2 and gap_refs >= 1")
        return out


@dataclass
class SearchSpec:
    metric: str = "silhouette"
    n_trials: int = 50
    timeout: float | None = None
    sampler: str = "tpe"
    seed: int = 0
    max_noise: float = 0.5
    min_cluster_share: float = 0.0
    storage: str | None = None
    study_name: str | None = None
    resume: bool = False
    n_workers: int = 1
    grid_points: int = 8  # values per float parameter for the grid sampler
    objectives: list | None = None  # several metrics: a multi-objective study (Pareto front); None = [metric]
    select: pareto.Select | None = None  # how one trial is chosen from the front
    k_report: KReport = field(default_factory=KReport)  # the number-of-clusters report after a search over k

    @classmethod
    def from_dict(cls, d: dict) -> SearchSpec:
        d = {k: v for k, v in d.items() if k != "name"}
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown search option(s) {unknown}; valid are {sorted(known)}")
        objectives = [str(o) for o in (d.pop("objectives", None) or [])]
        if len(objectives) == 1:  # one objective is the metric
            d["metric"], objectives = objectives[0], []
        for name in objectives or [d.get("metric", cls.metric)]:
            if name not in evaluation.DIRECTION:
                what = "search.objectives has " if objectives else "search.metric="
                raise ConfigError(f"{what}{name!r}; use one of {sorted(evaluation.DIRECTION)}")
        if len(set(objectives)) < len(objectives):
            raise ConfigError(f"search.objectives={objectives} names an objective twice")
        d["select"] = pareto.Select.from_dict(d.get("select"), objectives) if objectives else None
        d["k_report"] = KReport.from_dict(d.get("k_report"))
        spec = cls(**d, objectives=objectives or None)
        if spec.sampler not in ("tpe", "random", "grid"):
            raise ConfigError(f"search.sampler={spec.sampler!r}; use tpe, random or grid")
        if spec.n_trials < 1 or spec.n_workers < 1:
            raise ConfigError("search.n_trials and search.n_workers must be at least 1")
        return spec

    @property
    def direction(self) -> str:
        return evaluation.DIRECTION[self.metric]

    @property
    def names(self) -> list[str]:
        """The objectives, in order (one: the metric)."""
        return list(self.objectives or [self.metric])

    @property
    def directions(self) -> list[str]:
        return [evaluation.DIRECTION[n] for n in self.names]

    @property
    def multi(self) -> bool:
        return len(self.names) > 1

    @property
    def needs_stability(self) -> bool:
        return any(n in evaluation.NEEDS_STABILITY for n in self.names)


# --------------------------------------------------------------------------- search spaces
def k_distance(X: np.ndarray, k: int, max_points: int = 200_000, seed: int = 0) -> np.ndarray:
    """Sorted distance of each point to its k-th nearest neighbour (the DBSCAN k-distance curve)."""
    from sklearn.neighbors import NearestNeighbors

    Q = X
    if len(X) > max_points:
        Q = X[np.random.default_rng(seed).choice(len(X), max_points, replace=False)]
    nn = NearestNeighbors(n_neighbors=min(k + 1, len(X))).fit(X)
    d, _ = nn.kneighbors(Q)
    return np.sort(d[:, -1])


def resolve_space(algorithm: str, space: dict, X: np.ndarray, min_share: float = 0.0) -> dict:
    """Validate the config's space and fill data-derived bounds (DBSCAN eps from k-distances).

    ``min_cluster_size`` starts at ``min_share`` (``search.min_cluster_share``) of the customers fitted: a smaller
    one only makes clusters the search prunes (on a 50,000-customer fit, every value of the default 5-500)."""
    if not space:
        raise ConfigError(f"algorithm.search_space is empty for {algorithm}; give at least one parameter")
    out = {}
    for name, p in space.items():
        p = dict(p)
        kind = p.get("type")
        if kind not in ("int", "float", "categorical"):
            raise ConfigError(f"algorithm.search_space.{name}.type must be int, float or categorical")
        if kind == "categorical" and not p.get("choices"):
            raise ConfigError(f"algorithm.search_space.{name} needs choices")
        derivable = algorithm == "dbscan" and name == "eps"  # from the k-distances below
        if kind != "categorical" and (p.get("low") is None or p.get("high") is None) and not derivable:
            raise ConfigError(f"algorithm.search_space.{name} needs low and high")
        out[name] = p
    # size-like bounds cannot exceed what the data allows (a 500-customer sample cannot hold 500-customer clusters)
    n = len(X)
    mcs = out.get("min_cluster_size")
    floor = int(math.ceil(min_share * n))
    if mcs and mcs["type"] == "int" and floor > int(mcs["low"]):
        width = int(mcs["high"]) / max(int(mcs["low"]), 1)  # keep the range's ratio (100x for 5-500)
        mcs["low"], mcs["high"] = floor, max(int(mcs["high"]), int(floor * min(width, 10)))
        mcs["scaled"] = True
    caps = {"min_cluster_size": max(2, n // 4), "min_samples": max(1, n // 10), "n_clusters": max(2, n // 5)}
    for name, cap in caps.items():
        p = out.get(name)
        if p and p["type"] == "int" and int(p["high"]) > cap:
            p["low"] = min(int(p["low"]), cap)
            p["high"] = max(cap, int(p["low"]))
            p["capped"] = True
    if algorithm == "dbscan" and "eps" in out and (out["eps"].get("low") is None or out["eps"].get("high") is None):
        ms = out.get("min_samples", {"low": 5, "high": 5})
        lo_k, hi_k = int(ms.get("low", 5)), int(ms.get("high", 5))
        lo = float(np.quantile(k_distance(X, max(lo_k - 1, 1)), 0.10))
        hi = float(np.quantile(k_distance(X, max(hi_k - 1, 1)), 0.99))
        eps = out["eps"]
        eps["low"] = eps["low"] if eps.get("low") is not None else max(lo, 1e-6)
        eps["high"] = eps["high"] if eps.get("high") is not None else max(hi, eps["low"] * 1.01)
        eps["derived"] = True
    return out


def suggest(trial, space: dict) -> dict:
    params = {}
    for name, p in space.items():
        if p["type"] == "int":
            params[name] = trial.suggest_int(name, int(p["low"]), int(p["high"]), log=bool(p.get("log", False)))
        elif p["type"] == "float":
            params[name] = trial.suggest_float(
                name, float(p["low"]), float(p["high"]), log=bool(p.get("log", False)), step=p.get("step")
            )
        else:
            params[name] = trial.suggest_categorical(name, list(p["choices"]))
    return params


def grid(space: dict, points: int) -> dict[str, list]:
    out = {}
    for name, p in space.items():
        if p["type"] == "categorical":
            out[name] = list(p["choices"])
        elif p["type"] == "int":
            lo, hi = int(p["low"]), int(p["high"])
            if p.get("log") and hi - lo + 1 > points * 3:
                out[name] = sorted({int(round(v)) for v in np.geomspace(lo, hi, points * 2)})
            else:
                out[name] = list(range(lo, hi + 1, int(p.get("step") or 1)))
        else:
            lo, hi = float(p["low"]), float(p["high"])
            vals = np.geomspace(lo, hi, points) if p.get("log") else np.linspace(lo, hi, points)
            out[name] = [float(v) for v in vals]
    return out


def grid_size(space: dict, points: int) -> int:
    return math.prod(len(v) for v in grid(space, points).values())


# --------------------------------------------------------------------------- objective
def violation(metrics: dict, spec: SearchSpec) -> str | None:
    if metrics["n_clusters"] < 2:
        return f"fewer than 2 clusters ({int(metrics['n_clusters'])})"
    if metrics["noise_fraction"] > spec.max_noise:
        return f"noise_fraction {metrics['noise_fraction']:.3f} > search.max_noise {spec.max_noise}"
    if metrics["min_cluster_share"] < spec.min_cluster_share:
        share = metrics["min_cluster_share"]
        return f"a cluster of {share:.4f} of customers < search.min_cluster_share {spec.min_cluster_share}"
    for name in spec.names:
        if math.isnan(metrics[name]):
            return f"{name} undefined (it needs 2 to n-1 clusters with 2+ customers between them)"
    return None


def inertia(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares (noise left out): the elbow chart's y for any algorithm."""
    total = 0.0
    for c in np.unique(labels[labels >= 0]):
        pts = X[labels == c]
        total += float(((pts - pts.mean(0)) ** 2).sum())
    return total


@dataclass
class TrialRecord:
    number: int
    params: dict
    metrics: dict
    state: str  # COMPLETE | PRUNED | FAIL
    reason: str | None
    duplicate_of: int | None
    seconds: float


class Objective:
    """Optuna objective over one prepared dataset; ``on_trial(TrialRecord)`` is called for every trial."""

    def __init__(
        self,
        prep,
        algorithm: str,
        base_params: dict,
        space: dict,
        spec: SearchSpec,
        seed: int = 0,
        on_trial: Callable[[TrialRecord], None] | None = None,
        max_exact: int | None = None,
    ):
        self.prep, self.algorithm, self.space, self.spec, self.seed = prep, algorithm, space, spec, seed
        self.max_exact = max_exact
        self.base = {k: v for k, v in (base_params or {}).items() if k not in space}
        self.on_trial = on_trial or (lambda r: None)
        self._memory = None

    @property
    def memory(self):
        """HDBSCAN's tree cache for this search (a temporary directory, removed with the objective)."""
        if self.algorithm != "hdbscan":
            return None
        if self._memory is None:
            import tempfile
            import weakref

            import joblib

            tmp = tempfile.TemporaryDirectory(prefix="rfmlab-hdbscan-cache-")
            self._memory = joblib.Memory(tmp.name, verbose=0)
            weakref.finalize(self, tmp.cleanup)
        return self._memory

    def _previous(self, trial, params: dict):
        from optuna.trial import TrialState

        for t in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
            if t.number != trial.number and t.params == params and "metrics" in t.user_attrs:
                return t
        return None

    def __call__(self, trial) -> float:
        import time

        import optuna

        from rfmlab import studies

        t0 = time.perf_counter()
        trial.set_user_attr("worker", studies.worker_id())  # whose child run it is (see jobs.trials.backfill_children)
        params = suggest(trial, self.space)
        prev = self._previous(trial, params)
        if prev is not None:
            metrics, dup = dict(prev.user_attrs["metrics"]), prev.number
            extra = {k: prev.user_attrs[k] for k in ("inertia",) if k in prev.user_attrs}
        else:
            dup = None
            metrics, extra = self._evaluate(trial, params, t0)
        trial.set_user_attr(
            "metrics", {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
        )
        for k, v in extra.items():
            trial.set_user_attr(k, v)
        metrics = {k: (math.nan if v is None else v) for k, v in metrics.items()}
        if dup is not None:
            trial.set_user_attr("duplicate_of", dup)
        reason = violation(metrics, self.spec)
        state = "PRUNED" if reason else "COMPLETE"
        if reason:
            trial.set_user_attr("prune_reason", reason)
        self.on_trial(
            TrialRecord(trial.number, params, {**metrics, **extra}, state, reason, dup, time.perf_counter() - t0)
        )
        if reason:
            raise optuna.TrialPruned(reason)
        if self.spec.multi:
            return tuple(float(metrics[n]) for n in self.spec.names)
        return float(metrics[self.spec.metric])

    def _evaluate(self, trial, params: dict, t0: float) -> tuple[dict, dict]:
        """Fit one trial's params and score it: (metrics, extra user attrs). A fit the data cannot support is
        pruned with its reason; a fit that fails is failed with its first line."""
        import time

        import optuna

        from rfmlab import pipeline

        params_all = {**self.base, **params}
        X, ev = self.prep.X, self.prep.evaluator
        sampled = models.is_sampled(len(X), self.max_exact)  # then scored on the evaluation sample
        only = ev.sample if sampled else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                labels = models.fit(self.algorithm, params_all, X, self.seed, self.max_exact, only, self.memory).labels
        except TooFewCustomers as e:  # the data cannot support these parameters: pruned, with the reason
            reason = str(e)
            trial.set_user_attr("prune_reason", reason)
            self.on_trial(TrialRecord(trial.number, params, {}, "PRUNED", reason, None, time.perf_counter() - t0))
            raise optuna.TrialPruned(reason) from e
        except (ValueError, MemoryError, RfmlabError) as e:
            msg = str(e).splitlines()[0]
            trial.set_user_attr("fail_reason", msg)
            self.on_trial(TrialRecord(trial.number, params, {}, "FAIL", msg, None, time.perf_counter() - t0))
            raise FitFailed(msg) from e
        metrics = ev.score(labels, on_sample=sampled)
        if self.spec.needs_stability and metrics["n_clusters"] >= 1:
            n_fitted = self.max_exact if sampled else len(X)
            stab = pipeline.stability_of(self.prep, self.algorithm, params_all, labels, self.seed, n_fitted, sampled)
            metrics.update(stab.metrics())
        extra = {"inertia": inertia(X[only] if sampled else X, labels)} if "n_clusters" in params else {}
        return metrics, extra


def knee(x, y) -> int | None:
    """Index of the knee of a decreasing curve (largest distance below the chord), kneedle-style."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn, yn = (x - x.min()) / np.ptp(x), (y - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * (xn - xn[0]) / (xn[-1] - xn[0])
    return int(np.argmax(chord - yn))
