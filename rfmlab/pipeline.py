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

from rfmlab import evaluation, features, models, segments, stability, transforms
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
    report: clean_mod.CleaningReport
    customers: pl.DataFrame  # schema.CUSTOMER_COLUMNS
    analysis_date: date
    columns: list[str]
    transform_steps: list[str]
    transform: object  # fitted sklearn Pipeline
    X: np.ndarray
    evaluator: evaluation.Evaluator
    schemes: dict = field(default_factory=dict)  # name -> segments.Scheme
    rule_segments: pl.DataFrame | None = None  # customer_id + <scheme>_code + <scheme> per scheme
    naming: str | None = None  # the scheme that names clusters
    namer: object | None = None  # that scheme (segments.Scheme), selected or given for naming only
    stability: stability.StabilitySpec = field(default_factory=stability.StabilitySpec)


@dataclass
class Fit:
    algorithm: str
    params: dict
    estimator: object
    labels: np.ndarray
    metrics: dict[str, float]
    customers: pl.DataFrame  # customer table + cluster, segment and one column per scheme
    profile: pl.DataFrame
    sizes: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)  # cluster id -> business name
    sample: np.ndarray | None = None  # rows the estimator was fitted on (None: every customer)
    stability: stability.Stability | None = None  # per cluster, when evaluation.stability.enabled

    @property
    def fit_params(self) -> dict:
        """``fit.method`` (exact, or sample + out-of-sample assignment) and ``fit.sample_size``, as run params."""
        n = len(self.labels) if self.sample is None else len(self.sample)
        return {"fit.method": "exact" if self.sample is None else "sample+assign", "fit.sample_size": n}

    def training_set(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The customers the estimator was fitted on and their labels (what out-of-sample assignment needs)."""
        if self.sample is None:
            return X, self.labels
        return X[self.sample], self.labels[self.sample]


def feature_columns(columns) -> list[str]:
    cols = list(columns or ["recency", "frequency", "monetary"])
    bad = [c for c in cols if c not in FEATURE_COLUMNS]
    if bad:
        raise ConfigError(f"unknown feature column(s) {bad} in features.columns; choose from {FEATURE_COLUMNS}")
    return cols


@contextlib.contextmanager
def _reading(src: load.Source):
    """Errors of the streaming passes over a file (a gzip truncated past its first rows...) as one-line DataErrors."""
    try:
        yield
    except (pl.exceptions.ComputeError, OSError, EOFError) as e:
        from rfmlab.data.source import read_error

        raise read_error(src.path, e) from e


@dataclass
class CleanLog:
    """A cleaned log, still lazy: the kept lines (exact repeats still in), the repeats to take off aggregates
    (``clean.remove_repeats``), the report so far and the source."""

    src: load.Source
    spec: load.DatasetSpec
    kept: pl.LazyFrame
    repeats: pl.DataFrame | None
    report: clean_mod.CleaningReport


def clean_log(
    spec: load.DatasetSpec,
    stage: Callable = _no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    source: load.Source | None = None,
    as_of: date | None = None,
) -> CleanLog:
    """load -> clean as streaming queries over the source (``spec``'s, or ``source``): the log is never held in
    memory, only the per-line reason codes and hashes of the first cleaning pass (9 bytes a line)."""
    row_ids = (spec.cleaning or {}).get("duplicates", "drop") == "keep"  # see load.canonical

    def canonical(lf: pl.LazyFrame, with_hash: bool = False, own_ids: bool = True) -> pl.LazyFrame:
        return load.canonical(lf, spec, src.head, with_hash, row_ids, own_ids, replaced=with_hash and src.text)

    with stage("load"):
        src = source or load.scan(spec)
        spec, detected = load.resolve_date_format(spec, src.lf, src.head)
        tx = canonical(src.lf, with_hash=True, own_ids=False)  # the first pass needs no invoice ids
        fmt = {"date_format": spec.date_format, "detected": detected}
        on_stage("load", {"head": src.head, "digest": src.digest, **fmt})
    with stage("clean"), _reading(src):
        has_price = spec.columns.amount is None
        kept, repeats, report, bad = clean_mod.scan(src.lf, tx, has_price, spec.cleaning, as_of, canonical)
        load.check(src.lf, src.head, bad, spec)
    return CleanLog(src, spec, kept, repeats, report)


def customer_table(
    spec: load.DatasetSpec,
    stage: Callable = _no_stage,
    on_stage: Callable[[str, object], None] = lambda name, out: None,
    source: load.Source | None = None,
    analysis_date=None,
) -> tuple[pl.DataFrame, date, clean_mod.CleaningReport, str]:
    """load -> clean -> RFM (``clean_log``, then the kept lines aggregated per customer in one streaming pass).
    Returns (customers, analysis date, cleaning report, source digest)."""
    as_of = features.parse_date(analysis_date or spec.analysis_date)
    log = clean_log(spec, stage, on_stage, source, as_of)
    report = log.report
    with stage("features"), _reading(log.src):
        agg = clean_mod.remove_repeats(features.aggregate(log.kept), log.repeats)
        agg, dropped = clean_mod.nonpositive(agg)
        returns = int(agg["_return_lines"].sum())
        clean_mod.finish(report, dropped, int(agg["_lines"].sum()), agg.height, returns, as_of)
        on_stage("clean", report)
        customers, as_of = features.table(agg, as_of)
        on_stage("features", customers)
    return customers, as_of, report, log.src.digest


def prepare(
    dataset: dict,
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
    naming, namer = naming_scheme(segments_cfg, schemes, naming_cfg)
    columns = feature_columns(feats.get("columns"))
    steps = feats.get("transform") or ["standard"]
    transforms.build(steps)  # validate before the slow work
    stab = stability.StabilitySpec.from_dict(stability_cfg)
    customers, as_of, report, digest = customer_table(spec, stage, on_stage)
    rules = None
    if schemes:
        with stage("segments"):
            rules = customers.select("customer_id")
            for scheme in schemes.values():
                rules = rules.join(segments.apply(scheme, customers), on="customer_id", how="left")
    with stage("transform"):
        pipe, X = transforms.fit_transform(steps, customers.select(columns).to_numpy())
    return Prepared(
        spec,
        digest,
        report,
        customers,
        as_of,
        columns,
        list(steps),
        pipe,
        X,
        evaluation.Evaluator(X, sample_size, seed),
        schemes,
        rules,
        naming,
        namer,
        stab,
    )


def naming_scheme(segments_cfg: dict | None, schemes: dict, naming_cfg: dict | None):
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


def fit(
    prep: Prepared,
    algorithm: str,
    params: dict | None,
    seed: int = 0,
    stage: Callable = _no_stage,
    max_exact: int | None = None,
) -> Fit:
    """Cluster (exactly, or on a sample of ``max_exact`` customers with the rest assigned), evaluate, name
    the clusters and profile them."""
    params = dict(params or {})
    with stage(f"cluster ({algorithm})"):
        fitted = models.fit(algorithm, params, prep.X, seed, max_exact)
        est, labels = fitted.estimator, fitted.labels
    with stage("evaluate"):
        metrics = prep.evaluator.score(labels, ci="bootstrap")
        customers = prep.customers.with_columns(pl.Series("cluster", labels.astype(np.int64)))
    stab = None
    if prep.stability.enabled:
        spec = prep.stability
        with stage(f"stability ({spec.n_resamples} resamples)"):
            n_fitted = len(labels) if fitted.sample is None else len(fitted.sample)
            stab = stability_of(prep, algorithm, params, labels, seed, n_fitted)
            metrics.update(stab.metrics())
    names: dict[int, str] = {}
    if prep.namer is not None:
        with stage("segments"):
            names = segments.name_clusters(prep.namer, customers)
            customers = customers.with_columns(
                pl.col("cluster").replace_strict(names, return_dtype=pl.String).alias("segment")
            )
            if prep.rule_segments is not None:
                customers = customers.join(prep.rule_segments, on="customer_id", how="left")
            for name in prep.schemes:
                ari, ami = segments.agreement(customers["cluster"], customers[name])
                metrics[f"ari_vs_{name}"], metrics[f"ami_vs_{name}"] = ari, ami
    profile = segments.cluster_profile(customers)
    sizes = evaluation.cluster_sizes(labels)
    return Fit(algorithm, params, est, labels, metrics, customers, profile, sizes, names, fitted.sample, stab)


def stability_of(
    prep: Prepared, algorithm: str, params: dict, labels: np.ndarray, seed: int, n_fitted: int, on_sample: bool = False
) -> stability.Stability:
    """Clusterwise stability of a labelling (every customer's, or with ``on_sample`` the evaluation sample's) on
    the stability sample, by ``prep.stability``'s resampling."""
    spec, ev = prep.stability, prep.evaluator
    rows = ev.stability_rows(spec.sample_size)
    lab = np.asarray(labels)[rows if on_sample else ev.sample[rows]]
    refit = models.refitter(algorithm, params, seed, n_fitted)
    return stability.clusterwise(prep.X[ev.sample[rows]], lab, refit, spec.n_resamples, seed, spec.method)
