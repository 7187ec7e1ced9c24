"""The ``algorithm`` config section: which clusterer, its parameters (with a study's pins), its search space and
the size above which it is fitted on a sample."""

from __future__ import annotations

from dataclasses import dataclass, field

from rfmlab.cluster._algorithms import ALGORITHMS
from rfmlab.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class AlgorithmSpec:
    name: str
    params: dict = field(default_factory=dict)  # ``algorithm.params`` with the study's pins for this algorithm on top
    search_space: dict = field(default_factory=dict)
    max_exact: int | None = None  # ``algorithm.fit.max_exact``: above it, fit on a sample of that size, assign the rest

    @classmethod
    def from_dict(cls, d: dict, *, pins: dict | None = None) -> AlgorithmSpec:
        """``pins``: ``study.params`` (algorithm name -> params), merged on top of ``params`` for this algorithm."""
        d = dict(d or {})
        name = d.get("name")
        if name not in ALGORITHMS:
            raise ConfigError(f"unknown algorithm {name!r}; use one of {sorted(ALGORITHMS)}")
        unknown = sorted(set(d) - {"name", "params", "search_space", "fit"})
        if unknown:
            raise ConfigError(
                f"unknown algorithm option(s) {unknown}; valid are ['fit', 'name', 'params', 'search_space']"
            )
        limit = (d.get("fit") or {}).get("max_exact")
        params = {**(d.get("params") or {}), **((pins or {}).get(name) or {})}
        return cls(name=name, params=params, search_space=dict(d.get("search_space") or {}),
                   max_exact=None if limit is None else int(limit))  # fmt: skip
