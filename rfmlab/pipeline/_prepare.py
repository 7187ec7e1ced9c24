"""A dataset prepared once for many fits: customer table, rule segments, transformed features, evaluator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from rfmlab import evaluate
from rfmlab import segments as seg
from rfmlab.data import clean as clean_mod
from rfmlab.data import load
from rfmlab.evaluate import EvaluationSpec
from rfmlab.features import FeatureSpec, transforms
from rfmlab.pipeline._customers import customer_table, no_stage
from rfmlab.segments import SegmentsSpec


@dataclass(kw_only=True)
class Prepared:
    spec: load.DatasetSpec
    digest: str
    report: clean_mod.CleaningReport
    customers: pl.DataFrame  # schema.CUSTOMER_COLUMNS
    analysis_date: date
    columns: list[str]
    transform_steps: list[str]
    transform: object  # fitted sklearn Pipeline
    X: np.ndarray
    evaluator: evaluate.Evaluator
    schemes: dict = field(default_factory=dict)  # name -> segments.Scheme
    rule_segments: pl.DataFrame | None = None  # customer_id + <scheme>_code + <scheme> per scheme
    naming: str | None = None  # the scheme that names clusters
    namer: object | None = None  # that scheme (segments.Scheme), selected or given for naming only
    stability: evaluate.StabilitySpec = field(default_factory=evaluate.StabilitySpec)


def prepare(
    dataset: load.DatasetSpec,
    *,
    features: FeatureSpec,
    segments: SegmentsSpec | None = None,
    evaluation: EvaluationSpec | None = None,
    seed: int = 0,
    stage: Callable = no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
) -> Prepared:
    """Customer table, rule segments of every scheme in ``segments`` and the transformed features, with the
    evaluation sample drawn once. Clusters will be named by ``segments.namer``."""
    segments = segments or SegmentsSpec()
    evaluation = evaluation or EvaluationSpec()
    schemes, naming, namer = segments.schemes, segments.naming, segments.namer
    columns, steps = list(features.columns), list(features.transform)
    sample_size, stab = evaluation.sample_size, evaluation.stability
    customers, as_of, report, digest = customer_table(dataset, stage=stage, on_stage=on_stage)
    rules = None
    if schemes:
        with stage("segments"):
            rules = customers.select("customer_id")
            for scheme in schemes.values():
                rules = rules.join(seg.apply(scheme, customers), on="customer_id", how="left")
    with stage("transform"):
        pipe, X = transforms.fit_transform(steps, X=customers.select(columns).to_numpy())
    return Prepared(
        spec=dataset,
        digest=digest,
        report=report,
        customers=customers,
        analysis_date=as_of,
        columns=columns,
        transform_steps=list(steps),
        transform=pipe,
        X=X,
        evaluator=evaluate.Evaluator(X, sample_size=sample_size, seed=seed),
        schemes=schemes,
        rule_segments=rules,
        naming=naming,
        namer=namer,
        stability=stab,
    )
