"""Files that change or lie (issue 20): a log that changes while it is read, lines short of fields, workbooks with
several sheets, pipes and devices, epoch dates and zoned timestamps. Each is refused in one line naming the problem
and the fix, or read as documented."""

import os
from datetime import date, datetime

import polars as pl
import pytest
from helpers import ONLINE_RETAIL

from rfmlab import features, pipeline
from rfmlab.data import files, load
from rfmlab.errors import ConfigError, DataError

HEADER = "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = "".join(f"{i},{1 + i % 3},2011-01-{1 + i % 9:02d} 10:00:00,2.5,{100 + i % 7},UK\n" for i in range(40))


def spec(path, **kw):
    return load.DatasetSpec.from_dict({"name": "t", "columns": ONLINE_RETAIL, "path": str(path), **kw})


def log_file(tmp_path, text=HEADER + LINES, name="log.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------- a file changed while read


def test_stamp_differences_name_what_changed():
    st = files.Stamp(size=10, mtime_ns=5, inode=1)
    assert files.differences(st, st) == ""
    assert files.differences(st, files.Stamp(size=12, mtime_ns=6, inode=1)) == "size/modification time differ"
    assert files.differences(st, files.Stamp(size=10, mtime_ns=6, inode=1)) == "modification time differs"
    assert files.differences(st, files.Stamp(size=10, mtime_ns=5, inode=2)) == "it was replaced by another file"
    assert files.differences(st, None) == "it was removed"


def _append(path):
    with open(path, "a") as f:
        f.write("999,1,2011-01-05 10:00:00,2.5,555,UK\n")


def _replace(path):
    (path.parent / "other.csv").write_text("a,b\n1,2\n")  # another header: polars would fail on a missing column
    os.replace(path.parent / "other.csv", path)


CHANGES = {
    "appended": (_append, "size/modification time differ"),
    "truncated": (lambda p: os.truncate(p, 0), "size/modification time differ"),
    "replaced": (_replace, "it was replaced by another file"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_log_changed_between_passes_is_refused(tmp_path, monkeypatch, change):
    """The file changes after the cleaning passes, before the pass that aggregates the kept lines: the digest and
    the rows read would describe different bytes (a truncated or replaced file made polars fail on a column)."""
    path = log_file(tmp_path)
    act, detail = CHANGES[change]
    aggregate = features.aggregate

    def change_then_aggregate(kept):
        act(path)
        return aggregate(kept)

    monkeypatch.setattr(features, "aggregate", change_then_aggregate)
    with pytest.raises(DataError) as e:
        pipeline.customer_table(spec(path))
    assert str(e.value) == f"dataset file {path} changed while it was read ({detail}); run again once it is complete"


def test_a_log_appended_to_during_cleaning_is_refused_after_that_stage(tmp_path, monkeypatch):
    path = log_file(tmp_path)
    check = load.check

    def append_then_check(*args, **kw):
        _append(path)
        return check(*args, **kw)

    monkeypatch.setattr(load, "check", append_then_check)
    stages = []
    with pytest.raises(DataError, match="changed while it was read"):
        pipeline.customer_table(spec(path), stage=lambda name: _record(stages, name))
    assert stages == ["load", "clean"]  # refused at the end of the cleaning passes, before any aggregate


def _record(stages, name):
    import contextlib

    stages.append(name)
    return contextlib.nullcontext()


def test_an_unchanged_log_reads_as_before(tmp_path):
    customers, as_of, report, digest = pipeline.customer_table(spec(log_file(tmp_path)))
    assert (customers.height, as_of, report.rows_in) == (7, date(2011, 1, 10), 40)


# ------------------------------------------------------------------------------------------- lines short of fields


@pytest.mark.parametrize(
    "text, message",
    [
        (HEADER + LINES + "99,1,2011-01-0", "line 42 of {path} has 3 field(s), the header has 6; fix or remove it"),
        (HEADER + LINES.replace("\n", "\n7,8\n", 1), "line 3 of {path} has 2 field(s), the header has 6"),
        (HEADER + LINES + "1,2,2011-01-01 10:00:00,3,4,UK,x\n", "line 42 of {path} has 7 field(s), the header has 6"),
    ],
    ids=["last line cut", "short line", "extra field"],
)
def test_a_line_with_another_number_of_fields_is_refused_with_its_number(tmp_path, text, message):
    path = log_file(tmp_path, text)
    with pytest.raises(DataError) as e:
        pipeline.customer_table(spec(path))
    assert str(e.value).startswith(message.format(path=path))


def test_empty_last_fields_and_quoted_lines_are_not_ragged(tmp_path):
    """An empty Country is a field (kept); a quoted field holding separators or a line break is one field."""
    text = HEADER + LINES + '77,1,2011-01-02 10:00:00,2.5,100,\n78,1,2011-01-02 10:00:00,2.5,100,"Bonn,\nDE"\n'
    _, _, report, _ = pipeline.customer_table(spec(log_file(tmp_path, text)))
    assert report.rows_in == 42
    assert files.ragged_error(tmp_path / "log.csv", separator=",", fields=6) is None
    assert "line 45 of" in str(files.ragged_error(log_file(tmp_path, text + "9,9\n"), separator=",", fields=6))
    stray = 'a;b;c;d\n1;5" frame;7" frame;4\n"x;""y"";z";2;3;4\n5;6;7\n'  # quotes inside a field are text
    assert "line 4 of" in str(files.ragged_error(log_file(tmp_path, stray), separator=";", fields=4))


# --------------------------------------------------------------------------------------- not a file, several sheets


def test_pipes_and_devices_are_named_not_called_empty(tmp_path):
    fifo = tmp_path / "fd63"
    os.mkfifo(fifo)
    with pytest.raises(DataError) as e:
        load.scan(spec(fifo))
    assert str(e.value) == f"dataset.path {fifo} is a pipe (FIFO), not a regular file; save it to a file first"
    with pytest.raises(DataError, match="/dev/null is a character device, not a regular file"):
        load.scan(spec("/dev/null"))
    with pytest.raises(DataError, match="is a folder with no parquet or CSV part in it"):  # a folder of parts is read
        load.scan(spec(tmp_path))


def test_a_workbook_with_several_sheets_needs_dataset_sheet(tmp_path):
    import xlsxwriter

    raw = pl.read_csv((HEADER + LINES).encode())
    path = tmp_path / "two.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        pl.DataFrame({"note": ["totals"]}).write_excel(wb, worksheet="Summary")
        raw.write_excel(wb, worksheet="Year 2009-2010")
    with pytest.raises(DataError) as e:
        load.scan(spec(path))
    assert str(e.value) == (
        f"the workbook {path} has sheets ['Summary', 'Year 2009-2010']; choose one with dataset.sheet=NAME"
    )
    with pytest.raises(DataError, match=r"has no sheet 'Year 2011'; its sheets are \['Summary', 'Year 2009-2010'\]"):
        load.scan(spec(path, sheet="Year 2011"))
    chosen, *_ = pipeline.customer_table(spec(path, sheet="Year 2009-2010"))
    raw.write_excel(tmp_path / "one.xlsx")
    single, *_ = pipeline.customer_table(spec(tmp_path / "one.xlsx"))
    assert chosen.height == 7 and chosen.equals(single)


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
