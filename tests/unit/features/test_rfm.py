from datetime import date, datetime

import polars as pl
import pytest
from helpers import ONLINE_RETAIL

from rfmlab.data import clean, load
from rfmlab.errors import ConfigError, DataError
from rfmlab.features import rfm


def tiny():
    """A hand-written log; the expected RFM values below are worked out by hand."""
    raw = pl.DataFrame(
        {
            "InvoiceNo": ["1", "1", "2", "C3", "4", "5"],
            "Quantity": [2, 1, 5, -1, 3, 1],
            "InvoiceDate": [
                "2021-01-01 10:00:00",
                "2021-01-01 10:00:00",
                "2021-01-10 09:00:00",
                "2021-01-11 09:00:00",
                "2021-01-05 12:00:00",
                "2021-01-20 18:30:00",
            ],
            "UnitPrice": [10.0, 5.0, 2.0, 2.0, 1.0, 4.0],
            "CustomerID": ["A", "A", "A", "A", "B", "C"],
        }
    )
    s = load.DatasetSpec.from_dict(
        {
            "name": "t",
            "columns": ONLINE_RETAIL,
        }
    )
    tx, _ = clean.clean(load.canonical_in_memory(raw, spec=s), policy={"cancellations": "net"})
    return tx


def test_rfm_by_hand():
    cust, as_of = rfm(tiny())
    assert as_of == date(2021, 1, 21)  # the day after the last transaction
    rows = {r["customer_id"]: r for r in cust.iter_rows(named=True)}
    # A: invoices 1 (2*10 + 1*5 = 25) and 2 (5*2 = 10), return C3 (-2): last purchase Jan 10
    a = rows["A"]
    assert (a["recency"], a["frequency"], a["monetary"]) == (11, 2, 33.0)
    assert a["tenure_days"] == 20 and a["avg_order_value"] == 16.5
    assert a["return_rate"] == pytest.approx(2 / 35)
    b = rows["B"]
    assert (b["recency"], b["frequency"], b["monetary"], b["tenure_days"]) == (16, 1, 3.0, 16)
    c = rows["C"]
    assert (c["recency"], c["frequency"], c["monetary"], c["return_rate"]) == (1, 1, 4.0, 0.0)
    assert cust.columns == [
        "customer_id",
        "recency",
        "frequency",
        "monetary",
        "tenure_days",
        "avg_order_value",
        "return_rate",
    ]


def test_rfm_with_past_analysis_date_ignores_later_transactions():
    cust, as_of = rfm(tiny(), analysis_date="2021-01-06")
    assert as_of == date(2021, 1, 6)
    assert cust["customer_id"].to_list() == ["A", "B"]
    a = cust.row(0, named=True)
    assert (a["recency"], a["frequency"], a["monetary"]) == (5, 1, 25.0)
    with pytest.raises(ConfigError, match="not an ISO date"):
        rfm(tiny(), analysis_date="January")


def synthetic_tx(n_customers: int = 1500, seed: int = 5) -> pl.DataFrame:
    from rfmlab.data import synthetic

    raw = synthetic.ecommerce(n_customers=n_customers, seed=seed)
    s = load.DatasetSpec.from_dict({"name": "t", "columns": ONLINE_RETAIL})
    return clean.clean(load.canonical_in_memory(raw, spec=s), policy={"cancellations": "net"})[0]


def test_rfm_is_reproducible_eager_or_streamed_from_parquet(tmp_path):
    """The streaming engine sums in no fixed order: the customer table must still be bit-identical, whether
    invoices are counted by hashing (the log as generated) or by runs (the same log in invoice order)."""
    tx = synthetic_tx(3000, seed=11)
    for name, log in {"hashed": tx, "runs": tx.sort("invoice_id", maintain_order=True)}.items():
        log.write_parquet(tmp_path / f"{name}.parquet")
        eager, _ = rfm(log)
        for _ in range(3):
            streamed, _ = rfm(pl.scan_parquet(tmp_path / f"{name}.parquet"))
            assert streamed.equals(eager), name


def frequency_by_hand(tx: pl.DataFrame) -> dict[str, int]:
    """Distinct purchase invoices per customer, with Python sets: the reference the fast and exact ways must match."""
    invoices: dict[str, set] = {}
    for c, i, r in zip(tx["customer_id"], tx["invoice_id"], tx["is_return"], strict=True):
        if not r:
            invoices.setdefault(c, set()).add(i)
    return {c: len(s) for c, s in invoices.items()}


def split_lines(tx: pl.DataFrame) -> int:
    from rfmlab.features._rfm import _per_customer

    return int(_per_customer(tx.lazy(), by_runs=True)["_split"].sum())


def test_frequency_is_exact_whatever_the_line_order(monkeypatch):
    tx = synthetic_tx()
    ordered = tx.sort("invoice_id", maintain_order=True)  # every invoice's lines together, ids ascending
    multi = ordered.group_by("invoice_id").len().filter(pl.col("len") > 1)["invoice_id"].sort()
    first_line = ordered.with_row_index().filter(pl.col("invoice_id") == multi[0])["index"][0]
    moved = pl.concat([ordered.slice(0, first_line), ordered.slice(first_line + 1), ordered.slice(first_line, 1)])
    other = ordered.filter(pl.col("customer_id") != ordered["customer_id"][first_line])["customer_id"][0]
    shared = ordered.with_columns(  # one line of a multi-line invoice billed to another customer
        pl.when(pl.int_range(pl.len()) == first_line).then(pl.lit(other)).otherwise("customer_id").alias("customer_id")
    )
    layouts = {
        "invoice order": (ordered, True),
        "as generated (cancellations interleaved)": (tx, False),
        "shuffled": (tx.sample(fraction=1.0, shuffle=True, seed=1), False),
        "one line moved to the end": (moved, False),
        "an invoice shared by two customers": (shared, False),
    }
    reference, _ = rfm(ordered)
    for name, (log, runs_suffice) in layouts.items():
        assert (split_lines(log) == 0) is runs_suffice, name
        cust, _ = rfm(log)
        freq = dict(cust.select("customer_id", "frequency").rows())
        assert freq == frequency_by_hand(log), name
        if name != "an invoice shared by two customers":
            assert cust.equals(reference), name
    assert frequency_by_hand(shared)[other] == frequency_by_hand(ordered)[other] + 1

    # in order for the probed head, out of order further down: the run count catches it, the count stays exact
    monkeypatch.setattr("rfmlab.features.PROBE_ROWS", 50)
    cust, _ = rfm(moved)
    assert dict(cust.select("customer_id", "frequency").rows()) == frequency_by_hand(moved)


def test_default_analysis_date_follows_the_last_line_even_a_return():
    tx = pl.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "invoice_id": ["1", "2", "C3"],
            "timestamp": [datetime(2021, 1, 1, 9), datetime(2021, 1, 5, 9), datetime(2021, 2, 1, 9)],
            "amount": [10.0, 20.0, -5.0],
            "is_return": [False, False, True],
        }
    )
    cust, as_of = rfm(tx)
    assert as_of == date(2021, 2, 2)
    assert cust.select("customer_id", "recency", "frequency").rows() == [("a", 28, 2)]  # b only returned
    assert rfm(tx.clear(), analysis_date="2021-03-01")[0].height == 0
    with pytest.raises(DataError, match="log is empty"):
        rfm(tx.clear())


def test_a_line_without_invoice_id_is_a_purchase_of_its_own():
    raw = pl.DataFrame(
        {
            "InvoiceNo": ["7", "7", None, ""],
            "Quantity": [1, 1, 1, 1],
            "InvoiceDate": ["2021-01-01 10:00:00"] * 4,
            "UnitPrice": [1.0, 2.0, 3.0, 4.0],
            "CustomerID": ["A"] * 4,
        }
    )
    s = load.DatasetSpec.from_dict({"name": "t", "columns": ONLINE_RETAIL})
    tx = load.canonical_in_memory(raw, spec=s)
    assert tx["invoice_id"].to_list() == ["7", "7", "#row2", "#row3"]
    cust, _ = rfm(tx.drop("price", "_duplicate"))
    assert (cust["frequency"][0], cust["monetary"][0]) == (3, 10.0)
