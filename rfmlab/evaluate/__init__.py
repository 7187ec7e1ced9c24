"""Evaluate stage: how good and how stable a clustering is.

- internal validity on a fixed evaluation sample (``Evaluator``: silhouette with its interval, Davies-Bouldin,
  Calinski-Harabasz, sizes and noise);
- clusterwise stability (Hennig's bootstrap Jaccard, ``clusterwise``);
- the number-of-clusters report (six criteria per k, ``k_table`` / ``k_picks``) and the elbow (``inertia``,
  ``elbow_knee``);
- drift of a feature against a stored reference (``psi``).
"""

from rfmlab.evaluate._drift import PSI_BINS, psi, reference
from rfmlab.evaluate._elbow import elbow_knee, inertia
from rfmlab.evaluate._k_report import (
    K_ALGORITHMS,
    K_CRITERIA,
    NO_STRUCTURE,
    gap_at,
    gap_pick,
    gap_reference_sets,
    gap_table,
    k_agreement,
    k_picks,
    k_scores,
    k_table,
    one_cluster,
)
from rfmlab.evaluate._stability import (
    BANDS,
    COUNT_MODES,
    DISSOLVED,
    RESAMPLING,
    STABLE,
    EvaluationSpec,
    Stability,
    StabilitySpec,
    best_jaccard,
    clusterwise,
    draw,
    reading,
)
from rfmlab.evaluate._validity import (
    DIRECTION,
    METRICS,
    NEEDS_STABILITY,
    Evaluator,
    bootstrap_ci,
    cluster_sizes,
    normal_ci,
)

__all__ = [
    "BANDS",
    "COUNT_MODES",
    "DIRECTION",
    "EvaluationSpec",
    "DISSOLVED",
    "K_ALGORITHMS",
    "K_CRITERIA",
    "METRICS",
    "NO_STRUCTURE",
    "NEEDS_STABILITY",
    "PSI_BINS",
    "RESAMPLING",
    "STABLE",
    "Evaluator",
    "Stability",
    "StabilitySpec",
    "best_jaccard",
    "bootstrap_ci",
    "cluster_sizes",
    "clusterwise",
    "draw",
    "elbow_knee",
    "gap_at",
    "gap_pick",
    "gap_reference_sets",
    "gap_table",
    "inertia",
    "k_agreement",
    "k_picks",
    "k_scores",
    "k_table",
    "normal_ci",
    "one_cluster",
    "psi",
    "reading",
    "reference",
]
