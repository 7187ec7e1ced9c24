"""Business names for clusters: each cluster's profile placed in the population and named by a scheme."""

from __future__ import annotations

import numpy as np
import polars as pl

from rfmlab.segments._schemes import RFM, Scheme, _pct_of, _pct_rank

OUTLIERS = "Outliers"


def name_clusters(scheme: Scheme, customers: pl.DataFrame, *, cluster_col: str = "cluster") -> dict[int, str]:
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
                lv[sc.key] = int(scheme.level(sc, pct=None, values=np.array([value]), mean=mean)[0])
            elif sc.method == "percentile":
                value, pop = np.array([row[sc.columns[0]]], dtype=float), pops[sc.columns[0]]
                lv[sc.key] = int(scheme.level(sc, pct=None, values=value, population=pop)[0])
            else:
                lv[sc.key] = int(scheme.level(sc, pct=np.array([pct]))[0])
        raw_names[c] = (scheme.assign_levels(lv, raw={col: float(row[col]) for col in cols}), row["_revenue"])
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
