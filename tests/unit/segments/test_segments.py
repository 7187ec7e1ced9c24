from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from sklearn.cluster import KMeans

from rfmlab import segments
from rfmlab.cli import CONF_DIR
from rfmlab.errors import ConfigError

SCHEMES = {}
for f in sorted((Path(CONF_DIR) / "segments").glob("*.yaml")):
    SCHEMES.update(yaml.safe_load(f.read_text()))


def scheme(name):
    return segments.Scheme.from_dict(name, SCHEMES[name])


def table(**cols):
    n = len(next(iter(cols.values())))
    base = {
        "customer_id": [f"c{i}" for i in range(n)],
        "recency": [1] * n,
        "frequency": [1] * n,
        "monetary": [1.0] * n,
        "tenure_days": [1] * n,
        "avg_order_value": [1.0] * n,
        "return_rate": [0.0] * n,
    }
    return pl.DataFrame({**base, **cols})


def names(name, df):
    return segments.apply(scheme(name), df)[name].to_list()


def test_every_shipped_scheme_is_complete_and_has_actions():
    assert set(SCHEMES) == {"mean_split_8", "quartile", "rfm11", "four_tier", "value_risk"}
    for name in SCHEMES:
        s = scheme(name)
        produced = {s.assign_levels(c, raw={"return_rate": 0.0}) for c in s.combinations()} - {None}
        assert produced <= set(s.actions), (name, produced - set(s.actions))


def test_mean_split_8_by_hand():
    # means: recency 55, frequency 5.5, monetary 505 (recency: lower is better)
    df = table(recency=[10, 100, 10, 100], frequency=[10, 10, 1, 1], monetary=[1000.0, 10, 10, 1000])
    out = segments.apply(scheme("mean_split_8"), df)
    assert out["mean_split_8_code"].to_list() == ["111", "212", "122", "221"]
    assert out["mean_split_8"].to_list() == [
        "Important value customers",
        "Normal keeping customers",
        "Normal development customers",
        "Important retention customers",
    ]


def test_quartile_scores_codes_and_priority():
    df = table(recency=list(range(1, 9)), frequency=list(range(8, 0, -1)), monetary=[float(v) for v in range(8, 0, -1)])
    out = segments.apply(scheme("quartile"), df)
    assert out["quartile_code"].to_list() == ["111", "111", "222", "222", "333", "333", "444", "444"]
    assert out["quartile"].to_list() == ["Best Customers"] * 2 + ["Other"] * 4 + ["Lost Cheap Customers"] * 2
    s = scheme("quartile")
    assert s.assign_levels({"R": 2, "F": 1, "M": 1}) == "Loyal Customers"  # priority: Loyal before Big Spenders
    assert s.assign_levels({"R": 2, "F": 2, "M": 1}) == "Big Spenders"
    assert s.assign_levels({"R": 1, "F": 3, "M": 4}) == "Almost Lost"
    assert s.assign_levels({"R": 3, "F": 4, "M": 4}) == "Lost Customers"
    assert s.assign_levels({"R": 2, "F": 3, "M": 2}) == "Other"


def test_ties_share_a_score_under_both_quartile_methods():
    df = table(frequency=[1, 1, 1, 1, 5, 9], recency=[1, 2, 3, 4, 5, 6], monetary=[1.0, 2, 3, 4, 5, 6])
    codes = segments.apply(scheme("quartile"), df)["quartile_code"].to_list()
    # the study's way (method: percentile): q25 = q50 = 1 and q75 = 1 + 0.75 * (5 - 1) = 4 (linear, as pandas);
    # frequency 1 <= q25 scores 4 (worst), 5 and 9 above q75 score 1
    assert [c[1] for c in codes] == ["4"] * 4 + ["1", "1"]
    body = dict(SCHEMES["quartile"])
    body["scores"] = {k: {**v, "method": "quantile"} for k, v in body["scores"].items()}
    codes = segments.apply(segments.Scheme.from_dict("quartile", body), df)["quartile_code"].to_list()
    # average rank (method: quantile): the four 1s share rank 2.5 of 6 -> percentile 0.42 -> second quartile
    # from the bottom (score 3 of 4, 1 best); 5 and 9 have percentiles 0.83 and 1.0 -> top quartile (score 1)
    assert [c[1] for c in codes] == ["3"] * 4 + ["1", "1"]


def test_percentile_method_matches_pandas_cuts_and_scores_one_column():
    rng = np.random.default_rng(5)
    df = table(recency=rng.integers(0, 400, 300).tolist(), frequency=rng.geometric(0.4, 300).tolist(),
               monetary=rng.lognormal(5, 1, 300).round(2).tolist())  # fmt: skip
    codes = segments.apply(scheme("quartile"), df)["quartile_code"].to_list()
    q = {
        c: np.quantile(df[c].to_numpy().astype(float), [0.25, 0.5, 0.75]) for c in ("recency", "frequency", "monetary")
    }  # noqa: E501
    for row, code in zip(df.iter_rows(named=True), codes, strict=True):
        r = 1 + sum(row["recency"] > cut for cut in q["recency"])
        f = 4 - sum(row["frequency"] > cut for cut in q["frequency"])
        m = 4 - sum(row["monetary"] > cut for cut in q["monetary"])
        assert code == f"{r}{f}{m}"
    body = {"scores": {"FM": {"columns": ["frequency", "monetary"], "method": "percentile"}}, "rules": [],
            "fallback": "x"}  # fmt: skip
    with pytest.raises(ConfigError, match="method percentile scores one column"):
        segments.Scheme.from_dict("bad", body)


def test_rfm11_corners_and_combined_fm():
    # 25 customers: recency and (frequency, monetary) ranks on a 5 x 5 grid
    r, fm = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    df = table(
        recency=(100 - 20 * r.ravel()).tolist(),
        frequency=(1 + fm.ravel()).tolist(),
        monetary=(10.0 * (1 + fm.ravel())).tolist(),
    )
    out = segments.apply(scheme("rfm11"), df)
    got = dict(zip(out["rfm11_code"], out["rfm11"], strict=True))
    assert got["55"] == "Champions" and got["11"] == "Lost" and got["51"] == "Recent Customers"
    assert got["15"] == "Can't Lose Them" and got["33"] == "Customers Needing Attention"
    assert len(set(out["rfm11"])) == 11


def test_four_tier_and_value_risk():
    df = table(recency=[1, 100, 1, 100], frequency=[20, 20, 1, 1])
    assert names("four_tier", df) == ["Core/Loyal", "Slipping", "Faithful", "Lost"]
    df = table(
        recency=[1, 2, 300, 5, 6, 7, 8, 9, 10, 11],
        monetary=[1e4, 9e3, 8e3, 10, 20, 30, 40, 50, 60, 70],
        return_rate=[0.0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0],
    )
    got = names("value_risk", df)
    assert got[0] == "VIP" and got[1] == "High Return Rate" and got[2] == "At-Risk" and got[3] == "Regular"


def test_incomplete_schemes_are_refused_unless_they_name_a_fallback():
    grid = dict(SCHEMES["four_tier"])
    grid["grid"] = {k: v for k, v in grid["grid"].items() if k != "22"}
    with pytest.raises(ConfigError, match="leaves 1 score combination"):
        segments.Scheme.from_dict("broken", grid)
    rules = dict(SCHEMES["quartile"])
    rules = {**rules, "fallback": None}
    with pytest.raises(ConfigError, match="unassigned .* name a fallback"):
        segments.Scheme.from_dict("broken", rules)
    raw_only = {**SCHEMES["value_risk"], "fallback": None}
    with pytest.raises(ConfigError, match="unassigned"):
        segments.Scheme.from_dict("broken", raw_only)
    with pytest.raises(ConfigError, match="either a grid or rules"):
        segments.Scheme.from_dict("broken", {"scores": SCHEMES["four_tier"]["scores"]})


def customers_with_clusters(seed=0):
    rng = np.random.default_rng(seed)
    n = 600
    df = table(
        recency=rng.integers(1, 365, n).tolist(),
        frequency=rng.integers(1, 40, n).tolist(),
        monetary=rng.lognormal(5, 1, n).tolist(),
    )
    X = np.log1p(df.select("recency", "frequency", "monetary").to_numpy())
    return df.with_columns(pl.Series("cluster", KMeans(5, n_init=4, random_state=0).fit_predict(X)))


def test_cluster_names_do_not_depend_on_label_ids():
    df = customers_with_clusters()
    s = scheme("rfm11")
    names = segments.name_clusters(s, df)
    perm = {0: 3, 1: 0, 2: 4, 3: 1, 4: 2}
    permuted = df.with_columns(pl.col("cluster").replace_strict(perm))
    names_p = segments.name_clusters(s, permuted)
    by_customer = df["cluster"].replace_strict(names).to_list()
    by_customer_p = permuted["cluster"].replace_strict(names_p).to_list()
    assert by_customer == by_customer_p
    assert len(set(names.values())) == 5  # one distinct name per cluster (two share a natural name here)


def test_cluster_names_follow_the_profile_and_noise_is_outliers():
    df = table(
        recency=[1, 2, 3, 300, 310, 320, 150],
        frequency=[50, 60, 55, 1, 1, 2, 5],
        monetary=[9e3, 8e3, 7e3, 10, 12, 15, 100],
    ).with_columns(pl.Series("cluster", [0, 0, 0, 1, 1, 1, -1]))
    got = segments.name_clusters(scheme("rfm11"), df)
    # cluster 0's medians (recency 2, frequency 55, monetary 8000) sit at percentiles 0.29 / 0.86 / 0.86:
    # R=5, FM=5 -> Champions. Cluster 1's (310, 1, 12) sit at 0.86 / 0.21 / 0.29: R=1, FM=ceil(0.25*5)=2
    # -> Hibernating (R=1, FM=1 would be Lost)
    assert got == {0: "Champions", 1: "Hibernating", -1: "Outliers"}


def test_summary_and_contingency():
    df = customers_with_clusters().with_columns(pl.Series("seg", ["a", "b"] * 300))
    s = segments.summary(df, column="seg", actions={"a": "call them"})
    assert s["customers"].sum() == 600 and s["share"].sum() == pytest.approx(1)
    assert (
        s["revenue_share"].sum() == pytest.approx(1)
        and s.filter(pl.col("segment") == "a")["action"].item() == "call them"
    )
    ct = segments.contingency(df, "cluster", "seg")
    assert ct.select("a", "b").to_numpy().sum() == 600 and ct.height == 5
