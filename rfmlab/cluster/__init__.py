"""Cluster stage: the four algorithms behind one registry, sampled fits above ``max_exact``, resample refits
(stability), and out-of-sample assignment of new customers (``Assigner``)."""

from rfmlab.cluster._algorithms import (
    ALGORITHMS,
    COUNT_PARAMS,
    Algorithm,
    Fitted,
    check_customers,
    check_size,
    fit,
    fit_predict,
    is_sampled,
    make,
    refitter,
    sample_rows,
)
from rfmlab.cluster._assign import Assigner
from rfmlab.cluster._spec import AlgorithmSpec

__all__ = [
    "COUNT_PARAMS",
    "ALGORITHMS",
    "Algorithm",
    "AlgorithmSpec",
    "Assigner",
    "Fitted",
    "check_customers",
    "check_size",
    "fit",
    "fit_predict",
    "is_sampled",
    "make",
    "refitter",
    "sample_rows",
]
