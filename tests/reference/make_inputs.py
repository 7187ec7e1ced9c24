"""Write the input matrices that tests/reference/reference.R and kneed_values.py read.

Standalone on purpose: numpy, polars and scikit-learn only, no rfmlab import, so the
reference values do not depend on the code they are meant to check.

Writes tests/reference/inputs/{uci_customers,blobs,uniform}.csv, columns x1,x2,x3,
values with 6 significant digits.

Data folder: $RFMLAB_SHARED_DATA if set, else ../shared/data relative to the repo root.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = HERE / "inputs"

EXPECTED_UCI_CUSTOMERS = 4338


def data_dir() -> Path:
    env = os.environ.get("RFMLAB_SHARED_DATA")
    return Path(env) if env else (REPO / ".." / "shared" / "data").resolve()


def parse_invoice_date(col: pl.Expr, sample: str) -> pl.Expr:
    # The shipped file writes 'YYYY-MM-DD HH:MM:SS'; the UCI Excel export, when saved
    # as CSV, writes e.g. '12/1/2010 8:26'. Accept either.
    for fmt in ("%Y-%m-%d %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M"):
        try:
            dt.datetime.strptime(sample, fmt)
        except ValueError:
            continue
        return col.str.strptime(pl.Datetime, fmt, strict=True)
    raise ValueError(f"unrecognised InvoiceDate format: {sample!r}")


def uci_rfm() -> np.ndarray:
    path = data_dir() / "online_retail.csv.gz"
    raw = pl.read_csv(
        path,
        schema_overrides={
            "InvoiceNo": pl.String,
            "StockCode": pl.String,
            "Description": pl.String,
            "Quantity": pl.Int64,
            "InvoiceDate": pl.String,
            "UnitPrice": pl.Float64,
            "CustomerID": pl.Int64,
            "Country": pl.String,
        },
    )
    print(f"{path}: {raw.height} rows")
    sample = raw["InvoiceDate"].drop_nulls()[0]
    tx = (
        raw.filter(pl.col("CustomerID").is_not_null())
        .filter(~pl.col("InvoiceNo").str.starts_with("C"))
        .filter((pl.col("Quantity") > 0) & (pl.col("UnitPrice") > 0))
        .unique(maintain_order=True)  # exact duplicate rows (all 8 columns)
        .with_columns(parse_invoice_date(pl.col("InvoiceDate"), sample).alias("ts"))
    )
    print(f"transactions after cleaning: {tx.height}")
    # analysis date = the calendar day after the last InvoiceDate (2011-12-10);
    # recency = whole calendar days from the customer's last purchase date to it.
    analysis_date = tx["ts"].max().date() + dt.timedelta(days=1)
    cust = (
        tx.group_by("CustomerID")
        .agg(
            pl.col("ts").max().dt.date().alias("last"),
            pl.col("InvoiceNo").n_unique().alias("frequency"),
            (pl.col("Quantity") * pl.col("UnitPrice")).sum().alias("monetary"),
        )
        .with_columns((pl.lit(analysis_date) - pl.col("last")).dt.total_days().alias("recency"))
        .sort("CustomerID")
    )
    print(f"analysis date: {analysis_date}; customers: {cust.height}")
    if cust.height != EXPECTED_UCI_CUSTOMERS:
        print(f"WARNING: expected {EXPECTED_UCI_CUSTOMERS} customers, got {cust.height}")
    print(cust.select("recency", "frequency", "monetary").describe())
    return cust.select("recency", "frequency", "monetary").to_numpy().astype(float)


def standardise(x: np.ndarray) -> np.ndarray:
    return StandardScaler().fit_transform(x)  # population std (ddof=0)


def write(name: str, x: np.ndarray) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    with path.open("w", newline="\n") as fh:
        fh.write("x1,x2,x3\n")
        for row in x:
            fh.write(",".join(f"{v:.6g}" for v in row) + "\n")
    print(f"wrote {path.relative_to(REPO)}: {x.shape[0]} x {x.shape[1]}")


def main() -> None:
    write("uci_customers.csv", standardise(np.log1p(uci_rfm())))
    blobs, _ = make_blobs(n_samples=1000, centers=4, n_features=3, cluster_std=1.0, random_state=42)
    write("blobs.csv", standardise(blobs))
    write("uniform.csv", np.random.default_rng(7).uniform(size=(500, 3)))


if __name__ == "__main__":
    main()
