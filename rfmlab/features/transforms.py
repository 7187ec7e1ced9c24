"""Feature transforms for clustering: ``log``, ``minmax``, ``standard`` and chains of them.

``build(["log", "standard"])`` returns an unfitted scikit-learn Pipeline; fit it once on the training
customers and reuse it (``.transform``) on new ones. ``log`` is ``log1p``, so it needs values >= 0.
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from rfmlab.errors import ConfigError, DataError


def _check_nonnegative(X):
    X = np.asarray(X, dtype=float)
    if (X < 0).any():
        raise DataError("the log transform needs values >= 0; use features=standard or minmax for signed columns")
    return X


def _log():
    return FunctionTransformer(
        np.log1p, inverse_func=np.expm1, validate=True, feature_names_out="one-to-one", check_inverse=False
    )


STEPS = {"log": _log, "minmax": MinMaxScaler, "standard": StandardScaler}


def build(steps: list[str] | str) -> Pipeline:
    if isinstance(steps, str):
        steps = [steps]
    steps = list(steps)
    if not steps:
        raise ConfigError(f"features.transform is empty; use a list of {sorted(STEPS)}")
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise ConfigError(f"unknown transform(s) {unknown} in features.transform; use any chain of {sorted(STEPS)}")
    return Pipeline([(f"{i}_{s}", STEPS[s]()) for i, s in enumerate(steps)])


def fit_transform(steps: list[str] | str, *, X: np.ndarray) -> tuple[Pipeline, np.ndarray]:
    pipe = build(steps)
    if "log" in (steps if isinstance(steps, list | tuple) else [steps]):
        _check_nonnegative(X)
    return pipe, pipe.fit_transform(np.asarray(X, dtype=float))
