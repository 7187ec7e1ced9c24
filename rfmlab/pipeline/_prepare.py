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
    analysis_date: date | None  # None: a customer table given as is (RFMSegmenter)
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
    source: load.Source | None = None,
) -> Prepared:
    """Customer table (of ``dataset``'s log, or of ``source``: a log already opened, in memory for the Python
    API), rule segments of every scheme in ``segments`` and the transformed features, with the evaluation sample
    drawn once. Clusters will be named by ``segments.namer``."""
    customers, as_of, report, digest = customer_table(dataset, stage=stage, on_stage=on_stage, source=source)
    return prepare_table(
        customers,
        analysis_date=as_of,
        features=features,
        segments=segments,
        evaluation=evaluation,
        seed=seed,
        stage=stage,
        origin=(dataset, report, digest),
    )


def prepare_table(
    customers: pl.DataFrame,
    *,
    analysis_date: date | None,
    features: FeatureSpec,
    segments: SegmentsSpec | None = None,
    evaluation: EvaluationSpec | None = None,
    seed: int = 0,
    stage: Callable = no_stage,
    origin: tuple | None = None,
) -> Prepared:
    """``prepare`` from a customer table already computed (``schema.CUSTOMER_COLUMNS``, or at least customer_id
    and the feature columns): what ``RFMSegmenter.fit`` does. ``origin``: (dataset spec, cleaning report, digest)
    of the log it came from, when there is one."""
    segments = segments or SegmentsSpec()
    evaluation = evaluation or EvaluationSpec()
    columns, steps = list(features.columns), list(features.transform)
    blank = (load.DatasetSpec(name="customer_table"), clean_mod.CleaningReport(rows_in=customers.height), "")
    spec, report, digest = origin or blank
    rules = None
    if segments.schemes:
        with stage("segments"):
            rules = customers.select("customer_id")
            for scheme in segments.schemes.values():
                rules = rules.join(seg.apply(scheme, customers), on="customer_id", how="left")
    with stage("transform"):
        pipe, X = transforms.fit_transform(steps, X=customers.select(columns).cast(pl.Float64).to_numpy())
    return Prepared(
        spec=spec,
        digest=digest,
        report=report,
        customers=customers,
        analysis_date=analysis_date,
        columns=columns,
        transform_steps=list(steps),
        transform=pipe,
        X=X,
        evaluator=evaluate.Evaluator(X, sample_size=evaluation.sample_size, seed=seed),
        schemes=segments.schemes,
        rule_segments=rules,
        naming=segments.naming,
        namer=segments.namer,
        stability=evaluation.stability,
    )
