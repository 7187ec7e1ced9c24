"""Hyper-parameter search with Optuna over one prepared dataset (no MLflow, no Hydra).

- Search spaces come from each algorithm's config (``algorithm.search_space``): ``{type: int|float|
  categorical, low, high, log, step, choices}``. DBSCAN's ``eps`` range is derived from the data's
  k-distance quantiles when ``low``/``high`` are null.
- Every trial is scored by the same ``Evaluator`` (one fixed sample). A trial with fewer than 2 clusters,
  too much noise or a too-small cluster is PRUNED with its reason (user attr ``prune_reason``), so it is
  never the best. A parameter set already tried in the study is not fitted again: its result is reused.
- Studies persist in ``search.storage`` (default: Optuna's journal file ``<cwd>/mlruns/optuna.journal``, 3 ms of
  storage a trial where SQLite takes 28 ms; any Optuna RDB URL such as PostgreSQL for several machines);
  several processes can share one study, and ``n_trials`` counts finished trials of the whole study.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from rfmlab import evaluation, models
from rfmlab.errors import ConfigError, RfmlabError


class FitFailed(Exception):
    """A trial's fit raised; Optuna records the trial as FAIL (``optimize(catch=(FitFailed,))``)."""


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

    @classmethod
    def from_dict(cls, d: dict) -> SearchSpec:
        d = {k: v for k, v in d.items() if k != "name"}
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown search option(s) {unknown}; valid are {sorted(known)}")
        spec = cls(**d)
        if spec.metric not in evaluation.DIRECTION:
            raise ConfigError(f"search.metric={spec.metric!r}; use one of {sorted(evaluation.DIRECTION)}")
        if spec.sampler not in ("tpe", "random", "grid"):
            raise ConfigError(f"search.sampler={spec.sampler!r}; use tpe, random or grid")
        if spec.n_trials < 1 or spec.n_workers < 1:
            raise ConfigError("search.n_trials and search.n_workers must be at least 1")
        return spec

    @property
    def direction(self) -> str:
        return evaluation.DIRECTION[self.metric]


def default_storage(root: str | Path | None = None) -> str:
    root = Path(root or Path.cwd()).resolve()
    (root / "mlruns").mkdir(parents=True, exist_ok=True)
    return str(root / "mlruns" / "optuna.journal")


def is_journal(url: str) -> bool:
    """A journal file (``*.journal``, or ``journal:PATH``) rather than a database URL."""
    return url.startswith("journal:") or url.endswith(".journal")


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


# --------------------------------------------------------------------------- study
def study_base_name(cfg: dict) -> str:
    """Readable prefix + hash of everything that changes what a trial means."""
    keyed = {k: cfg.get(k) for k in ("dataset", "features", "algorithm", "evaluation", "seed")}
    s = cfg["search"]
    keyed["search"] = {k: s.get(k) for k in ("metric", "sampler", "max_noise", "min_cluster_share", "seed")}
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{cfg['dataset']['name']}.{cfg['features']['name']}.{cfg['algorithm']['name']}.{s['metric']}-{digest}"


def make_sampler(spec: SearchSpec, space: dict, worker: int = 0):
    import optuna

    seed = None if spec.seed is None else int(spec.seed) + worker
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler == "grid":
        return optuna.samplers.GridSampler(grid(space, spec.grid_points), seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def storage_for(url: str):
    import optuna

    if is_journal(url):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:")).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if url.startswith(("sqlite", "postgresql", "mysql")):
        kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
        from rfmlab.tracking import sqlite_init_lock

        with warnings.catch_warnings(), sqlite_init_lock(url):
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=10, grace_period=30)
    return url


def open_study(cfg: dict, spec: SearchSpec, space: dict, worker: int = 0, name: str | None = None):
    """Create or load the study this config searches. Returns (study, created)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage_url = spec.storage or default_storage()
    storage = storage_for(storage_url)
    if name is None:
        name = spec.study_name
    if name is None:
        base = study_base_name(cfg)
        if spec.resume:
            names = [s.study_name for s in optuna.get_all_study_summaries(storage) if s.study_name.startswith(base)]
            if not names:
                raise RfmlabError(
                    f"nothing to resume: no study for this config in {storage_url}; run without search.resume=true"
                )
            name = sorted(names)[-1]
        else:
            name = f"{base}-{datetime.now():%Y%m%d-%H%M%S-%f}"
    existing = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            direction=spec.direction,
            load_if_exists=True,
            sampler=make_sampler(spec, space, worker),
        )
    except ValueError as e:  # direction mismatch on an existing study
        raise ConfigError(f"study {name!r} exists with another direction: {e}") from e
    if name in existing:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)  # RDB storages: trials whose heartbeat stopped
        fail_dead_trials(study)
    return study, name not in existing


PARENT_ATTR = "mlflow_parent_run_id"  # study user attr: the MLflow run every process of the study logs under
LOCK_PREFIX = "rfmlab-lock:"  # + what + ":" + study name: a study only one process can create
DEAD_ATTR = "rfmlab.dead_trial."  # + trial number, a study user attr: failed because its process died


def claim(study, what: str) -> bool:
    """True in exactly one of any number of processes sharing ``study`` for the same ``what``.

    The storage refuses a second study of the same name (a unique key in the database, a replayed log for a
    journal file), so this holds for processes started at the same instant and on other machines."""
    import optuna

    try:
        optuna.create_study(storage=study._storage, study_name=f"{LOCK_PREFIX}{what}:{study.study_name}")
    except optuna.exceptions.DuplicatedStudyError:
        return False
    return True


def claim_parent(study) -> bool:
    """True in the one process that creates the study's parent run; the others wait for its id
    (``wait_parent``)."""
    return claim(study, "parent")


def wait_parent(study, timeout: float = 120.0) -> str:
    """The parent run id the owning process stores on the study (see ``claim_parent``)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        run_id = study._storage.get_study_user_attrs(study._study_id).get(PARENT_ATTR)
        if run_id:
            return run_id
        if time.monotonic() > deadline:
            raise RfmlabError(
                f"study {study.study_name!r} has no parent run after {timeout:.0f} s: the process that created it "
                "did not finish starting; start again, or use another search.study_name"
            )
        time.sleep(0.2)


def fail_dead_trials(study) -> int:
    """Mark FAIL the RUNNING trials of processes that died (their ``worker`` is gone): a killed process's
    trial is never counted as finished, and its parameters are tried again. Returns how many."""
    from optuna.trial import TrialState

    dead = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if not worker_alive(t.user_attrs.get("worker"), grace_over=False)
    ]
    for t in dead:  # noted on the study, whose attrs every process reads fresh (storages cache finished trials)
        study.set_user_attr(f"{DEAD_ATTR}{t.number}", t.user_attrs.get("worker") or "?")
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
    return len(dead)


def finished_trials(study) -> list:
    """Trials that count towards ``search.n_trials``: COMPLETE, PRUNED and FAIL, but not those failed because
    their process died (their parameters are simply tried again)."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))
    dead = {k for k in study.user_attrs if k.startswith(DEAD_ATTR)}
    return [t for t in done if f"{DEAD_ATTR}{t.number}" not in dead] if dead else done


def finished(study) -> int:
    return len(finished_trials(study))


# --------------------------------------------------------------------------- objective
def violation(metrics: dict, spec: SearchSpec) -> str | None:
    if metrics["n_clusters"] < 2:
        return f"fewer than 2 clusters ({int(metrics['n_clusters'])})"
    if metrics["noise_fraction"] > spec.max_noise:
        return f"noise_fraction {metrics['noise_fraction']:.3f} > search.max_noise {spec.max_noise}"
    if metrics["min_cluster_share"] < spec.min_cluster_share:
        share = metrics["min_cluster_share"]
        return f"a cluster of {share:.4f} of customers < search.min_cluster_share {spec.min_cluster_share}"
    if math.isnan(metrics[spec.metric]):
        return f"{spec.metric} undefined"
    return None


def inertia(X: np.ndarray, labels: np.ndarray) -> float:
    """Within-cluster sum of squares (noise left out): the elbow chart's y for any algorithm."""
    total = 0.0
    for c in np.unique(labels[labels >= 0]):
        pts = X[labels == c]
        total += float(((pts - pts.mean(0)) ** 2).sum())
    return total


def worker_id() -> str:
    """``host:pid`` of this process."""
    import os
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str | None, grace_over: bool) -> bool:
    """Whether the process ``worker`` may still write a trial's child run: this process, or a live process on
    this host; for another host (whose processes cannot be seen) until ``grace_over``."""
    import os
    import socket

    host, _, pid = (worker or "").rpartition(":")
    if worker == worker_id():
        return False  # this process: its own writes are done when it backfills
    if host != socket.gethostname() or not pid.isdigit():
        return not grace_over
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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

    def _previous(self, trial, params: dict):
        from optuna.trial import TrialState

        for t in trial.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
            if t.number != trial.number and t.params == params and "metrics" in t.user_attrs:
                return t
        return None

    def __call__(self, trial) -> float:
        import time

        import optuna

        t0 = time.perf_counter()
        trial.set_user_attr("worker", worker_id())  # whose child run it is (see jobs.trials.backfill_children)
        params = suggest(trial, self.space)
        prev = self._previous(trial, params)
        if prev is not None:
            metrics, dup = dict(prev.user_attrs["metrics"]), prev.number
            extra = {k: prev.user_attrs[k] for k in ("inertia",) if k in prev.user_attrs}
        else:
            dup = None
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    params_all = {**self.base, **params}
                    X, ev = self.prep.X, self.prep.evaluator
                    sampled = models.is_sampled(len(X), self.max_exact)  # then scored on the evaluation sample
                    only = ev.sample if sampled else None
                    labels = models.fit(self.algorithm, params_all, X, self.seed, self.max_exact, only).labels
            except (ValueError, MemoryError, RfmlabError) as e:
                msg = str(e).splitlines()[0]
                trial.set_user_attr("fail_reason", msg)
                self.on_trial(TrialRecord(trial.number, params, {}, "FAIL", msg, None, time.perf_counter() - t0))
                raise FitFailed(msg) from e
            metrics = ev.score(labels, on_sample=sampled)
            extra = {"inertia": inertia(X[only] if sampled else X, labels)} if "n_clusters" in params else {}
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
        return float(metrics[self.spec.metric])


def best_trial(study):
    """The best COMPLETE trial, or None when every trial was pruned or failed."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return None
    return study.best_trial


def knee(x, y) -> int | None:
    """Index of the knee of a decreasing curve (largest distance below the chord), kneedle-style."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn, yn = (x - x.min()) / np.ptp(x), (y - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * (xn - xn[0]) / (xn[-1] - xn[0])
    return int(np.argmax(chord - yn))
