from datetime import date

import polars as pl
import pytest
from conftest import ONLINE_RETAIL

from rfmlab.data import clean, load
from rfmlab.errors import ConfigError
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
    tx, _ = clean.clean(load.canonicalize(raw, s), {"cancellations": "net"})
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
    cust, as_of = rfm(tiny(), "2021-01-06")
    assert as_of == date(2021, 1, 6)
    assert cust["customer_id"].to_list() == ["A", "B"]
    a = cust.row(0, named=True)
    assert (a["recency"], a["frequency"], a["monetary"]) == (5, 1, 25.0)
    with pytest.raises(ConfigError, match="not an ISO date"):
        rfm(tiny(), "January")


def test_rfm_is_reproducible_eager_or_streamed_from_parquet(tmp_path):
    """The streaming engine sums in no fixed order: the customer table must still be bit-identical."""
    from conftest import ONLINE_RETAIL

    from rfmlab.data import synthetic

    raw = synthetic.ecommerce(n_customers=3000, seed=11)
    s = load.DatasetSpec.from_dict({"name": "t", "columns": ONLINE_RETAIL})
    tx, _ = clean.clean(load.canonicalize(raw, s), {})
    tx.write_parquet(tmp_path / "tx.parquet")
    eager, _ = rfm(tx)
    for _ in range(3):
        streamed, _ = rfm(pl.scan_parquet(tmp_path / "tx.parquet"))
        assert streamed.equals(eager)
