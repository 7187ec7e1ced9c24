"""Files that change or lie (issue 20): epoch dates and zoned timestamps. Each is refused in one line naming the
problem and the fix, or read as documented."""

from datetime import date, datetime

import polars as pl
import pytest
from helpers import ONLINE_RETAIL

from rfmlab import pipeline
from rfmlab.data import load
from rfmlab.errors import ConfigError, DataError

HEADER = "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = "".join(f"{i},{1 + i % 3},2011-01-{1 + i % 9:02d} 10:00:00,2.5,{100 + i % 7},UK\n" for i in range(40))


def spec(path, **kw):
    return load.DatasetSpec.from_dict({"name": "t", "columns": ONLINE_RETAIL, "path": str(path), **kw})


def log_file(tmp_path, text=HEADER + LINES, name="log.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------------- epoch dates

TX = {"customer": "c", "date": "ts", "amount": "amount"}


def tx_spec(path, **kw):
    return load.DatasetSpec.from_dict({"name": "t", "columns": TX, "path": str(path), **kw})


def tx_log(tmp_path, dates, name="tx.csv"):
    df = pl.DataFrame({"c": [f"k{i % 7}" for i in range(len(dates))], "ts": dates, "amount": [10.0] * len(dates)})
    path = tmp_path / name
    df.write_parquet(path) if name.endswith(".parquet") else df.write_csv(path)
    return path


@pytest.mark.parametrize("unit, scale", [("%s", 1), ("ms", 1_000), ("us", 1_000_000)])
def test_epoch_dates_in_each_unit_detected_or_given(tmp_path, unit, scale):
    utc = pl.Series([datetime(2011, 1, 1 + i % 9, 10) for i in range(40)])
    epoch = (utc.dt.epoch("s") * scale).to_list()
    iso, *_ = pipeline.customer_table(tx_spec(tx_log(tmp_path, utc.dt.strftime("%Y-%m-%d %H:%M:%S"), "iso.csv")))
    seen = {}
    keep = lambda name, out: seen.update(out) if name == "load" else None  # noqa: E731
    for name in ("text.csv", "numbers.parquet"):
        path = tx_log(tmp_path, epoch, name)
        detected, *_ = pipeline.customer_table(tx_spec(path), on_stage=keep)
        assert seen["detected"] == unit and detected.equals(iso), name
        given, *_ = pipeline.customer_table(tx_spec(path, date_format=unit))
        assert given.equals(iso)


def test_epoch_values_out_of_range_for_the_unit_are_refused(tmp_path):
    """Milliseconds read as seconds fell in year 55961 (a traceback); now one line naming column, value, units."""
    path = tx_log(tmp_path, [1293840000000 + i * 86_400_000 for i in range(40)])
    with pytest.raises(DataError) as e:
        pipeline.customer_table(tx_spec(path, date_format="%s"))
    msg = str(e.value)
    assert msg.startswith("date '1293840000000' in column 'ts' (line 1; 40 line(s)) is out of range as seconds")
    assert "%s (seconds), ms (milliseconds) or us (microseconds)" in msg
    with pytest.raises(DataError, match="cannot recognise the dates in column 'ts'.*ms \\(milliseconds\\)"):
        pipeline.customer_table(tx_spec(tx_log(tmp_path, [20110101 + i % 9 for i in range(40)])))  # not epoch


# ----------------------------------------------------------------------------------------------------- time zones


def recency(customers):
    return dict(customers.select("customer_id", "recency").iter_rows())


def zoned_log(tmp_path):
    """Near midnight: A at 23:30 and B at 00:30 local (+05:00), both on January 1st in UTC; C on the 3rd."""
    df = pl.DataFrame(
        {
            "c": ["A", "B", "C"],
            "ts": ["2011-01-01T23:30:00+05:00", "2011-01-02T00:30:00+05:00", "2011-01-03T12:00:00Z"],
            "amount": [10.0, 10.0, 10.0],
        }
    )
    df.write_csv(tmp_path / "zoned.csv")
    return tmp_path / "zoned.csv"


@pytest.mark.parametrize(
    "timezone, days, note",
    [
        (None, {"A": 3, "B": 2, "C": 1}, "with UTC offsets read as their own local time"),
        ("UTC", {"A": 3, "B": 3, "C": 1}, "converted to UTC local time"),
        ("Asia/Tokyo", {"A": 2, "B": 2, "C": 1}, "converted to Asia/Tokyo local time"),
    ],
)
def test_offsets_keep_local_days_unless_dataset_timezone_converts(tmp_path, timezone, days, note):
    seen = {}
    customers, as_of, _, _ = pipeline.customer_table(
        tx_spec(zoned_log(tmp_path), timezone=timezone), on_stage=lambda n, o: seen.update(o) if n == "load" else 0
    )
    assert recency(customers) == days and as_of == date(2011, 1, 4)
    assert note in seen["zone"]


def test_a_zoned_parquet_column_is_read_in_its_own_local_time(tmp_path):
    local = [datetime(2011, 1, 1, 23, 30), datetime(2011, 1, 2, 0, 30), datetime(2011, 1, 3, 12)]
    ts = pl.Series(local).dt.replace_time_zone("America/New_York")  # 23:30 in New York is 04:30 UTC the next day
    pl.DataFrame({"c": ["A", "B", "C"], "ts": ts, "amount": [10.0] * 3}).write_parquet(tmp_path / "z.parquet")
    own, as_of, _, _ = pipeline.customer_table(tx_spec(tmp_path / "z.parquet"))
    assert recency(own) == {"A": 3, "B": 2, "C": 1} and as_of == date(2011, 1, 4)
    utc, as_of, _, _ = pipeline.customer_table(tx_spec(tmp_path / "z.parquet", timezone="UTC"))
    assert recency(utc) == {"A": 2, "B": 2, "C": 1} and as_of == date(2011, 1, 4)


def test_an_unknown_timezone_is_a_config_error():
    with pytest.raises(ConfigError, match="dataset.timezone='Europe/Lodnon' is not a time zone"):
        tx_spec("x.csv", timezone="Europe/Lodnon")
