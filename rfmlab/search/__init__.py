"""Search stage: Optuna over one prepared dataset.

- ``SearchSpec`` / ``KReport``: the ``search`` section; ``resolve_space`` / ``suggest`` / ``grid``: the space;
- ``Objective``: one trial (fit, scores, duplicate reuse, prune and fail reasons);
- ``Select`` / ``choose``: one trial from a multi-objective Pareto front;
- ``studies``: where studies live, opening and sharing them, dead workers, best trial and front.
"""

from rfmlab.search._analysis import complete_trials, indistinguishable, per_k
from rfmlab.search._front import SELECT_RULES, Select, choose, closest_to_ideal, oriented
from rfmlab.search._objective import FitFailed, Objective, TrialRecord, violation
from rfmlab.search._space import grid, grid_size, k_distance, resolve_space, suggest
from rfmlab.search._spec import KReport, SearchSpec

__all__ = [
    "complete_trials",
    "indistinguishable",
    "per_k",
    "SELECT_RULES",
    "FitFailed",
    "KReport",
    "Objective",
    "SearchSpec",
    "Select",
    "TrialRecord",
    "choose",
    "closest_to_ideal",
    "grid",
    "grid_size",
    "k_distance",
    "oriented",
    "resolve_space",
    "suggest",
    "violation",
]
