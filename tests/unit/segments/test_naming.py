"""One distinct business name per cluster (issue 23): natural names where nothing competes, a one-to-one assignment
where clusters share one, qualifiers (never bare numbers) for the clusters still sharing a name."""

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from sklearn.cluster import KMeans

from rfmlab import pipeline, segments
from rfmlab.cli import CONF_DIR
from rfmlab.segments import _naming

NUMBERED = re.compile(r" \d+$")


def scheme(name):
    body = yaml.safe_load((Path(CONF_DIR) / "segments" / f"{name}.yaml").read_text())[name]
    return segments.Scheme.from_dict(name, body)


def table(**cols):
    n = len(next(iter(cols.values())))
    base = {"customer_id": [f"c{i}" for i in range(n)], "return_rate": [0.0] * n}
    return pl.DataFrame({**base, **cols})


def assert_well_named(names: dict[int, str], scheme_name: str, k: int):
    """k distinct names, no digit anywhere, each a segment of the scheme, bare or with a qualifier."""
    base = set(_naming._scheme_names(scheme(scheme_name)))
    named = {c: n for c, n in names.items() if c != -1}
    assert len(named) == k and len(set(named.values())) == k, names
    assert not [n for n in named.values() if NUMBERED.search(n) or re.search(r"\d", n)], names
    assert all(n.split(": ", 1)[0] in base for n in named.values()), names


def natural_names(s, df):
    """cluster -> the segment of its median profile (what the numbering rule numbered when repeated)."""
    rfm = ("recency", "frequency", "monetary")
    rows = df.filter(pl.col("cluster") != -1).group_by("cluster").agg(pl.col(*rfm).median())
    pops = {c: df[c].to_numpy().astype(float) for c in rfm}
    return {r["cluster"]: _naming._natural_name(s, r, pops=pops) for r in rows.iter_rows(named=True)}


def two_kinds_of_champions(seed=0):
    """900 ordinary customers in two clusters (recent-ish / lapsed), and two champion-like clusters of 100: one of
    very big spenders buying 6-8 times (cluster 2), one buying 20-29 times with modest spend (cluster 3)."""
    rng = np.random.default_rng(seed)
    n_rest, n = 900, 100
    rec = np.concatenate([rng.integers(20, 365, n_rest), rng.integers(1, 15, n), rng.integers(1, 15, n)])
    freq = np.concatenate([rng.integers(1, 6, n_rest), rng.integers(6, 9, n), rng.integers(20, 30, n)])
    mon = np.concatenate([rng.lognormal(5, 1, n_rest), rng.uniform(5000, 9000, n), rng.uniform(900, 1500, n)])
    cluster = np.concatenate([(rec[:n_rest] > 180).astype(int), np.full(n, 2), np.full(n, 3)])
    df = table(recency=rec.tolist(), frequency=freq.tolist(), monetary=mon.tolist())
    return df.with_columns(pl.Series("cluster", cluster))


def test_two_champion_clusters_get_qualifiers_that_say_how_they_differ():
    df = two_kinds_of_champions()
    s = scheme("rfm11")
    natural = natural_names(s, df)
    assert natural[2] == natural[3] == "Champions"  # what used to become "Champions" and "Champions 2"
    names = segments.name_clusters(s, df)
    assert_well_named(names, "rfm11", 4)
    assert names[2] == "Champions: high spend" and names[3] == "Champions: frequent"
    assert names[0] == natural[0] and names[1] == natural[1]  # uncontested names stay


def test_more_clusters_than_names_gives_unique_names_without_numbers():
    rng = np.random.default_rng(1)
    n = 1500
    df = table(
        recency=rng.integers(1, 365, n).tolist(),
        frequency=rng.integers(1, 40, n).tolist(),
        monetary=rng.lognormal(5, 1, n).tolist(),
    )
    X = np.log1p(df.select("recency", "frequency", "monetary").to_numpy())
    df = df.with_columns(pl.Series("cluster", KMeans(14, n_init=2, random_state=0).fit_predict(X)))
    names = segments.name_clusters(scheme("four_tier"), df)  # 4 names for 14 clusters
    assert_well_named(names, "four_tier", 14)
    assert all(": " in n for n in names.values())  # every name is shared, so every one is qualified
    for other in ("quartile", "mean_split_8", "value_risk", "rfm11"):
        assert_well_named(segments.name_clusters(scheme(other), df), other, 14)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (4, {0: "Loyal Customers", 1: "About to Sleep", 2: "Potential Loyalists", 3: "Champions"}),
        (5, {0: "Champions", 1: "At Risk", 2: "Potential Loyalists", 3: "Loyal Customers", 4: "Hibernating"}),
    ],
)
def test_names_that_do_not_compete_are_the_natural_names_as_before(small_prepared, k, expected):
    """The default fit (KMeans k=5, n_init 10) of the embedded data: distinct natural names, unchanged (``expected``
    is what the numbering rule of commit 9e95d5f gave)."""
    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": k, "n_init": 10}, seed=7)
    assert fit.names == expected


def test_the_assignment_is_globally_best_not_greedy():
    """Clusters 0 and 1 both look like Champions. Greedy (cluster 0 first, it has the most revenue) gives 0 its
    best name, Loyal Customers (0.50 > 0.45), and leaves Champions to 1: 0.50 + 0.40 = 0.90 of their customers
    carry their names. The assignment keeps Champions for 0 and gives Loyal Customers to 1: 0.45 + 0.48 = 0.93."""
    natural = {0: "Champions", 1: "Champions", 2: "Lost"}
    share = {
        0: {"Champions": 0.45, "Loyal Customers": 0.50, "Potential Loyalists": 0.05},
        1: {"Champions": 0.40, "Loyal Customers": 0.48, "Potential Loyalists": 0.12},
        2: {"Lost": 1.0},
    }
    names = ["Champions", "Loyal Customers", "Potential Loyalists", "Lost"]
    got = _naming.assign(natural, share, names=names, order=[0, 1, 2])
    assert got == {0: "Champions", 1: "Loyal Customers", 2: "Lost"}
    # a free name that fits worse than the natural one is not taken: both keep Champions (qualified later)
    worse = {0: {"Champions": 0.6, "Loyal Customers": 0.3}, 1: {"Champions": 0.7, "Potential Loyalists": 0.2}}
    assert _naming.assign(natural, {**share, **worse}, names=names, order=[0, 1, 2])[1] == "Champions"
    # a contested name stays with one of its claimants even when both fit another name better
    both_leave = {0: {"Champions": 0.3, "Loyal Customers": 0.7}, 1: {"Champions": 0.3, "Potential Loyalists": 0.7}}
    got = _naming.assign(natural, {**share, **both_leave}, names=names, order=[1, 0, 2])
    assert sorted([got[0], got[1]]) in (["Champions", "Potential Loyalists"], ["Champions", "Loyal Customers"])


def test_a_claimant_that_another_name_fits_better_takes_it_and_noise_stays_outliers():
    """Random customers, KMeans k=5: the median customers of two clusters are both Customers Needing Attention
    (the numbering rule said "Customers Needing Attention 2"); more of one cluster's customers are Hibernating, a
    name no cluster has, so it takes that name and neither needs a qualifier."""
    rng = np.random.default_rng(0)
    n = 600
    df = table(
        recency=rng.integers(1, 365, n).tolist(),
        frequency=rng.integers(1, 40, n).tolist(),
        monetary=rng.lognormal(5, 1, n).tolist(),
    )
    X = np.log1p(df.select("recency", "frequency", "monetary").to_numpy())
    labels = KMeans(5, n_init=4, random_state=0).fit_predict(X)
    labels[:3] = -1
    df = df.with_columns(pl.Series("cluster", labels))
    s = scheme("rfm11")
    natural = natural_names(s, df)
    names = segments.name_clusters(s, df)
    assert names[-1] == "Outliers"
    assert_well_named(names, "rfm11", 5)
    assert len(set(natural.values())) == 4 and all(": " not in n for n in names.values())
    (moved,) = [c for c in natural if names[c] != natural[c]]
    shares = _naming._shares(s, df, cluster_col="cluster")
    assert names[moved] not in natural.values() and shares[moved][names[moved]] > shares[moved][natural[moved]]


def test_clusters_alike_in_every_feature_are_told_apart_by_size_then_in_words():
    same = {"recency": [5, 6, 7], "frequency": [40, 50, 45], "monetary": [9e3, 8e3, 7e3]}
    rest = {"recency": [200, 250, 300], "frequency": [1, 2, 1], "monetary": [50.0, 60.0, 40.0]}

    def frame(sizes):
        cols = {c: same[c] * sizes[0] + same[c] * sizes[1] + rest[c] * 3 for c in same}
        labels = [0] * 3 * sizes[0] + [1] * 3 * sizes[1] + [2] * 9
        return table(**cols).with_columns(pl.Series("cluster", labels))

    names = segments.name_clusters(scheme("rfm11"), frame((4, 2)))
    assert (names[0], names[1]) == ("Champions: larger", "Champions: smaller")
    names = segments.name_clusters(scheme("rfm11"), frame((3, 3)))
    assert {names[0], names[1]} == {"Champions: first", "Champions: second"}


def test_segment_summary_gives_a_qualified_name_its_segment_action():
    df = two_kinds_of_champions()
    df = df.with_columns(pl.col("cluster").replace_strict(segments.name_clusters(scheme("rfm11"), df)).alias("seg"))
    actions = scheme("rfm11").actions
    out = segments.summary(df, column="seg", actions=actions)
    assert out.filter(pl.col("segment") == "Champions: frequent")["action"].item() == actions["Champions"]


@pytest.mark.realdata
def test_online_retail_ii_clusters_that_were_numbered_get_distinct_names(shared_data):
    """On UCI Online Retail II (2009-2010), KMeans k=5 named two clusters Champions and Champions 2 (k=4: Loyal
    Customers and Loyal Customers 2)."""
    import rfmlab

    customers, _ = rfmlab.customer_table(shared_data / "online_retail_II_2009_2010.csv.gz", dataset="online_retail_ii")
    for k in (4, 5):
        model = rfmlab.RFMSegmenter(params={"n_clusters": k}, random_state=42, stability=False).fit(customers)
        assert_well_named(model.segment_names_, "rfm11", k)
        assert set(model.customers_["segment"]) == set(model.segment_names_.values())
