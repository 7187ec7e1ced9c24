"""Segments stage: rule-based RFM schemes, business names for clusters, profiles and marketing summaries.

A **scheme** (one YAML in ``conf/segments/``) turns R, F, M (and extras) into named segments:

- ``scores``: each key (``R``, ``F``, ``M``, ``FM``...) scores one column, or the mean percentile of
  several (``FM`` = frequency and monetary together), into ``bins`` levels by its average-rank percentile
  (``method: quantile``, the default), by the column's linearly interpolated percentiles as pandas'
  ``quantile`` gives them, a value at or below the i-th cut falling in bin i (``method: percentile``,
  one column; the stock-market study's quartile scoring), or into 2 levels by the mean (``method: mean``).
  ``best: low`` marks columns where less is better (recency).
  ``scale: best_first`` numbers the best level 1 (quartile scheme: 1 best); ``best_last`` numbers it
  ``bins`` (rfm11: 5 best).
- **Ties** (many customers with frequency 1): equal values always share a score under every method; bins
  can then hold more or fewer customers than 1/bins of them (``quantile`` ranks a tie group at its average
  rank, ``percentile`` puts it at or below the first cut it does not exceed).
- ``grid``: a name for every combination of scores (``code`` builds the key, e.g. ``"{R}{FM}"``), or
  ``rules``: conditions on scores (lists of allowed levels) and on raw columns (``min`` / ``max``),
  first match wins, with a ``fallback``. A scheme that can leave a combination unassigned is refused
  when the config loads.
- ``actions``: the suggested marketing action per segment.

**Cluster names** come from a naming scheme (``segments.naming``): each cluster's median R, F, M (and
the extras a scheme reads) is placed in the population's distribution (its percentile), scored with
the scheme's bins and assigned like a customer. Names depend only on cluster profiles, so they do not
change when cluster ids are permuted; two clusters landing on one name are numbered by revenue
(``At Risk``, ``At Risk 2``); noise is ``Outliers``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rfmlab.errors import ConfigError

RFM = ("recency", "frequency", "monetary")
OUTLIERS = "Outliers"
METHODS = ("quantile", "percentile", "mean")


@dataclass
class Score:
    key: str
    columns: list[str]
    bins: int = 4
    method: str = "quantile"  # quantile (average-rank percentile) | percentile (pandas-style cuts) | mean
    best: str = "high"  # high | low (recency)

    @property
    def levels(self) -> int:
        return 2 if self.method == "mean" else self.bins


@dataclass
class Rule:
    name: str
    scores: dict[str, list[int]] = field(default_factory=dict)
    raw: dict[str, dict] = field(default_factory=dict)  # column -> {min, max}


@dataclass
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
                    k,
                    [v["column"]] if isinstance(v.get("column"), str) else list(v["columns"]),
                    int(v.get("bins", 4)),
                    v.get("method", "quantile"),
                    v.get("best", "high"),
                )
                for k, v in (d.get("scores") or {}).items()
            ]
            rules = [
                Rule(r["name"], {k: list(v) for k, v in (r.get("scores") or {}).items()}, r.get("raw") or {})
                for r in d.get("rules") or []
            ]
            s = cls(
                name,
                d.get("description", ""),
                scores,
                d.get("scale", "best_first"),
                d.get("code"),
                {str(k): v for k, v in d["grid"].items()} if d.get("grid") else None,
                rules,
                d.get("fallback"),
                dict(d.get("actions") or {}),
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

    def assign_levels(self, levels: dict[str, int], raw: dict[str, float] | None = None) -> str | None:
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

    def level(self, sc: Score, pct, values=None, mean: float | None = None, population=None):
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
        levels[sc.key] = scheme.level(sc, pct, values, float(values.mean()), population=values)
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


def name_clusters(scheme: Scheme, customers: pl.DataFrame, cluster_col: str = "cluster") -> dict[int, str]:
    """A business name per cluster id from its median profile placed in the population (see module doc)."""
    cols = sorted(set(RFM) | set(scheme.columns()))
    pops = {c: customers[c].to_numpy().astype(float) for c in cols}
    med = (
        customers.group_by(cluster_col)
        .agg(*[pl.col(c).median() for c in cols], pl.col("monetary").sum().alias("_revenue"))
        .sort(cluster_col)
    )
    raw_names = {}
    for row in med.iter_rows(named=True):
        c = int(row[cluster_col])
        if c == -1:
            continue
        lv = {}
        for sc in scheme.scores:
            pct = float(np.mean([_pct_of(pops[col], row[col]) for col in sc.columns]))
            if sc.method == "mean":
                if len(sc.columns) == 1:
                    value, mean = row[sc.columns[0]], float(pops[sc.columns[0]].mean())
                else:
                    # a mean split of several columns compares their mean percentile with its population mean
                    pop_pct = np.mean([_pct_rank(pops[col]) for col in sc.columns], axis=0)
                    value, mean = pct, float(pop_pct.mean())
                lv[sc.key] = int(scheme.level(sc, None, np.array([value]), mean)[0])
            elif sc.method == "percentile":
                value, pop = np.array([row[sc.columns[0]]], dtype=float), pops[sc.columns[0]]
                lv[sc.key] = int(scheme.level(sc, None, value, population=pop)[0])
            else:
                lv[sc.key] = int(scheme.level(sc, np.array([pct]))[0])
        raw_names[c] = (scheme.assign_levels(lv, {col: float(row[col]) for col in cols}), row["_revenue"])
    names: dict[int, str] = {}
    by_name: dict[str, list[tuple[float, int]]] = {}
    for c, (n, rev) in raw_names.items():
        by_name.setdefault(n, []).append((-rev, c))
    for n, members in by_name.items():
        for i, (_, c) in enumerate(sorted(members)):
            names[c] = n if i == 0 else f"{n} {i + 1}"
    if (customers[cluster_col] == -1).any():
        names[-1] = OUTLIERS
    return names


def cluster_profile(customers: pl.DataFrame, cluster_col: str = "cluster") -> pl.DataFrame:
    """One row per cluster: size, share, mean and median R/F/M, revenue share, mean extras.

    ``customers`` is the customer table with a ``cluster`` column; noise (-1) gets its own row.
    """
    n = customers.height
    total = customers["monetary"].sum()
    extras = [c for c in ("tenure_days", "avg_order_value", "return_rate") if c in customers.columns]
    first = [cluster_col] + (["segment"] if "segment" in customers.columns and cluster_col != "segment" else [])
    return (
        customers.group_by(first)
        .agg(
            pl.len().alias("size"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in RFM],
            *[pl.col(c).median().alias(f"{c}_median") for c in RFM],
            pl.col("monetary").sum().alias("revenue"),
            *[pl.col(c).mean().alias(f"{c}_mean") for c in extras],
        )
        .with_columns(
            (pl.col("size") / n).alias("share"),
            (pl.col("revenue") / total).alias("revenue_share"),
        )
        .select(*first, "size", "share", "revenue_share", pl.exclude(*first, "size", "share", "revenue_share"))
        .sort(cluster_col)
    )


def summary(customers: pl.DataFrame, column: str, actions: dict[str, str] | None = None) -> pl.DataFrame:
    """Marketing summary per segment: count, share, revenue share, median R/F/M, suggested action."""
    actions = actions or {}
    n, total = customers.height, customers["monetary"].sum()
    out = (
        customers.group_by(column)
        .agg(
            pl.len().alias("customers"),
            pl.col("monetary").sum().alias("revenue"),
            *[pl.col(c).median().alias(f"median_{c}") for c in RFM],
        )
        .with_columns((pl.col("customers") / n).alias("share"), (pl.col("revenue") / total).alias("revenue_share"))
        .sort("revenue", descending=True)
        .rename({column: "segment"})
    )
    out = out.with_columns(pl.col("segment").cast(pl.String))
    return out.with_columns(
        pl.col("segment").map_elements(lambda s: actions.get(s, ""), return_dtype=pl.String).alias("action")
    ).select(
        "segment",
        "customers",
        "share",
        "revenue_share",
        "median_recency",
        "median_frequency",
        "median_monetary",
        "action",
    )


def contingency(customers: pl.DataFrame, a: str, b: str) -> pl.DataFrame:
    """Counts of customers for every (a, b) pair, as a wide table with one row per value of ``a``."""
    long = customers.group_by(a, b).agg(pl.len().alias("n"))
    return long.pivot(on=b, index=a, values="n").fill_null(0).sort(a)


def _codes(labels) -> np.ndarray:
    """Integer codes for any labels (segment names as text: scikit-learn sorts text labels 50x slower)."""
    s = labels if isinstance(labels, pl.Series) else pl.Series(np.asarray(labels))
    return s.rank("dense").fill_null(0).to_numpy()


def agreement(labels_a, labels_b) -> tuple[float, float]:
    """Adjusted Rand and adjusted mutual information of two labellings (arrays or polars Series)."""
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

    la, lb = _codes(labels_a), _codes(labels_b)
    if len(la) == 0:
        return math.nan, math.nan
    return float(adjusted_rand_score(la, lb)), float(adjusted_mutual_info_score(la, lb))
