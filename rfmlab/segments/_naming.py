"""Business names for clusters: one distinct name per cluster, never a bare number.

1. **Natural name.** Each cluster's median R, F, M (and the extras the scheme reads) is placed in the population
   (its percentile), scored with the scheme's bins and assigned like a customer: the name of its typical customer.
   A cluster whose natural name no other cluster has keeps it, so names do not change where nothing competes.
2. **Assignment.** The clusters that share a natural name ("contested") are named together, as a one-to-one
   assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``) that maximises the agreement with the rule
   scheme: the value of giving cluster c the name n is the share of c's customers the scheme itself puts under n
   (``apply``). Every contested name stays with one of its claimants; another claimant takes a name no cluster
   claims only when that name fits it better than its own, i.e. more of its customers carry it than its natural
   name (the threshold: a rename never describes fewer of a cluster's customers than the qualified name would).
3. **Qualifiers.** Clusters still sharing a name get a qualifier saying what separates them: ``Champions: high
   spend`` / ``Champions: frequent`` (``_qualify``). Noise (-1) is ``Outliers``.

Names depend only on the clusters' profiles, not on their ids.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from rfmlab.segments._qualify import SIZE, qualify
from rfmlab.segments._schemes import RFM, Scheme, _pct_of, _pct_rank, apply

OUTLIERS = "Outliers"
_FORBIDDEN = -1e6  # value of a name a cluster may not take (far below any mix of shares and bonuses)


def name_clusters(scheme: Scheme, customers: pl.DataFrame, *, cluster_col: str = "cluster") -> dict[int, str]:
    """A distinct business name per cluster id (noise -1: ``Outliers``); the rule is the module's doc.

    Clusters whose natural name (their median profile's segment) is theirs alone keep it. Clusters sharing one
    are named by a one-to-one assignment maximising the share of their customers that the scheme puts under
    their names; the ones left sharing a name are told apart by a qualifier (``Champions: high spend``).
    """
    cols = sorted(set(RFM) | set(scheme.columns()))
    pops = {c: customers[c].to_numpy().astype(float) for c in cols}
    med = (
        customers.filter(pl.col(cluster_col) != -1)
        .group_by(cluster_col)
        .agg(*[pl.col(c).median() for c in cols], pl.len().alias("_size"), pl.col("monetary").sum().alias("_rev"))
        .sort(cluster_col)
    )
    rows = {int(r[cluster_col]): r for r in med.iter_rows(named=True)}
    natural = {c: _natural_name(scheme, row, pops=pops) for c, row in rows.items()}
    names = dict(natural)
    if len(set(natural.values())) < len(natural):
        order = sorted(rows, key=lambda c: (-rows[c]["_rev"], -rows[c]["_size"], *(rows[c][k] for k in cols), c))
        share = _shares(scheme, customers, cluster_col=cluster_col)
        base = assign(natural, share, names=_scheme_names(scheme), order=order)
        features = list(RFM) + [c for c in cols if c not in RFM]
        profile = _profile(rows, pops=pops, columns=features, n=customers.height)
        names = qualify(base, profile, order=order)
    if len(set(names.values())) != len(names):
        raise AssertionError(f"cluster names are not distinct: {names}")
    names = {c: names[c] for c in sorted(names)}
    if (customers[cluster_col] == -1).any():
        names[-1] = OUTLIERS
    return names


def _natural_name(scheme: Scheme, row: dict, *, pops: dict[str, np.ndarray]) -> str:
    """The segment of a cluster's median profile ``row``, scored against the population ``pops`` like a customer."""
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
    return scheme.assign_levels(lv, raw={col: float(row[col]) for col in pops})


def _scheme_names(scheme: Scheme) -> list[str]:
    """Every segment name the scheme can give, in its own order."""
    if scheme.grid is not None:
        found = list(scheme.grid.values())
    else:
        found = [r.name for r in scheme.rules] + ([scheme.fallback] if scheme.fallback else [])
    return list(dict.fromkeys(found))


def _shares(scheme: Scheme, customers: pl.DataFrame, *, cluster_col: str) -> dict[int, dict[str, float]]:
    """cluster -> segment -> the share of the cluster's customers the scheme puts in that segment."""
    seg = apply(scheme, customers)[scheme.name]
    counts = (
        pl.DataFrame({"c": customers[cluster_col], "s": seg})
        .filter(pl.col("c") != -1)
        .group_by("c", "s")
        .agg(pl.len().alias("n"))
        .with_columns((pl.col("n") / pl.col("n").sum().over("c")).alias("share"))
    )
    out: dict[int, dict[str, float]] = {}
    for c, s, share in counts.select("c", "s", "share").iter_rows():
        out.setdefault(int(c), {})[s] = float(share)
    return out


def assign(
    natural: dict[int, str], share: dict[int, dict[str, float]], *, names: list[str], order: list[int]
) -> dict[int, str]:
    """Each cluster's name before qualifiers: a one-to-one assignment maximising the total share of customers
    carrying their cluster's name, subject to: a cluster alone with its natural name keeps it; a contested name
    stays with one of its claimants; another claimant takes a name no cluster claims only when more of its
    customers carry that name than its natural one, else it keeps its natural name (qualified later).
    ``order`` (all clusters) breaks exact ties independently of the ids."""
    from scipy.optimize import linear_sum_assignment

    claims: dict[str, list[int]] = {}
    for c in order:
        claims.setdefault(natural[c], []).append(c)
    contested = [n for n, cs in claims.items() if len(cs) > 1]
    rows = [c for c in order if natural[c] in contested]
    free = [n for n in names if n not in claims]
    bonus = len(rows) + 1.0  # holding one more contested name outweighs any difference in shares
    value = np.full((len(rows), len(contested) + len(free) + len(rows)), _FORBIDDEN)
    for i, c in enumerate(rows):
        own = share.get(c, {}).get(natural[c], 0.0)
        value[i, contested.index(natural[c])] = bonus + own
        for j, n in enumerate(free):
            if share.get(c, {}).get(n, 0.0) > own:
                value[i, len(contested) + j] = share[c][n]
        value[i, len(contested) + len(free) + i] = own  # keeps its natural name, told apart by a qualifier
    picked_rows, picked_cols = linear_sum_assignment(value, maximize=True)
    out = dict(natural)
    for i, j in zip(picked_rows, picked_cols, strict=True):
        if value[i, j] <= _FORBIDDEN / 2:
            raise AssertionError("cluster naming: no admissible assignment")
        if len(contested) <= j < len(contested) + len(free):
            out[rows[i]] = free[j - len(contested)]
    return out


def _profile(rows: dict[int, dict], *, pops: dict[str, np.ndarray], columns: list[str], n: int) -> dict:
    """cluster -> feature -> where its median sits in the population (percentile; recency inverted so that high
    means recent), plus its share of customers under ``SIZE``."""
    out = {}
    for c, row in rows.items():
        pct = {col: _pct_of(pops[col], row[col]) for col in columns}
        pct["recency"] = 1.0 - pct["recency"]
        out[c] = {**pct, SIZE: row["_size"] / n}
    return out
