"""A run's tables: CSV for spreadsheets (formula cells neutralised), parquet with the raw values."""

import shutil

import polars as pl

from rfmlab.mlflow_edge import tracking


class _Handle:
    """What ``log_tables`` needs of a run: ``log_dir`` (here a copy into ``dest``)."""

    def __init__(self, dest):
        self.dest = dest

    def log_dir(self, local, path):
        shutil.copytree(local, self.dest, dirs_exist_ok=True)


def test_log_tables_neutralises_csv_and_keeps_parquet_raw(tmp_path):
    df = pl.DataFrame({"customer_id": ["=1+1", "c2"], "monetary": [-5.0, 7.0]})
    tracking.log_tables(_Handle(tmp_path), {"tables/customers.parquet": df, "tables/customers.csv": df})
    assert pl.read_parquet(tmp_path / "tables/customers.parquet")["customer_id"].to_list() == ["=1+1", "c2"]
    assert (tmp_path / "tables/customers.csv").read_text() == "customer_id,monetary\n'=1+1,-5.0\nc2,7.0\n"
