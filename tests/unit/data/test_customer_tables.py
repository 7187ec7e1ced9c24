"""Customer tables as training input (issue 22, item 4): rfmlab's own customer table read back as
``dataset=customers`` is the same table; recency as a last-purchase date gives the same days; what a table lacks is
said (report source, no return_rate, rule schemes left out); bad tables are one-line errors."""

from datetime import timedelta

import polars as pl
import pytest

import rfmlab
from rfmlab import pipeline
from rfmlab.data import synthetic
from rfmlab.errors import ConfigError, DataError
from rfmlab.features import FeatureSpec
from rfmlab.segments import SegmentsSpec

EXTRAS = {"tenure_days": "tenure_days", "avg_order_value": "avg_order_value", "return_rate": "return_rate"}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """The customer table of the embedded log (400 customers), as parquet, and its analysis date."""
    log = synthetic.generate("ecommerce", n_customers=400, seed=1)
    customers, _ = rfmlab.customer_table(log, dataset="ecommerce")
    path = tmp_path_factory.mktemp("table") / "customers.parquet"
    customers.write_parquet(path)
    as_of = (log["InvoiceDate"].max() + timedelta(days=1)).date()
    return path, customers, as_of


def one_line(excinfo) -> str:
    assert "\n" not in str(excinfo.value)
    return str(excinfo.value)


def test_a_customer_table_reads_back_as_itself_and_says_what_it_lacks(table):
    path, customers, _ = table
    got, report = rfmlab.customer_table(path, dataset="customers", columns=EXTRAS)
    assert got.equals(customers)
    assert report.to_dict()["source"] == "customer table" and report.rows_in == report.customers_out == 400
    assert report.dropped == {} and "no cleaning report" in report.note and "return_rate" not in report.note
    bare, report = rfmlab.customer_table(path, dataset="customers")
    assert bare.columns == ["customer_id", "recency", "frequency", "monetary", "avg_order_value"]
    assert bare["avg_order_value"].equals(customers["avg_order_value"])  # monetary / frequency, its definition
    assert "no tenure_days or return_rate" in report.note


def test_recency_as_the_last_purchase_date(table, tmp_path):
    path, customers, as_of = table
    dated = customers.select(
        pl.col("customer_id").alias("client"),
        (pl.lit(as_of) - pl.duration(days=pl.col("recency"))).dt.strftime("%d/%m/%Y").alias("last_order"),
        "frequency",
        "monetary",
    )
    dated.write_csv(tmp_path / "dated.csv")
    cols = {"customer": "client", "recency": "last_order"}
    got, _ = rfmlab.customer_table(tmp_path / "dated.csv", dataset="customers", columns=cols, recency_unit="date",
                                   date_format="%d/%m/%Y", analysis_date=as_of)  # fmt: skip
    assert got.select("customer_id", "recency", "frequency", "monetary").equals(
        customers.select("customer_id", "recency", "frequency", "monetary")
    )
    default, _ = rfmlab.customer_table(tmp_path / "dated.csv", dataset="customers", columns=cols, recency_unit="date",
                                       date_format="%d/%m/%Y")  # fmt: skip
    shift = (as_of - timedelta(days=int(customers["recency"].min())) + timedelta(days=1) - as_of).days
    assert default["recency"].equals(got["recency"] + shift)  # counted to the day after the latest purchase
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(tmp_path / "dated.csv", dataset="customers", columns=cols, recency_unit="date",
                              date_format="%d/%m/%Y", analysis_date="2010-01-01")  # fmt: skip
    assert "bought on or after dataset.analysis_date=2010-01-01" in one_line(e)
    with pytest.raises(ConfigError, match="dataset.recency_unit='weeks': use days"):
        rfmlab.customer_table(tmp_path / "dated.csv", dataset="customers", recency_unit="weeks")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop("monetary"), "column 'monetary' (dataset.columns.monetary) not in the data"),
        (lambda t: pl.concat([t, t.head(3)]), "3 customer id(s) appear on more than one row of column 'customer_id'"),
        (
            lambda t: t.with_columns(customer_id=pl.when(pl.col("recency") > 5).then("customer_id")),
            "have no customer id",
        ),
        (lambda t: t.with_columns(monetary=-pl.col("monetary")), "(dataset.columns.monetary) has 400 negative"),
        (lambda t: t.with_columns(recency=pl.col("recency").cast(pl.Float64) / 0), "(dataset.columns.recency) has"),
        (lambda t: t.with_columns(frequency=pl.lit(None, pl.Int64)), "(dataset.columns.frequency) has 400 missing"),
        (lambda t: t.with_columns(monetary=pl.lit("lots")), "non-numeric values such as 'lots'"),
    ],
    ids=["missing column", "duplicates", "no id", "negative", "non-finite", "missing", "text"],
)
def test_a_bad_customer_table_is_one_line(table, tmp_path, change, message):
    path, customers, _ = table
    change(customers).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(tmp_path / "bad.parquet", dataset="customers")
    assert message in one_line(e)


def test_an_example_names_the_repeated_id(table, tmp_path):
    path, customers, _ = table
    pl.concat([customers, customers.head(1), customers.head(1)]).write_parquet(tmp_path / "dup.parquet")
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(tmp_path / "dup.parquet", dataset="customers")
    first = customers["customer_id"][0]
    assert (
        f"1 customer id(s) appear on more than one row of column 'customer_id' (e.g. '{first}' on 3 rows)"
        in one_line(e)
    )


def test_features_and_schemes_the_table_lacks_are_said(table, composed_config):
    path, _, _ = table
    from rfmlab.jobs import Settings

    s = Settings.from_config(composed_config(["dataset=customers", f"dataset.path={path}"]))
    prep = pipeline.prepare(s.dataset, features=s.features, segments=s.segments, evaluation=s.evaluation, seed=1)
    assert "value_risk" not in prep.schemes and "rule scheme value_risk left out" in prep.notes[0]
    assert prep.analysis_date is None and prep.as_of == "unknown: recency given in days"
    with pytest.raises(DataError) as e:
        pipeline.prepare(s.dataset, features=FeatureSpec(columns=["recency", "return_rate"]), seed=1)
    assert "features.columns asks for ['return_rate'], which the customer table does not have" in one_line(e)
    naming = SegmentsSpec.from_dict({"value_risk": s.raw["segments"]["value_risk"], "naming": "value_risk"})
    with pytest.raises(DataError, match="segments.naming=value_risk needs return_rate"):
        pipeline.prepare(s.dataset, features=s.features, segments=naming, seed=1)
