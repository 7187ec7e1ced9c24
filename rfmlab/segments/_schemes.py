"""Rule schemes: scores, grids and rules that turn R, F, M (and extras) into named segments."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rfmlab.errors import ConfigError

RFM = ("recency", "frequency", "monetary")
METHODS = ("quantile", "percentile", "mean")


@dataclass(kw_only=True)
class Score:
    key: str
    columns: list[str]
    bins: int = 4
    method: str = "quantile"  # quantile (average-rank percentile) | percentile (pandas-style cuts) | mean
    best: str = "high"  # high | low (recency)

    @property
    def levels(self) -> int:
        return 2 if self.method == "mean" else self.bins


@dataclass(kw_only=True)
class Rule:
    name: str
    scores: dict[str, list[int]] = field(default_factory=dict)
    raw: dict[str, dict] = field(default_factory=dict)  # column -> {min, max}


@dataclass(kw_only=True)
class Scheme:
    name: str
    description: str
    scores: list[Score]
    scale: str = "best_first"  # best_first: level 1 is best; best_last: level `levels` is best
    code: str | None = None
    grid: dict[str, str] | None = None
    rules: list[Rule] = field(default_factory=list)
    fallback: str | None = None
    actions: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ config
    @classmethod
    def from_dict(cls, name: str, d: dict) -> Scheme:
        try:
            scores = [
                Score(
                    key=k,
                    columns=[v["column"]] if isinstance(v.get("column"), str) else list(v["columns"]),
                    bins=int(v.get("bins", 4)),
                    method=v.get("method", "quantile"),
                    best=v.get("best", "high"),
                )
                for k, v in (d.get("scores") or {}).items()
            ]
            rules = [
                Rule(
                    name=r["name"],
                    scores={k: list(v) for k, v in (r.get("scores") or {}).items()},
                    raw=r.get("raw") or {},
                )
                for r in d.get("rules") or []
            ]
            s = cls(
                name=name,
                description=d.get("description", ""),
                scores=scores,
                scale=d.get("scale", "best_first"),
                code=d.get("code"),
                grid={str(k): v for k, v in d["grid"].items()} if d.get("grid") else None,
                rules=rules,
                fallback=d.get("fallback"),
                actions=dict(d.get("actions") or {}),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ConfigError(f"segments scheme {name}: malformed ({e}); see conf/segments/*.yaml") from e
        s.validate()
        return s

    def validate(self) -> None:
        keys = {sc.key for sc in self.scores}
        for sc in self.scores:
            if sc.method not in METHODS or sc.best not in ("high", "low") or sc.levels < 2:
                raise ConfigError(
                    f"segments scheme {self.name}: score {sc.key} needs method {'|'.join(METHODS)}, "
                    "best high|low and bins >= 2"
                )
            if sc.method == "percentile" and len(sc.columns) != 1:
                raise ConfigError(f"segments scheme {self.name}: score {sc.key}: method percentile scores one column")
        if self.scale not in ("best_first", "best_last"):
            raise ConfigError(f"segments scheme {self.name}: scale must be best_first or best_last")
        if (self.grid is None) == (not self.rules):
            raise ConfigError(f"segments scheme {self.name}: give either a grid or rules")
        for r in self.rules:
            unknown = set(r.scores) - keys
            if unknown:
                raise ConfigError(f"segments scheme {self.name}: rule {r.name!r} uses unknown scores {sorted(unknown)}")
        missing = [c for c in self.combinations() if self.assign_levels(c) is None]
        if missing:
            shown = ", ".join(self.code_of(c) for c in missing[:6])
            raise ConfigError(
                f"segments scheme {self.name} leaves {len(missing)} score combination(s) unassigned "
                f"(e.g. {shown}); add them or name a fallback segment"
            )

    # ------------------------------------------------------------------ scoring
    def combinations(self) -> list[dict[str, int]]:
        keys = [sc.key for sc in self.scores]
        return [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*[range(1, sc.levels + 1) for sc in self.scores])
        ]

    def code_of(self, levels: dict[str, int]) -> str:
        if self.code:
            return self.code.format(**levels)
        return "".join(str(levels[sc.key]) for sc in self.scores)

    def assign_levels(self, levels: dict[str, int], *, raw: dict[str, float] | None = None) -> str | None:
        """The segment of one score combination (``raw`` values for raw conditions; None = unknown)."""
        if self.grid is not None:
            return self.grid.get(self.code_of(levels))
        for r in self.rules:
            if any(levels[k] not in v for k, v in r.scores.items()):
                continue
            if r.raw:
                if raw is None:
                    continue  # cannot be decided without values: coverage relies on later rules/fallback
                ok = all(
                    (c.get("min") is None or raw[col] >= c["min"]) and (c.get("max") is None or raw[col] <= c["max"])
                    for col, c in r.raw.items()
                )
                if not ok:
                    continue
            return r.name
        return self.fallback

    def level(self, sc: Score, *, pct, values=None, mean: float | None = None, population=None):
        """Levels 1..levels in the scheme's scale from percentiles (quantile), values against the
        population's percentile cuts (percentile) or values vs the mean."""
        if sc.method == "mean":
            good = (values < mean) if sc.best == "low" else (values > mean)
            goodness = np.where(good, 2, 1)
        elif sc.method == "percentile":
            cuts = np.quantile(population, np.arange(1, sc.bins) / sc.bins)  # linear, as pandas' quantile
            g = np.searchsorted(cuts, values, side="left") + 1  # <= the first cut: 1 (lowest values)
            goodness = sc.bins + 1 - g if sc.best == "low" else g
        else:
            g = np.clip(np.ceil(pct * sc.bins), 1, sc.bins).astype(int)  # 1 = lowest values
            goodness = sc.bins + 1 - g if sc.best == "low" else g
        return goodness if self.scale == "best_last" else sc.levels + 1 - goodness

    def columns(self) -> list[str]:
        cols = {c for sc in self.scores for c in sc.columns}
        cols |= {c for r in self.rules for c in r.raw}
        return sorted(cols)


def load_schemes(cfg: dict | None) -> dict[str, Scheme]:
    """Schemes from the ``segments`` config node (``{name: {...}, naming: NAME}``); validates all."""
    return {k: Scheme.from_dict(k, v) for k, v in (cfg or {}).items() if isinstance(v, dict)}


def _pct_rank(values: np.ndarray) -> np.ndarray:
    """Average-rank percentile in (0, 1]: tied values share one percentile."""
    order = pl.Series(values).rank("average").to_numpy()
    return order / len(values)


def _pct_of(population: np.ndarray, x: float) -> float:
    """Where ``x`` sits in ``population``: the average-rank percentile it would have among them."""
    s = np.sort(population)
    lo, hi = np.searchsorted(s, x, "left"), np.searchsorted(s, x, "right")
    return float(max((lo + hi + 1) / 2, 1) / len(s))


def _score_inputs(sc: Score, customers: pl.DataFrame):
    cols = [customers[c].to_numpy().astype(float) for c in sc.columns]
    pct = np.mean([_pct_rank(v) for v in cols], axis=0)
    values = cols[0] if len(cols) == 1 else pct
    return pct, values


def apply(scheme: Scheme, customers: pl.DataFrame) -> pl.DataFrame:
    """``customer_id``, ``<scheme>_code`` and ``<scheme>`` (the segment) for every customer (vectorised)."""
    n = customers.height
    levels = {}
    for sc in scheme.scores:
        pct, values = _score_inputs(sc, customers)
        levels[sc.key] = scheme.level(sc, pct=pct, values=values, mean=float(values.mean()), population=values)
    keys = [sc.key for sc in scheme.scores]
    matrix = np.stack([levels[k] for k in keys], axis=1)
    combos, inverse = np.unique(matrix, axis=0, return_inverse=True)
    combo_levels = [dict(zip(keys, map(int, row), strict=True)) for row in combos]
    codes = np.array([scheme.code_of(lv) for lv in combo_levels], dtype=object)[inverse.ravel()]
    if scheme.grid is not None:
        names = np.array([scheme.grid[scheme.code_of(lv)] for lv in combo_levels], dtype=object)[inverse.ravel()]
    else:
        names = np.full(n, None, dtype=object)
        open_ = np.ones(n, dtype=bool)
        for r in scheme.rules:
            m = open_.copy()
            for k, allowed in r.scores.items():
                m &= np.isin(levels[k], allowed)
            for col, c in r.raw.items():
                v = customers[col].to_numpy()
                if c.get("min") is not None:
                    m &= v >= c["min"]
                if c.get("max") is not None:
                    m &= v <= c["max"]
            names[m] = r.name
            open_ &= ~m
        names[open_] = scheme.fallback
    return pl.DataFrame(
        {"customer_id": customers["customer_id"], f"{scheme.name}_code": codes.tolist(), scheme.name: names.tolist()},
        schema={"customer_id": pl.String, f"{scheme.name}_code": pl.String, scheme.name: pl.String},
    )


@dataclass(frozen=True, kw_only=True)
class SegmentsSpec:
    """The ``segments`` config section: the rule schemes applied to every customer, and the scheme whose archetypes
    name the clusters (``naming``: one of the selected schemes, or one given only for naming, ``namer``)."""

    schemes: dict = field(default_factory=dict)  # name -> Scheme
    naming: str | None = None
    namer: Scheme | None = None

    @classmethod
    def from_dict(cls, d: dict | None, *, naming_body: dict | None = None) -> SegmentsSpec:
        """``d``: scheme name -> body, plus ``naming``; ``naming_body``: the body of the naming scheme when it is
        not among the selected ones (read from ``conf/segments/`` by the caller). Incomplete schemes are refused."""
        schemes = load_schemes(d)
        naming = (d or {}).get("naming") or (next(iter(schemes)) if schemes else None)
        if naming is None:
            return cls(schemes=schemes)
        if naming in schemes:
            return cls(schemes=schemes, naming=naming, namer=schemes[naming])
        if naming_body is None:
            raise ConfigError(
                f"segments.naming={naming!r} is not a scheme; use one of {sorted(schemes) or 'conf/segments/*.yaml'}"
            )
        return cls(schemes=schemes, naming=naming, namer=Scheme.from_dict(naming, naming_body))
