"""The ``features`` config section: which customer columns are clustered and how they are transformed."""

from __future__ import annotations

from dataclasses import dataclass, field

from rfmlab.data.schema import CLV_COLUMNS, FEATURE_COLUMNS
from rfmlab.errors import ConfigError, options
from rfmlab.features import transforms


@dataclass(frozen=True, kw_only=True)
class FeatureSpec:
    name: str = "features"
    columns: list[str] = field(default_factory=lambda: ["recency", "frequency", "monetary"])
    transform: list[str] = field(default_factory=lambda: ["standard"])

    @classmethod
    def from_dict(cls, d: dict | None) -> FeatureSpec:
        """Validated before any data is read: unknown columns and transform steps are refused here."""
        d = dict(d or {})
        options(cls, d={k: v for k, v in d.items() if k != "name"}, where="features")  # unknown keys refused
        cols = list(d.get("columns") or ["recency", "frequency", "monetary"])
        allowed = [*FEATURE_COLUMNS, *CLV_COLUMNS]  # CLV's need clv.enabled (checked by jobs.Settings)
        bad = [c for c in cols if c not in allowed]
        if bad:
            raise ConfigError(f"unknown feature column(s) {bad} in features.columns; choose from {allowed}")
        steps = list(d.get("transform") or ["standard"])
        transforms.build(steps)
        return cls(name=str(d.get("name") or "features"), columns=cols, transform=steps)
