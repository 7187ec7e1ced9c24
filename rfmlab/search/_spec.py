"""A search's settings (``search`` config section) and the number-of-clusters report's."""

from __future__ import annotations

from dataclasses import dataclass, field

from rfmlab import evaluate
from rfmlab.errors import ConfigError, options
from rfmlab.search._front import Select


@dataclass(frozen=True, kw_only=True)
class KReport:
    """``search.k_report``: every k of the space scored by six criteria (``rfmlab.nclusters``) on a seeded sample of
    ``sample_size`` customers of the evaluation sample, stability from ``n_resamples`` resamples, the gap statistic
    from ``gap_refs`` uniform reference sets."""

    enabled: bool = True
    sample_size: int = 2000
    n_resamples: int = 10
    gap_refs: int = 10  # the gap's pick on 2,000 UCI customers: the same k for 87% of seeds (5 refs: 70%, 30: 97%)

    @classmethod
    def from_dict(cls, d) -> KReport:
        if isinstance(d, KReport):
            return d
        out = options(cls, d=d, where="search.k_report")
        if out.sample_size < 20 or out.n_resamples < 2 or out.gap_refs < 2:
            raise ConfigError("search.k_report needs sample_size >= 20, n_resamples >= 2 and gap_refs >= 2")
        return out


@dataclass(kw_only=True)
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
    select: Select | None = None  # how one trial is chosen from the front
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
            if name not in evaluate.DIRECTION:
                what = "search.objectives has " if objectives else "search.metric="
                raise ConfigError(f"{what}{name!r}; use one of {sorted(evaluate.DIRECTION)}")
        if len(set(objectives)) < len(objectives):
            raise ConfigError(f"search.objectives={objectives} names an objective twice")
        d["select"] = Select.from_dict(d.get("select"), objectives) if objectives else None
        d["k_report"] = KReport.from_dict(d.get("k_report"))
        spec = cls(**d, objectives=objectives or None)
        if spec.sampler not in ("tpe", "random", "grid"):
            raise ConfigError(f"search.sampler={spec.sampler!r}; use tpe, random or grid")
        if spec.n_trials < 1 or spec.n_workers < 1:
            raise ConfigError("search.n_trials and search.n_workers must be at least 1")
        return spec

    @property
    def direction(self) -> str:
        return evaluate.DIRECTION[self.metric]

    @property
    def names(self) -> list[str]:
        """The objectives, in order (one: the metric)."""
        return list(self.objectives or [self.metric])

    @property
    def directions(self) -> list[str]:
        return [evaluate.DIRECTION[n] for n in self.names]

    @property
    def multi(self) -> bool:
        return len(self.names) > 1

    @property
    def needs_stability(self) -> bool:
        return any(n in evaluate.NEEDS_STABILITY for n in self.names)


# --------------------------------------------------------------------------- search spaces
