"""A dataset prepared once for many fits: customer table, rule segments, transformed features, evaluator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from rfmlab import clv as clv_mod
from rfmlab import evaluate
from rfmlab import segments as seg
from rfmlab.data import clean as clean_mod
from rfmlab.data import load
from rfmlab.errors import DataError
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
    notes: list[str] = field(default_factory=list)  # what the run could not do with this data (said, not hidden)
    clv: clv_mod.ClvResult | None = None  # the CLV fits, predictions and holdout (clv.enabled)

    @property
    def as_of(self) -> str:
        """The analysis date as shown and logged; a customer table with recency in days may not say it."""
        return self.analysis_date.isoformat() if self.analysis_date else "unknown: recency given in days"


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
    clv: clv_mod.ClvSpec | None = None,
) -> Prepared:
    """Customer table (of ``dataset``'s log, or of ``source``: a log already opened, in memory for the Python
    API), rule segments of every scheme in ``segments`` and the transformed features, with the evaluation sample
    drawn once. Clusters will be named by ``segments.namer``. ``clv`` (enabled) adds CLV's columns and result."""
    results: dict = {}

    def keep(name: str, out) -> None:
        if name == "clv":
            results["clv"] = out
        on_stage(name, out)

    customers, as_of, report, digest = customer_table(
        dataset, stage=stage, on_stage=keep, source=source, clv=clv, seed=seed
    )
    prep = prepare_table(
        customers,
        analysis_date=as_of,
        features=features,
        segments=segments,
        evaluation=evaluation,
        seed=seed,
        stage=stage,
        origin=(dataset, report, digest),
    )
    prep.clv = results.get("clv")
    return prep


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
    missing = [c for c in columns if c not in customers.columns]
    if missing:
        raise DataError(
            f"features.columns asks for {missing}, which the customer table does not have; map them "
            f"(dataset.columns.{missing[0]}=COLUMN) or choose features without them (features.columns)"
        )
    blank = (load.DatasetSpec(name="customer_table"), clean_mod.CleaningReport(rows_in=customers.height), "")
    spec, report, digest = origin or blank
    schemes, notes = _schemes_for(segments, customers)
    rules = None
    if schemes:
        with stage("segments"):
            rules = customers.select("customer_id")
            for scheme in schemes.values():
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
        schemes=schemes,
        rule_segments=rules,
        naming=segments.naming,
        namer=segments.namer,
        stability=evaluation.stability,
        notes=notes,
    )


def _schemes_for(segments: SegmentsSpec, customers: pl.DataFrame) -> tuple[dict, list[str]]:
    """The rule schemes the customer table has the columns for, and a note for each one left out (a customer table
    without return_rate cannot apply value_risk); the naming scheme must have its columns."""
    kept, notes = {}, []
    for name, scheme in segments.schemes.items():
        lacks = [c for c in scheme.columns() if c not in customers.columns]
        if lacks:
            notes.append(f"rule scheme {name} left out: it needs {', '.join(lacks)}, which the customer table lacks")
        else:
            kept[name] = scheme
    lacks = [c for c in (segments.namer.columns() if segments.namer else []) if c not in customers.columns]
    if lacks:
        raise DataError(
            f"segments.naming={segments.naming} needs {', '.join(lacks)}, which the customer table does not have; "
            "name the clusters with another scheme (segments.naming=rfm11) or map the column"
        )
    return kept, notes
