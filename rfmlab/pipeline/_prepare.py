"""A dataset prepared once for many fits: customer table, rule segments, transformed features, evaluator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl

from rfmlab import evaluate, segments
from rfmlab.data import clean as clean_mod
from rfmlab.data import load
from rfmlab.data.schema import FEATURE_COLUMNS
from rfmlab.errors import ConfigError
from rfmlab.features import transforms
from rfmlab.pipeline._customers import _no_stage, customer_table


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


def feature_columns(columns) -> list[str]:
    cols = list(columns or ["recency", "frequency", "monetary"])
    bad = [c for c in cols if c not in FEATURE_COLUMNS]
    if bad:
        raise ConfigError(f"unknown feature column(s) {bad} in features.columns; choose from {FEATURE_COLUMNS}")
    return cols


def prepare(
    dataset: dict,
    *,
    feats: dict,
    sample_size: int = 10_000,
    seed: int = 0,
    stage: Callable = _no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    segments_cfg: dict | None = None,
    naming_cfg: dict | None = None,
    stability_cfg: dict | None = None,
) -> Prepared:
    """Customer table, rule segments of every scheme in ``segments_cfg`` and the transformed features.

    Clusters are named by the scheme ``segments_cfg["naming"]``: one of the selected schemes, or the body
    ``naming_cfg`` of one that is not selected (it names clusters and adds no segment columns)."""
    spec = dataset if isinstance(dataset, load.DatasetSpec) else load.DatasetSpec.from_dict(dataset)
    schemes = segments.load_schemes(segments_cfg)  # refused here, before the slow work, if incomplete
    naming, namer = naming_scheme(segments_cfg, schemes=schemes, naming_cfg=naming_cfg)
    columns = feature_columns(feats.get("columns"))
    steps = feats.get("transform") or ["standard"]
    transforms.build(steps)  # validate before the slow work
    stab = evaluate.StabilitySpec.from_dict(stability_cfg)
    customers, as_of, report, digest = customer_table(spec, stage=stage, on_stage=on_stage)
    rules = None
    if schemes:
        with stage("segments"):
            rules = customers.select("customer_id")
            for scheme in schemes.values():
                rules = rules.join(segments.apply(scheme, customers), on="customer_id", how="left")
    with stage("transform"):
        pipe, X = transforms.fit_transform(steps, X=customers.select(columns).to_numpy())
    return Prepared(
        spec=spec,
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


def naming_scheme(segments_cfg: dict | None, *, schemes: dict, naming_cfg: dict | None):
    """(name, Scheme) of the scheme that names clusters; (None, None) when ``naming`` is null and none is
    selected."""
    naming = (segments_cfg or {}).get("naming") or (next(iter(schemes)) if schemes else None)
    if naming is None:
        return None, None
    if naming in schemes:
        return naming, schemes[naming]
    if naming_cfg is None:
        raise ConfigError(
            f"segments.naming={naming!r} is not a scheme; use one of {sorted(schemes) or 'conf/segments/*.yaml'}"
        )
    return naming, segments.Scheme.from_dict(naming, naming_cfg)
