"""The Optuna objective: one trial's fit and scores, duplicate reuse, prune and fail reasons."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from rfmlab import cluster
from rfmlab.errors import RfmlabError, TooFewCustomers
from rfmlab.evaluate import inertia
from rfmlab.search._space import suggest
from rfmlab.search._spec import SearchSpec


class FitFailed(Exception):
    """A trial's fit raised; Optuna records the trial as FAIL (``optimize(catch=(FitFailed,))``)."""


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


@dataclass(kw_only=True)
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
        *,
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

        from rfmlab.search import studies

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
            TrialRecord(
                number=trial.number,
                params=params,
                metrics={**metrics, **extra},
                state=state,
                reason=reason,
                duplicate_of=dup,
                seconds=time.perf_counter() - t0,
            )
        )
        if reason:
            raise optuna.TrialPruned(reason)
        if self.spec.multi:
            return tuple(float(metrics[n]) for n in self.spec.names)
        return float(metrics[self.spec.metric])

    def _unfinished(self, trial, params: dict, state: str, reason: str, t0: float) -> str:
        """Record a pruned or failed trial (its reason on the trial and in its record); returns the reason."""
        import time

        trial.set_user_attr("prune_reason" if state == "PRUNED" else "fail_reason", reason)
        seconds = time.perf_counter() - t0
        self.on_trial(TrialRecord(number=trial.number, params=params, metrics={}, state=state, reason=reason,
                                  duplicate_of=None, seconds=seconds))  # fmt: skip
        return reason

    def _evaluate(self, trial, params: dict, t0: float) -> tuple[dict, dict]:
        """Fit one trial's params and score it: (metrics, extra user attrs). A fit the data cannot support is
        pruned with its reason; a fit that fails is failed with its first line."""

        import optuna

        from rfmlab import pipeline

        params_all = {**self.base, **params}
        X, ev = self.prep.X, self.prep.evaluator
        sampled = cluster.is_sampled(len(X), self.max_exact)  # then scored on the evaluation sample
        only = ev.sample if sampled else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                labels = cluster.fit(
                    self.algorithm,
                    params=params_all,
                    X=X,
                    seed=self.seed,
                    max_exact=self.max_exact,
                    only=only,
                    memory=self.memory,
                ).labels
        except TooFewCustomers as e:  # the data cannot support these parameters: pruned, with the reason
            raise optuna.TrialPruned(self._unfinished(trial, params, "PRUNED", str(e), t0)) from e
        except (ValueError, MemoryError, RfmlabError) as e:
            raise FitFailed(self._unfinished(trial, params, "FAIL", str(e).splitlines()[0], t0)) from e
        metrics = ev.measure(labels, on_sample=sampled)
        if self.spec.needs_stability and metrics["n_clusters"] >= 1:
            n_fitted = self.max_exact if sampled else len(X)
            stab = pipeline.stability_of(
                self.prep,
                algorithm=self.algorithm,
                params=params_all,
                labels=labels,
                seed=self.seed,
                n_fitted=n_fitted,
                on_sample=sampled,
            )
            metrics.update(stab.metrics())
        extra = {"inertia": inertia(X[only] if sampled else X, labels)} if "n_clusters" in params else {}
        return metrics, extra
