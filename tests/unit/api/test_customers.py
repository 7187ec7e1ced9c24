"""rfmlab.customer_table: a file, a URL-free path, polars / pandas frames and a LazyFrame give one customer table."""

import polars as pl
import pytest

import rfmlab
from rfmlab.data import synthetic

COLUMNS = {"customer": "CustomerID", "date": "InvoiceDate", "invoice": "InvoiceNo", "quantity": "Quantity",
           "price": "UnitPrice"}  # fmt: skip


@pytest.fixture(scope="module")
def log() -> pl.DataFrame:
    return synthetic.generate("ecommerce", n_customers=300, seed=3)


def test_a_file_and_every_kind_of_frame_give_the_same_customer_table(log, tmp_path):
    path = tmp_path / "log.csv"
    log.write_csv(path)
    from_file, file_report = rfmlab.customer_table(path, dataset="transactions", columns=COLUMNS, return_prefix="C")
    assert from_file.height == file_report.customers_out > 250
    assert file_report.rows_in == log.height and file_report.dropped["missing_customer"] > 0
    for frame in (log, log.lazy(), log.to_pandas()):
        table, report = rfmlab.customer_table(frame, dataset="transactions", columns=COLUMNS, return_prefix="C")
        assert report.to_dict() == file_report.to_dict()
        assert table.sort("customer_id").equals(from_file.sort("customer_id"))


def test_the_dataset_configs_layout_and_the_options_over_it(log):
    table, report = rfmlab.customer_table(log, dataset="ecommerce")  # the synthetic layout is the ecommerce config's
    dropped, dropped_report = rfmlab.customer_table(log, dataset="ecommerce", cleaning={"cancellations": "drop"})
    assert dropped_report.dropped.get("cancelled", 0) > 0 or dropped_report.rows_out < report.rows_out
    assert table["return_rate"].max() > 0 and dropped["return_rate"].max() == 0
    later, _ = rfmlab.customer_table(log, dataset="ecommerce", analysis_date="2030-01-01")
    joined = table.join(later, on="customer_id", suffix="_later")
    assert (joined["recency_later"] > joined["recency"]).all()


def test_none_reads_the_configs_own_data_the_embedded_generator():
    table, report = rfmlab.customer_table(None, dataset="ecommerce")
    assert table.height == 5000 == report.customers_out  # conf/dataset/ecommerce.yaml: 5,000 customers
    assert table.columns[:4] == ["customer_id", "recency", "frequency", "monetary"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"dataset": "transactions"}, "needs the column(s) playing ['customer', 'date']: pass columns="),
        ({"dataset": "nope"}, "unknown dataset 'nope'; use one of"),
        ({"dataset": "ecommerce", "columns": {"client": "x"}}, "columns: unknown role(s) ['client']"),
        ({"dataset": "ecommerce", "columns": {"customer": "Client"}}, "column 'Client' (dataset.columns.customer)"),
    ],
)
def test_bad_arguments_are_rfmlabs_one_line_errors(log, kwargs, words):
    with pytest.raises(rfmlab.RfmlabError) as e:
        rfmlab.customer_table(log, **kwargs)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_something_that_is_not_a_frame_or_a_path_is_named():
    with pytest.raises(rfmlab.DataError, match="source must be a polars or pandas DataFrame .* not list"):
        rfmlab.customer_table([1, 2, 3], dataset="ecommerce")
    with pytest.raises(rfmlab.DataError, match="has no rows"):
        rfmlab.customer_table(pl.DataFrame({"CustomerID": []}), dataset="ecommerce")
