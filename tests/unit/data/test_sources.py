"""Sources of several parts (issue 22, item 3): a hive-partitioned folder of parquet parts, a glob of CSV parts and a
hive-partitioned folder of CSV parts give the customer table and cleaning report of the single file they were cut
from; dataset.filter on a partition column equals the same rows filtered in memory; a bad filter, an empty folder,
a glob matching nothing and mixed parts are one-line errors; URLs are printed as given, never with a secret."""

import shutil

import polars as pl
import pytest
from helpers import ONLINE_RETAIL

import rfmlab
from rfmlab.data import load, locations, source, synthetic
from rfmlab.errors import ConfigError, DataError


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    """The embedded log (400 customers) as one parquet file and cut into parts: hive parquet (year=/month=), flat
    CSV parts (a glob), hive CSV; with the single file's customer table and report."""
    d = tmp_path_factory.mktemp("parts")
    log = synthetic.generate("ecommerce", n_customers=400, seed=1)
    log.write_parquet(d / "orders.parquet")
    keyed = log.with_columns(y=pl.col("InvoiceDate").dt.year(), m=pl.col("InvoiceDate").dt.strftime("%m"))
    for (y, m), part in keyed.group_by(["y", "m"]):
        part = part.drop("y", "m")
        (d / f"hive/year={y}/month={m}").mkdir(parents=True)
        part.write_parquet(d / f"hive/year={y}/month={m}/part-0.parquet")
        (d / f"hivecsv/year={y}/month={m}").mkdir(parents=True)
        part.write_csv(d / f"hivecsv/year={y}/month={m}/part-0.csv")
        (d / "flat").mkdir(exist_ok=True)
        part.write_csv(d / f"flat/sales-{y}-{m}.csv")
    (d / "hive" / "_SUCCESS").write_text("")  # a writer's marker: not a part
    one = rfmlab.customer_table(d / "orders.parquet", dataset="ecommerce")
    return d, log, one


@pytest.mark.parametrize("where", ["hive", "flat/*.csv", "hivecsv", "hive/**/*.parquet"])
def test_parts_give_the_single_files_customers_and_report(cut, where):
    d, _, (customers, report) = cut
    got, got_report = rfmlab.customer_table(f"{d}/{where}", dataset="ecommerce")
    assert got.equals(customers)
    assert got_report.to_dict() == report.to_dict()


def spec(path, **kw):
    return load.DatasetSpec.from_dict({"name": "x", "path": str(path), "columns": ONLINE_RETAIL, **kw})


def test_partition_columns_are_columns_and_a_filter_on_them_reads_those_rows(cut):
    d, log, _ = cut
    src = load.scan(spec(d / "hive"), with_digest=False)
    assert {"year", "month"} <= set(src.head.columns)
    got, report = rfmlab.customer_table(d / "hive", dataset="ecommerce", filter="year = 2011 AND month IN (1, 2)")
    rows = log.filter((pl.col("InvoiceDate").dt.year() == 2011) & pl.col("InvoiceDate").dt.month().is_in([1, 2]))
    want, want_report = rfmlab.customer_table(rows, dataset="ecommerce")
    assert got.equals(want)
    assert report.filter == "year = 2011 AND month IN (1, 2)" and report.rows_in == rows.height
    assert {k: v for k, v in report.to_dict().items() if k != "filter"} == want_report.to_dict()
    text, _ = rfmlab.customer_table(d / "hivecsv", dataset="ecommerce", filter="year = '2011' AND month = '01'")
    assert text.equals(rfmlab.customer_table(d / "hive", dataset="ecommerce", filter="year = 2011 AND month = 1")[0])


def test_a_filter_on_a_file_column(cut):
    d, log, _ = cut
    got, report = rfmlab.customer_table(d / "orders.parquet", dataset="ecommerce", filter="Country = 'France'")
    want, _ = rfmlab.customer_table(log.filter(pl.col("Country") == "France"), dataset="ecommerce")
    assert got.equals(want) and report.rows_in == (log["Country"] == "France").sum()


def one_line(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


def test_a_bad_filter_is_one_line_naming_it(cut):
    d, _, _ = cut
    with pytest.raises(ConfigError) as e:
        rfmlab.customer_table(d / "hive", dataset="ecommerce", filter="year = = 2011")
    assert one_line(e).startswith("dataset.filter='year = = 2011' is not a SQL predicate")
    with pytest.raises(ConfigError) as e:
        rfmlab.customer_table(d / "hive", dataset="ecommerce", filter="Contry = 'France'")
    assert "dataset.filter=\"Contry = 'France'\" cannot be applied" in one_line(e) and "'Country'" in str(e.value)
    with pytest.raises(ConfigError) as e:
        rfmlab.customer_table(d / "flat/*.csv", dataset="ecommerce", filter="Quantity > 5")
    assert "CAST(column AS INT)" in one_line(e)
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(d / "hive", dataset="ecommerce", filter="year = 1999")
    assert one_line(e) == f"dataset.filter='year = 1999' keeps no row of {d / 'hive'}; check the condition"


def test_an_empty_folder_a_glob_matching_nothing_and_mixed_parts_are_one_line(cut, tmp_path):
    d, _, _ = cut
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(tmp_path / "empty", dataset="ecommerce")
    assert (
        one_line(e)
        == f"dataset.path {tmp_path / 'empty'} is a folder with no parquet or CSV part in it; point it at one"
    )
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(f"{d}/nothing/*.parquet", dataset="ecommerce")
    assert one_line(e).startswith(f"dataset.path {d}/nothing/*.parquet matches no file")
    mixed = tmp_path / "mixed"
    shutil.copytree(d / "hive", mixed)
    shutil.copy(d / "flat" / "sales-2011-01.csv", mixed / "year=2011" / "month=01" / "extra.csv")
    with pytest.raises(DataError) as e:
        rfmlab.customer_table(mixed, dataset="ecommerce")
    assert "holds both parquet and CSV parts" in one_line(e)


def test_the_digest_of_parts_is_their_names_and_contents(cut, tmp_path):
    d, _, _ = cut
    digest = lambda p: load.scan(spec(p)).digest  # noqa: E731
    first = digest(d / "hive")
    shutil.copytree(d / "hive", tmp_path / "copy")
    assert digest(tmp_path / "copy") == first  # the same parts elsewhere: the same digest
    part = next((tmp_path / "copy").rglob("part-0.parquet"))
    part.rename(part.with_name("part-1.parquet"))
    assert digest(tmp_path / "copy") != first


def test_urls_are_printed_as_given_and_secrets_never():
    url = "s3://bucket/sales/orders.parquet"
    with pytest.raises(DataError, match="dataset.path s3://bucket/sales/orders.parquet is a URL"):
        load.source_path(spec(url))
    err = source.read_error(url, FileNotFoundError("object-store error: Object at location x not found"))
    assert str(err).startswith("dataset.path s3://bucket/sales/orders.parquet not found in the object store")
    options = {"aws_secret_access_key": "s3cr3t-value", "aws_region": "us-east-1"}
    assert "s3cr3t-value" not in str(source.read_error(url, OSError("denied for s3cr3t-value"), options=options))
    section = locations.redact_section({"path": "az://c/x.parquet?sv=1&sig=abc", "storage_options": options})
    assert section == {
        "path": "az://c/x.parquet?sv=***&sig=***",
        "storage_options": {**options, "aws_secret_access_key": "***"},
    }
    assert locations.shown("s3://user:pw@host/b/x.csv") == "s3://user:***@host/b/x.csv"
    assert locations.remote_digest("gs://bucket/x.parquet", {})[0] == locations.NOT_COMPUTED
    with pytest.raises(ConfigError, match="storage_options must be a mapping"):
        spec("x.csv", storage_options="key=value")
