"""The real UCI files in ../shared/data: counts, cleaning cross-checked by plain Python, an end-to-end run."""

import csv
import gzip
import hashlib
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient

from rfmlab import features, pipeline
from rfmlab.data import clean, load
from rfmlab.features import FeatureSpec

pytestmark = pytest.mark.realdata

FILES = {
    "online_retail": ("online_retail.csv.gz", 541_909, 4_372, "InvoiceNo", "UnitPrice", "CustomerID"),
    "online_retail_ii": ("online_retail_II_2009_2010.csv.gz", 525_461, 4_383, "Invoice", "Price", "Customer ID"),
}


def independent_rfm(path, inv, price_col, cust):
    """Plain-Python cleaning and RFM, written from the documented rules, not from rfmlab's code."""
    seen, rows, n = set(), [], 0
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        idx = {c: i for i, c in enumerate(header)}
        for rec in reader:
            n += 1
            if not rec[idx[cust]].strip():
                continue
            key = tuple(rec)
            if key in seen:
                continue
            seen.add(key)
            price = float(rec[idx[price_col]])
            if price <= 0:
                continue
            rows.append(
                (
                    rec[idx[cust]].strip(),
                    rec[idx[inv]].strip(),
                    rec[idx["InvoiceDate"]],
                    float(rec[idx["Quantity"]]) * price,
                )
            )
    net = defaultdict(float)
    bought = set()
    for c, i, _, amount in rows:
        net[c] += amount
        if not (i.startswith("C") or amount < 0):
            bought.add(c)
    keep = {c for c in net if c in bought and round(net[c], 2) > 0}
    last_day = max(datetime.strptime(d, "%Y-%m-%d %H:%M:%S") for _, _, d, _ in rows).date()
    as_of = date.fromordinal(last_day.toordinal() + 1)
    out = {}
    for c, i, d, amount in rows:
        if c not in keep:
            continue
        o = out.setdefault(c, {"inv": set(), "last": None, "monetary": 0.0})
        o["monetary"] += amount
        if not (i.startswith("C") or amount < 0):
            o["inv"].add(i)
            day = datetime.strptime(d, "%Y-%m-%d %H:%M:%S").date()
            o["last"] = day if o["last"] is None or day > o["last"] else o["last"]
    return n, out, as_of


@pytest.mark.parametrize("name", list(FILES))
def test_real_file_counts_and_cleaning_match_an_independent_computation(shared_data, name):
    fname, n_rows, n_customers_raw, inv, price, cust = FILES[name]
    path = shared_data / fname
    spec = load.DatasetSpec.from_dict({**_cfg(name), "path": str(path)})
    raw = load.read(spec)
    assert raw.height == n_rows
    assert raw[cust].drop_nulls().n_unique() == n_customers_raw
    prep = pipeline.prepare(spec, features=FeatureSpec(transform=["log"]))
    n, expected, as_of = independent_rfm(path, inv, price, cust)
    assert n == n_rows and prep.analysis_date == as_of
    got = {r["customer_id"]: r for r in prep.customers.iter_rows(named=True)}
    assert set(got) == set(expected) and prep.report.customers_out == len(expected)
    for c, e in expected.items():
        assert got[c]["frequency"] == len(e["inv"])
        assert got[c]["monetary"] == pytest.approx(e["monetary"], rel=1e-9, abs=1e-6)
        assert got[c]["recency"] == (as_of - e["last"]).days
    assert prep.report.rows_in == n_rows
    assert prep.report.rows_in - sum(prep.report.dropped.values()) == prep.report.rows_out


def _cfg(name):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from rfmlab.cli import CONF_DIR

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return OmegaConf.to_container(
            compose(config_name="config", overrides=[f"dataset={name}"]).dataset, resolve=True
        )


@pytest.mark.slow
def test_end_to_end_run_on_online_retail(shared_data, tmp_path):
    path = shared_data / "online_retail.csv.gz"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    res = run_cli(
        "dataset=online_retail",
        f"dataset.path={path}",
        "search.n_trials=8",
        "plots.max_points=500",
        f"tracking.uri={uri}",
        f"search.storage=sqlite:///{tmp_path / 'optuna.db'}",
        cwd=ROOT,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert "541,909 rows in" in res.stdout and "135,080 missing customer" in res.stdout
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("online_retail")  # named after the dataset
    (parent,) = [r for r in client.search_runs([exp.experiment_id]) if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FINISHED"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sha == "24bb5fccf34d11309a5b1462ea4b875ebf120ec76fb38b2df2ddc308656f0623"  # SOURCES.md
    assert parent.data.params["data.digest"] == sha
    (ds,) = parent.inputs.dataset_inputs
    assert ds.dataset.name == "online_retail" and sha.startswith(ds.dataset.digest)
    assert str(path.resolve()) in ds.dataset.source
    # 4,317: the count the independent computation above reproduces
    assert parent.data.metrics["rows_in"] == 541_909 and parent.data.metrics["n_customers"] == 4_317


def eager_customer_table(spec):
    """Today's in-memory path: the whole file read, canonicalised, cleaned and aggregated in memory."""
    as_of = features.parse_date(spec.analysis_date)
    tx, report = clean.clean(load.canonical_in_memory(load.read(spec), spec=spec), policy=spec.cleaning, as_of=as_of)
    customers, as_of = features.rfm(tx, analysis_date=as_of)
    return customers, as_of, report


@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("variant", ["as_configured", "mid_year_cancellations_dropped"])
def test_streaming_main_path_equals_the_in_memory_path_on_real_files(shared_data, name, variant):
    cfg = _cfg(name)
    if variant != "as_configured":  # half a year in: lines after it are counted under their own reason
        mid = {"online_retail": "2011-06-01", "online_retail_ii": "2010-06-01"}[name]
        cfg = {**cfg, "analysis_date": mid, "cleaning": {**cfg["cleaning"], "cancellations": "drop"}}
    spec = load.DatasetSpec.from_dict({**cfg, "path": str(shared_data / FILES[name][0])})
    customers, as_of, report, _ = pipeline.customer_table(spec)
    ref_customers, ref_as_of, ref_report = eager_customer_table(spec)
    assert as_of == ref_as_of
    assert report.to_dict() == ref_report.to_dict()
    assert report.dropped["duplicate"] > 1000  # both files repeat thousands of lines
    assert customers.equals(ref_customers)


@pytest.fixture(scope="module")
def retail_customers(shared_data):
    """The Online Retail customer table as the online_retail config builds it (once for the scheme tests)."""
    spec = load.DatasetSpec.from_dict({**_cfg("online_retail"), "path": str(shared_data / FILES["online_retail"][0])})
    return pipeline.customer_table(spec)[0]


def _study_quartile_scores(customers):
    """The stock-market study's scoring, as its notebook writes it (pandas, quantiles interpolated linearly)."""
    import numpy as np

    df = customers.select("customer_id", "recency", "frequency", "monetary").to_pandas().set_index("customer_id")
    quantiles = df.quantile(q=[0.25, 0.5, 0.75]).to_dict()

    def r_score(x, p, d):
        if x <= d[p][0.25]:
            return 1
        elif x <= d[p][0.50]:
            return 2
        elif x <= d[p][0.75]:
            return 3
        return 4

    def fm_score(x, p, d):
        if x <= d[p][0.25]:
            return 4
        elif x <= d[p][0.50]:
            return 3
        elif x <= d[p][0.75]:
            return 2
        return 1

    df["R"] = df["recency"].apply(r_score, args=("recency", quantiles))
    df["F"] = df["frequency"].apply(fm_score, args=("frequency", quantiles))
    df["M"] = df["monetary"].apply(fm_score, args=("monetary", quantiles))
    df["RFMScore"] = df.R.map(str) + df.F.map(str) + df.M.map(str)
    rules = [  # the study's segments, in the scheme's priority order
        ("Best Customers", df["RFMScore"] == "111"), ("Loyal Customers", df["F"] == 1),
        ("Big Spenders", df["M"] == 1), ("Almost Lost", df["RFMScore"] == "134"),
        ("Lost Customers", df["RFMScore"] == "344"), ("Lost Cheap Customers", df["RFMScore"] == "444"),
    ]  # fmt: skip
    df["segment"] = np.select([m for _, m in rules], [n for n, _ in rules], default="Other")
    return df


def test_quartile_scheme_reproduces_the_stock_market_studys_scoring(retail_customers):
    import yaml

    from rfmlab import segments
    from rfmlab.cli import CONF_DIR

    customers = retail_customers
    body = yaml.safe_load(Path(f"{CONF_DIR}/segments/quartile.yaml").read_text())["quartile"]
    ours = segments.apply(segments.Scheme.from_dict("quartile", body), customers).to_pandas().set_index("customer_id")
    study = _study_quartile_scores(customers).loc[ours.index]
    assert (ours["quartile_code"] == study["RFMScore"]).all()  # every customer's R, F and M score
    assert (ours["quartile"] == study["segment"]).all()
    assert (ours["quartile"] == "Best Customers").sum() == (study["RFMScore"] == "111").sum() == 454
    # the average-rank way stays an option of the scheme file, and differs on this data
    body["scores"] = {k: {**v, "method": "quantile"} for k, v in body["scores"].items()}
    ranked = segments.apply(segments.Scheme.from_dict("quartile", body), customers)
    assert (ranked["quartile"] == "Best Customers").sum() == 493


def _pandas_codes(name, df):
    """Each remaining scheme's rule as stated in its YAML, in plain pandas (codes as the scheme builds them)."""
    import numpy as np

    def quintile(s):  # ceil(5 x average-rank percentile), 1 = lowest values
        return np.ceil(s.rank(method="average", pct=True) * 5).clip(1, 5).astype(int)

    if name == "mean_split_8":
        r = np.where(df.recency < df.recency.mean(), 1, 2)
        f = np.where(df.frequency > df.frequency.mean(), 1, 2)
        m = np.where(df.monetary > df.monetary.mean(), 1, 2)
        return [f"{a}{b}{c}" for a, b, c in zip(r, f, m, strict=True)]
    if name == "four_tier":
        r = np.where(df.recency <= df.recency.median(), 1, 2)
        f = np.where(df.frequency > df.frequency.median(), 1, 2)
        return [f"{a}{b}" for a, b in zip(r, f, strict=True)]
    r = 6 - quintile(df.recency)  # 5 = most recent
    if name == "rfm11":
        fm_pct = (df.frequency.rank(pct=True) + df.monetary.rank(pct=True)) / 2
        fm = np.ceil(fm_pct * 5).clip(1, 5).astype(int)
        return [f"{a}{b}" for a, b in zip(r, fm, strict=True)]
    return [f"{a}{b}" for a, b in zip(r, quintile(df.monetary), strict=True)]  # value_risk


@pytest.mark.parametrize("name", ["mean_split_8", "four_tier", "rfm11", "value_risk"])
def test_other_schemes_follow_the_rule_their_yaml_states(retail_customers, name):
    import yaml

    from rfmlab import segments
    from rfmlab.cli import CONF_DIR

    customers = retail_customers
    scheme = segments.Scheme.from_dict(name, yaml.safe_load(Path(f"{CONF_DIR}/segments/{name}.yaml").read_text())[name])
    ours = segments.apply(scheme, customers)
    expected = _pandas_codes(name, customers.to_pandas())
    assert ours[f"{name}_code"].to_list() == expected
    assert ours[name].n_unique() >= 3
