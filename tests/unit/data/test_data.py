import hashlib
from datetime import datetime

import numpy as np
import polars as pl
import pytest
from helpers import ONLINE_RETAIL

from rfmlab import pipeline
from rfmlab.data import clean, load, synthetic
from rfmlab.errors import ConfigError, DataError
from rfmlab.features import rfm


def spec(**kw):
    return load.DatasetSpec.from_dict({"name": "t", "columns": ONLINE_RETAIL, **kw})


def test_synthetic_is_deterministic_and_seeded():
    a = synthetic.ecommerce(n_customers=300, seed=7)
    assert a.equals(synthetic.ecommerce(n_customers=300, seed=7))
    assert not a.equals(synthetic.ecommerce(n_customers=300, seed=8))
    b = synthetic.stock_market(n_customers=300, seed=7)
    assert b.equals(synthetic.stock_market(n_customers=300, seed=7))
    assert b.columns == ["AccountID", "TradeID", "TradeTime", "Symbol", "Side", "Quantity", "Price", "Fee"]
    assert b["AccountID"].n_unique() == 300


def test_synthetic_ecommerce_has_the_real_files_dirt_and_heterogeneity():
    df = synthetic.ecommerce(n_customers=2000, seed=1)
    assert df.columns == [
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ]
    assert df["CustomerID"].drop_nulls().n_unique() == 2000
    assert 0.05 < df["CustomerID"].null_count() / df.height < 0.3
    cancels = df.filter(pl.col("InvoiceNo").str.starts_with("C"))
    assert cancels.height > 0 and (cancels["Quantity"] < 0).all()
    assert (df["UnitPrice"] == 0).sum() > 0
    assert df.is_duplicated().sum() > 0
    span = df["InvoiceDate"].max() - df["InvoiceDate"].min()
    assert 350 <= span.days <= 380
    # heavy tails: the top 10% of customers bring far more than 10% of the revenue
    spend = (
        df.drop_nulls("CustomerID")
        .group_by("CustomerID")
        .agg((pl.col("Quantity") * pl.col("UnitPrice")).sum().alias("m"))["m"]
        .sort(descending=True)
    )
    assert spend.head(200).sum() / spend.sum() > 0.4
    tx, _ = clean.clean(load.canonical_in_memory(df, spec=spec()), policy={})
    cust, _ = rfm(tx)
    assert cust["frequency"].max() > 20 * cust["frequency"].median()
    assert (cust["recency"] > 200).mean() > 0.1  # churned customers exist
    assert (cust["tenure_days"] < 60).mean() > 0.05  # and new ones


def raw_log():
    return pl.DataFrame(
        {
            "InvoiceNo": ["1", "1", "2", "C3", "4", "4", "5", "6", "7"],
            "Quantity": [2, 1, 5, -1, 3, 3, 1, 1, 4],
            "InvoiceDate": [
                "2021-01-01 10:00:00",
                "2021-01-01 10:00:00",
                "2021-01-10 09:00:00",
                "2021-01-11 09:00:00",
                "2021-01-05 12:00:00",
                "2021-01-05 12:00:00",
                "2021-01-06 12:00:00",
                "2021-01-07 12:00:00",
                "2021-01-08 12:00:00",
            ],
            "UnitPrice": [10.0, 5.0, 2.0, 2.0, 1.0, 1.0, 0.0, 3.0, 2.5],
            "CustomerID": ["A", "A", "A", "A", "B", "B", "B", None, "C"],
        }
    )


def test_clean_counts_each_reason_and_keeps_net_returns():
    tx = load.canonical_in_memory(raw_log(), spec=spec())
    out, report = clean.clean(tx, policy={"cancellations": "net"})
    assert report.rows_in == 9
    assert report.dropped == {
        "missing_customer": 1,
        "missing_date": 0,
        "missing_amount": 0,
        "nonfinite_amount": 0,
        "duplicate": 1,
        "nonpositive_price": 1,
        "nonpositive_customer": 0,
    }
    assert report.rows_out == 6 and report.customers_out == 3 and report.returns_kept == 1
    out2, report2 = clean.clean(tx, policy={"cancellations": "drop"})
    assert report2.dropped["cancellation"] == 1 and report2.rows_out == 5


def test_clean_drops_customers_whose_returns_cancel_everything():
    df = pl.DataFrame(
        {
            "InvoiceNo": ["1", "C2", "3"],
            "Quantity": [1, -1, 2],
            "InvoiceDate": ["2021-01-01 10:00:00"] * 3,
            "UnitPrice": [5.0, 5.0, 1.0],
            "CustomerID": ["A", "A", "B"],
        }
    )
    out, report = clean.clean(load.canonical_in_memory(df, spec=spec()), policy={})
    assert report.dropped["nonpositive_customer"] == 2
    assert out["customer_id"].to_list() == ["B"]


def test_bad_inputs_name_the_problem():
    with pytest.raises(DataError, match=r"column 'CustomerID' .* has columns \['InvoiceNo'"):
        load.canonical_in_memory(raw_log().drop("CustomerID"), spec=spec())
    bad_amount = raw_log().with_columns(pl.col("Quantity").cast(pl.String).replace("5", "five"))
    with pytest.raises(DataError, match="non-numeric values such as 'five'"):
        load.canonical_in_memory(bad_amount, spec=spec())
    bad_date = raw_log().with_columns(pl.col("InvoiceDate").replace("2021-01-07 12:00:00", "yesterday"))
    with pytest.raises(DataError, match="unparseable date 'yesterday'"):
        load.canonical_in_memory(bad_date, spec=spec())
    with pytest.raises(ConfigError, match="unknown dataset option"):
        load.DatasetSpec.from_dict({"name": "t", "colums": {}})
    with pytest.raises(ConfigError, match="cancellations must be 'drop' or 'net'"):
        clean.clean(load.canonical_in_memory(raw_log(), spec=spec()), policy={"cancellations": "maybe"})
    only_guests = raw_log().with_columns(pl.lit(None, dtype=pl.String).alias("CustomerID"))
    with pytest.raises(DataError, match="no valid customer left after cleaning"):
        clean.clean(load.canonical_in_memory(only_guests, spec=spec()), policy={})


def test_read_files_and_errors(tmp_path):
    path = tmp_path / "log.csv"
    raw_log().write_csv(path)
    s = spec(path=str(path))
    raw = load.read(s)
    assert raw.height == 9 and load.canonical_in_memory(raw, spec=s)["timestamp"][0] == datetime(2021, 1, 1, 10)
    assert load.scan(s).digest == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(DataError, match="dataset file not found"):
        load.read(spec(path=str(tmp_path / "nope.csv")))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load.read(spec(path=str(tmp_path / "empty.csv")))


def test_amount_column_and_rows_without_invoice():
    df = pl.DataFrame(
        {"who": ["x", "x", "y"], "when": ["2021-03-01", "2021-03-02", "2021-03-02"], "value": [10.0, 5.0, 7.0]}
    )
    s = load.DatasetSpec.from_dict(
        {"name": "t", "columns": {"customer": "who", "date": "when", "amount": "value"}, "date_format": "%Y-%m-%d"}
    )
    tx, _ = clean.clean(load.canonical_in_memory(df, spec=s), policy=s.cleaning)
    cust, _ = rfm(tx)
    assert cust.filter(pl.col("customer_id") == "x")["frequency"].item() == 2  # each row is one purchase
    assert np.isclose(cust.filter(pl.col("customer_id") == "x")["monetary"].item(), 15.0)


def test_large_synthetic_logs_are_written_in_blocks_to_the_cache_and_read_back(tmp_path, monkeypatch):
    """Above synthetic.BLOCK customers the generator writes blocks (bounded memory); block 0 is the small log."""
    monkeypatch.setenv("RFMLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(synthetic, "BLOCK", 300)
    s = load.DatasetSpec.from_dict({"name": "e", "kind": "ecommerce", "columns": ONLINE_RETAIL,
                                    "synthetic": {"n_customers": 700, "seed": 3}})  # fmt: skip
    src = load.scan(s)
    parts = sorted((tmp_path / "synthetic").glob("ecommerce-700-*/part-*.parquet"))
    assert len(parts) == 3
    log = src.lf.collect()
    assert log["CustomerID"].drop_nulls().n_unique() == 700  # no customer shared between blocks
    first = pl.read_parquet(parts[0])
    assert first.equals(synthetic.ecommerce(n_customers=300, seed=3))
    invoices = [set(pl.read_parquet(p)["InvoiceNo"]) for p in parts]
    assert not (invoices[0] & invoices[1]) and not (invoices[1] & invoices[2])
    again = load.scan(s)  # from the cache, same digest
    assert again.digest == src.digest and again.lf.collect().equals(log)
    customers, _, report, _ = pipeline.customer_table(s)
    assert customers.height == report.customers_out > 600


def _streamed_and_eager(tmp_path, df, **kw):
    path = tmp_path / "log.parquet"
    df.write_parquet(path)
    s = spec(path=str(path), **kw)
    customers, as_of, report, _ = pipeline.customer_table(s)
    tx, ref_report = clean.clean(load.canonical_in_memory(df, spec=s), policy=s.cleaning)
    ref, ref_as_of = rfm(tx)
    return customers, report, ref, ref_report


@pytest.mark.parametrize("duplicates", ["drop", "keep"])
def test_streaming_path_equals_in_memory_with_missing_invoices_and_repeats(tmp_path, duplicates):
    """Lines without an invoice id are purchases of their own; exact repeats come off sums and counts."""
    df = raw_log().with_columns(pl.col("InvoiceNo").replace({"6": None, "7": ""}))
    df = pl.concat([df, df.slice(0, 3), df.filter(pl.col("InvoiceNo") == "")])  # repeats, one without invoice
    got, report, ref, ref_report = _streamed_and_eager(tmp_path, df, cleaning={"duplicates": duplicates})
    assert got.equals(ref) and report.to_dict() == ref_report.to_dict()
    assert report.dropped.get("duplicate", 0) == (1 + 3 + 1 if duplicates == "drop" else 0)  # raw_log has one


def test_streaming_path_refuses_unreadable_values_naming_line_and_value(tmp_path):
    df = raw_log().with_columns(pl.col("Quantity").cast(pl.String).replace("5", "five"))
    with pytest.raises(DataError, match=r"'Quantity' .* such as 'five' \(line 3; 1 line"):
        _streamed_and_eager(tmp_path, df)
    bad_date = raw_log().with_columns(pl.col("InvoiceDate").replace("2021-01-06 12:00:00", "yesterday"))
    with pytest.raises(DataError, match=r"unparseable date 'yesterday' \(line 7\)"):
        _streamed_and_eager(tmp_path, bad_date)
