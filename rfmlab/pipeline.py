"""The stages in order, as plain functions over polars/numpy (no Hydra, no MLflow).

``prepare`` runs load -> clean -> features -> transform once; ``fit`` clusters, evaluates and profiles.
A search calls ``fit`` many times on one ``Prepared``. ``stage`` is a context-manager factory used for
progress display (the CLI passes the console's); ``on_stage`` receives each finished stage's output.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from rfmlab import evaluation, features, models, segments, transforms
from rfmlab.data import clean as clean_mod
from rfmlab.data import load
from rfmlab.data.schema import FEATURE_COLUMNS
from rfmlab.errors import ConfigError


def _no_stage(name: str):
    return contextlib.nullcontext()


@dataclass
class Prepared:
    spec: load.DatasetSpec
    digest: str
    transactions: pl.DataFrame
    report: clean_mod.CleaningReport
    customers: pl.DataFrame  # schema.CUSTOMER_COLUMNS
    analysis_date: date
    columns: list[str]
    transform_steps: list[str]
    transform: object  # fitted sklearn Pipeline
    X: np.ndarray
    evaluator: evaluation.Evaluator


@dataclass
class Fit:
    algorithm: str
    params: dict
    estimator: object
    labels: np.ndarray
    metrics: dict[str, float]
    customers: pl.DataFrame  # customer table + cluster
    profile: pl.DataFrame
    sizes: dict[int, int] = field(default_factory=dict)


def feature_columns(columns) -> list[str]:
    cols = list(columns or ["recency", "frequency", "monetary"])
    bad = [c for c in cols if c not in FEATURE_COLUMNS]
    if bad:
        raise ConfigError(f"unknown feature column(s) {bad} in features.columns; choose from {FEATURE_COLUMNS}")
    return cols


def prepare(
    dataset: dict,
    feats: dict,
    sample_size: int = 10_000,
    seed: int = 0,
    stage: Callable = _no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
) -> Prepared:
    spec = dataset if isinstance(dataset, load.DatasetSpec) else load.DatasetSpec.from_dict(dataset)
    columns = feature_columns(feats.get("columns"))
    steps = feats.get("transform") or ["standard"]
    transforms.build(steps)  # validate before the slow work
    with stage("load"):
        raw = load.read(spec)
        digest = load.digest(spec, raw)
        tx = load.canonicalize(raw, spec)
        on_stage("load", {"raw": raw, "digest": digest})
    with stage("clean"):
        tx, report = clean_mod.clean(tx, spec.cleaning)
        on_stage("clean", report)
    with stage("features"):
        customers, as_of = features.rfm(tx, spec.analysis_date)
        on_stage("features", customers)
    with stage("transform"):
        pipe, X = transforms.fit_transform(steps, customers.select(columns).to_numpy())
    return Prepared(
        spec,
        digest,
        tx,
        report,
        customers,
        as_of,
        columns,
        list(steps),
        pipe,
        X,
        evaluation.Evaluator(X, sample_size, seed),
    )


def fit(prep: Prepared, algorithm: str, params: dict | None, seed: int = 0, stage: Callable = _no_stage) -> Fit:
    params = dict(params or {})
    with stage(f"cluster ({algorithm})"):
        est, labels = models.fit_predict(algorithm, params, prep.X, seed)
    with stage("evaluate"):
        metrics = prep.evaluator.score(labels)
        customers = prep.customers.with_columns(pl.Series("cluster", labels.astype(np.int64)))
        profile = segments.cluster_profile(customers)
    return Fit(algorithm, params, est, labels, metrics, customers, profile, evaluation.cluster_sizes(labels))
