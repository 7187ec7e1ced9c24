"""The resolved config parsed once, at the edge, into each stage's typed section (``Settings``).

The command line (Hydra) and the Python API hand a plain resolved dict to ``Settings.from_config``; every section
is validated there, before any data is read or any run is started, and each stage then receives only its own
section (``DatasetSpec``, ``FeatureSpec``, ``AlgorithmSpec``, ``EvaluationSpec``, ``SegmentsSpec``, ``SearchSpec``).
The raw dict travels only to what records the config as it was given: run params and ``config/config.yaml``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from rfmlab.cluster import AlgorithmSpec
from rfmlab.clv import ClvSpec, require
from rfmlab.data import engines, locations
from rfmlab.data.schema import CLV_COLUMNS
from rfmlab.data.source import Source
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError, options
from rfmlab.evaluate import EvaluationSpec
from rfmlab.features import FeatureSpec
from rfmlab.resources import scheme_config
from rfmlab.search import SearchSpec
from rfmlab.segments import SegmentsSpec

SEARCH_MODES = ("none", "optuna")


@dataclass(frozen=True, kw_only=True)
class TrackingSpec:
    """The ``tracking`` section: where runs go and how they are named."""

    uri: str | None = None  # None: $MLFLOW_TRACKING_URI or sqlite:///<cwd>/mlruns/mlflow.db
    experiment: str | None = None  # None: the dataset's name
    run_name: str | None = None
    ui_url: str | None = None
    log_model: bool = True


@dataclass(frozen=True, kw_only=True)
class PlotsSpec:
    enabled: bool = True
    max_points: int = 5000  # scatter plots draw a seeded sample of at most this many customers


@dataclass(frozen=True, kw_only=True)
class Settings:
    dataset: DatasetSpec
    dataset_section: dict  # the ``dataset`` section (no secret): a logged model keeps it to read new logs alike
    features: FeatureSpec
    algorithm: AlgorithmSpec
    evaluation: EvaluationSpec
    segments: SegmentsSpec
    search: SearchSpec | None  # None: one fit (search=none)
    tracking: TrackingSpec
    plots: PlotsSpec
    clv: ClvSpec = field(default_factory=ClvSpec)
    seed: int = 0
    study: str | None = None  # ``study.name``: a named study from experiments/
    sweep_id: str | None = None
    rerun_of: str | None = None
    raw: dict = field(default_factory=dict, repr=False)  # the resolved config as given (run params, config.yaml)
    data: Source | None = field(default=None, repr=False)  # an in-memory log (the Python API's data=), read instead

    @classmethod
    def from_config(cls, cfg: dict) -> Settings:
        """Every section parsed and validated; a wrong key or value is a one-line ConfigError naming it."""
        for key in ("dataset", "features", "algorithm", "tracking"):
            if not isinstance(cfg.get(key), dict):
                raise ConfigError(f"the config has no {key} section; choose one, e.g. {key}=<name>")
        mode = (cfg.get("search") or {}).get("name", "none")
        if mode not in SEARCH_MODES:
            raise ConfigError(f"search={mode!r} is not a search mode; use search=none or search=optuna")
        study = cfg.get("study") or {}
        segments = cfg.get("segments") or {}
        naming = segments.get("naming")
        body = scheme_config(naming, option="segments.naming") if naming and naming not in segments else None
        dataset, features = DatasetSpec.from_dict(cfg["dataset"]), FeatureSpec.from_dict(cfg["features"])
        clv = ClvSpec.from_dict(cfg.get("clv"))
        _check_clv(clv, dataset=dataset, features=features)
        return cls(
            dataset=dataset,
            dataset_section=locations.redact_section(dict(cfg["dataset"])),
            features=features,
            clv=clv,
            algorithm=AlgorithmSpec.from_dict(cfg["algorithm"], pins=study.get("params")),
            evaluation=EvaluationSpec.from_dict(cfg.get("evaluation")),
            segments=SegmentsSpec.from_dict(segments, naming_body=body),
            search=SearchSpec.from_dict(cfg["search"]) if mode == "optuna" else None,
            tracking=_tracking(cfg["tracking"]),
            plots=_plots(cfg.get("plots")),
            seed=int(cfg.get("seed", 0)),
            study=study.get("name"),
            sweep_id=str(cfg["sweep_id"]) if cfg.get("sweep_id") else None,
            rerun_of=str(cfg["rerun_of"]) if cfg.get("rerun_of") else None,
            raw=cfg,
        )

    @property
    def search_mode(self) -> str:
        return "none" if self.search is None else "optuna"

    @property
    def experiment(self) -> str:
        return self.tracking.experiment or self.dataset.name


def _tracking(d: dict) -> TrackingSpec:
    spec = options(TrackingSpec, d=d, where="tracking")
    return dataclasses.replace(spec, log_model=bool(spec.log_model))


def _plots(d: dict | None) -> PlotsSpec:
    spec = options(PlotsSpec, d=d, where="plots")
    return PlotsSpec(enabled=bool(spec.enabled), max_points=int(spec.max_points))


def _check_clv(clv: ClvSpec, *, dataset: DatasetSpec, features: FeatureSpec) -> None:
    """CLV needs a transaction log, and its columns exist only when it is on."""
    wanted = [c for c in features.columns if c in CLV_COLUMNS]
    if wanted and not clv.enabled:
        raise ConfigError(f"features.columns has {wanted}, which CLV computes; set clv.enabled=true")
    if clv.enabled:
        require()  # the extra, before any data is read
    if clv.enabled and engines.chosen(dataset) != "polars":
        raise ConfigError(
            f"clv reads each customer's purchase days from the log: with dataset.engine={dataset.engine} set "
            "clv.enabled=false, or dataset.engine=polars"
        )
    if clv.enabled and dataset.is_table:
        raise ConfigError(
            f"clv.enabled=true needs a transaction log; dataset={dataset.name} is a customer table "
            "(set clv.enabled=false)"
        )
