"""Every dataset config reads the file layout it documents; bad files give one-line errors (exit 2)."""

import gzip
import hashlib
import http.server
import shutil
import threading
import zipfile
from functools import partial

import polars as pl
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rfmlab import pipeline
from rfmlab.cli import CONF_DIR
from rfmlab.data import load, synthetic
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import DataError
from rfmlab.features import FeatureSpec


def dataset_cfg(name, **overrides):
    ov = [f"dataset={name}"] + [f"dataset.{k}={v}" for k, v in overrides.items()]
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=ov)
    return OmegaConf.to_container(cfg.dataset, resolve=True)


@pytest.fixture(scope="module")
def retail():
    """A small synthetic log in the UCI Online Retail layout, and its customers after cleaning."""
    raw = synthetic.ecommerce(n_customers=60, seed=3)
    cfg = dataset_cfg("ecommerce", **{"synthetic.n_customers": 60, "synthetic.seed": 3})
    prep = pipeline.prepare(DatasetSpec.from_dict(cfg), features=FeatureSpec(transform=["log"]))
    return raw, prep.customers


def customers_from(cfg):
    return pipeline.prepare(DatasetSpec.from_dict(cfg), features=FeatureSpec(transform=["log"])).customers


def as_strings(raw, fmt="%Y-%m-%d %H:%M:%S"):
    return raw.with_columns(pl.col("InvoiceDate").dt.strftime(fmt), pl.col("CustomerID").cast(pl.String))


@pytest.mark.parametrize("suffix", ["csv", "csv.gz", "parquet", "xlsx"])
def test_online_retail_reads_every_file_kind(tmp_path, retail, suffix):
    raw, expected = retail
    path = tmp_path / f"online_retail.{suffix}"
    if suffix == "parquet":
        raw.write_parquet(path)
    elif suffix == "xlsx":
        raw.with_columns(pl.col("CustomerID").cast(pl.Float64)).write_excel(path)  # Excel stores ids as floats
    else:
        as_strings(raw).write_csv(tmp_path / "plain.csv")
        if suffix == "csv.gz":
            with open(tmp_path / "plain.csv", "rb") as f, gzip.open(path, "wb") as g:
                shutil.copyfileobj(f, g)
        else:
            shutil.move(tmp_path / "plain.csv", path)
    got = customers_from(dataset_cfg("online_retail", path=path))
    assert got.equals(expected)


def test_online_retail_ii_ecommerce_us_and_the_seed_stock_layout(tmp_path, retail):
    raw, expected = retail
    ii = as_strings(raw).rename({"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"})
    ii.write_csv(tmp_path / "ii.csv")
    assert customers_from(dataset_cfg("online_retail_ii", path=tmp_path / "ii.csv")).equals(expected)

    us = as_strings(raw, "%m/%d/%Y %H:%M").drop("Country")  # minutes only: recency in days is unchanged
    us.write_csv(tmp_path / "us.csv", separator="\t")
    assert customers_from(dataset_cfg("ecommerce_us", path=tmp_path / "us.csv")).equals(expected)

    # the stock-market seed study's file: Online Retail layout, ISO-8859-1, dates like 12/1/2010 8:26
    seed_dates = raw.with_columns(
        pl.format(
            "{}/{}/{} {}:{}",
            pl.col("InvoiceDate").dt.month(),
            pl.col("InvoiceDate").dt.day(),
            pl.col("InvoiceDate").dt.year(),
            pl.col("InvoiceDate").dt.hour(),
            pl.col("InvoiceDate").dt.strftime("%M"),
        ).alias("InvoiceDate"),
        pl.col("CustomerID").cast(pl.String),
        pl.lit("CAFÉ £").alias("Description"),
    )
    (tmp_path / "seed.csv").write_bytes(seed_dates.write_csv().encode("iso-8859-1"))
    got = customers_from(dataset_cfg("stock_market", path=tmp_path / "seed.csv"))
    assert got.select("customer_id", "recency", "frequency").equals(
        expected.select("customer_id", "recency", "frequency")
    )


def test_stock_market_reads_a_broker_trade_log(tmp_path):
    trades = synthetic.stock_market(n_customers=80, seed=2)
    trades.with_columns(pl.col("TradeTime").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(tmp_path / "t.csv")
    from_file = customers_from(dataset_cfg("stock_market", path=tmp_path / "t.csv"))
    embedded = customers_from(dataset_cfg("stock_market", **{"synthetic.n_customers": 80, "synthetic.seed": 2}))
    assert from_file.equals(embedded) and from_file.height == 80
    first = trades.filter(pl.col("AccountID") == from_file["customer_id"][0])
    assert from_file["frequency"][0] == first.height
    assert from_file["monetary"][0] == pytest.approx((first["Quantity"] * first["Price"]).sum())


def test_transactions_maps_any_columns(tmp_path):
    df = pl.DataFrame(
        {
            "client": ["a", "a", "b", "b", "b"],
            "day": ["03/01/2022", "10/01/2022", "05/01/2022", "05/01/2022", "31/01/2022"],
            "total": ["10.5", "4.5", "7", "3", "-2"],
            "qty": [1, 1, 2, 1, 1],
            "unit": [10.5, 4.5, 3.5, 3, 2],
        }
    )
    df.write_csv(tmp_path / "t.csv", separator=";")
    cfg = dataset_cfg(
        "transactions",
        path=tmp_path / "t.csv",
        separator="';'",
        **{"columns.customer": "client", "columns.date": "day", "columns.amount": "total", "date_format": "%d/%m/%Y"},
    )
    c = {r["customer_id"]: r for r in customers_from(cfg).iter_rows(named=True)}
    assert (c["a"]["frequency"], c["a"]["monetary"], c["a"]["recency"]) == (2, 15.0, 22)  # as of Feb 1st
    assert (c["b"]["frequency"], c["b"]["monetary"]) == (2, 8.0)  # each row a purchase; -2 is a return
    cfg = dataset_cfg(
        "transactions",
        path=tmp_path / "t.csv",
        separator="';'",
        **{"columns.customer": "client", "columns.date": "day", "columns.quantity": "qty", "columns.price": "unit"},
    )
    c = {r["customer_id"]: r for r in customers_from(cfg).iter_rows(named=True)}  # date format detected
    assert c["b"]["monetary"] == pytest.approx(7 + 3 + 2) and c["b"]["recency"] == 1


@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_checks_sha256_caches_and_extracts(tmp_path, http_dir, retail):
    raw, expected = retail
    root, base = http_dir
    as_strings(raw).write_csv(tmp_path / "Online Retail.csv")
    with zipfile.ZipFile(root / "online+retail.zip", "w") as z:
        z.write(tmp_path / "Online Retail.csv", "Online Retail.csv")
    digest = hashlib.sha256((root / "online+retail.zip").read_bytes()).hexdigest()
    dl = {
        "download.enabled": "true",
        "download.url": f"{base}/online+retail.zip",
        "download.sha256": digest,
        "download.member": "'Online Retail.csv'",
        "download.cache_dir": tmp_path / "cache",
    }
    assert customers_from(dataset_cfg("online_retail", **dl)).equals(expected)
    (root / "online+retail.zip").unlink()  # cached: no second download
    assert customers_from(dataset_cfg("online_retail", **dl)).equals(expected)
    bad = {**dl, "download.sha256": "0" * 64}
    with pytest.raises(DataError, match="not the expected 0000"):
        customers_from(dataset_cfg("online_retail", **bad))
    offline = {**dl, "download.url": "http://127.0.0.1:9/online+retail.zip", "download.cache_dir": tmp_path / "c2"}
    with pytest.raises(DataError, match="cannot download .* pass dataset.path=FILE"):
        customers_from(dataset_cfg("online_retail", **offline))


def test_date_format_detection():
    s = pl.Series(["12/1/2010 8:26", "1/13/2011 14:05"])
    assert load.detect_date_format(s) == "%m/%d/%Y %H:%M"
    assert load.detect_date_format(pl.Series(["2010-12-01 08:26:00"])) == "%Y-%m-%d %H:%M:%S"
    assert load.detect_date_format(pl.Series(["31/12/2010"])) == "%d/%m/%Y"
    assert load.detect_date_format(pl.Series(["soon", "later"])) is None


def test_gzipped_csv_in_a_legacy_encoding(tmp_path, retail):
    raw, expected = retail
    text = as_strings(raw).with_columns(pl.lit("CAFÉ £").alias("Description")).write_csv()
    with gzip.open(tmp_path / "legacy.csv.gz", "wb") as g:
        g.write(text.encode("iso-8859-1"))
    got = customers_from(dataset_cfg("online_retail", path=tmp_path / "legacy.csv.gz", encoding="iso-8859-1"))
    assert got.equals(expected)
    with pytest.raises(DataError, match="cannot read"):
        customers_from(dataset_cfg("online_retail", path=tmp_path / "legacy.csv.gz", encoding="no-such-codec"))
