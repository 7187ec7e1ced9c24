"""Files that lie, through the rfmlab command (issue 20): a last line cut short, a pipe, a workbook with several sheets
and epoch milliseconds read as seconds are refused in one line (exit 2, no traceback, no FINISHED run); zoned
timestamps converted with dataset.timezone are said so and the zone is a run param. The cases themselves are
covered in tests/unit/data/test_lying_files.py; these few check the command's side."""

import os

import polars as pl
import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow

RETAIL = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = "".join(f"{i},A1,cup,{1 + i % 3},2011-01-{1 + i % 9:02d} 10:00:00,2.5,{100 + i % 7},UK\n" for i in range(40))
TX = ["dataset=transactions", "dataset.columns.customer=c", "dataset.columns.date=ts", "dataset.columns.amount=amount",
      "plots.enabled=false"]  # fmt: skip


def ragged(tmp):
    (tmp / "log.csv").write_text(RETAIL + LINES + "99,A1,cup,1,2011-01-0")
    return ["dataset=online_retail", f"dataset.path={tmp / 'log.csv'}"], "line 42 of {tmp}/log.csv has 5 field(s)"


def fifo(tmp):
    os.mkfifo(tmp / "fd63")
    return ["dataset=online_retail", f"dataset.path={tmp / 'fd63'}"], "{tmp}/fd63 is a pipe (FIFO), not a regular file"


def workbook(tmp):
    import xlsxwriter

    with xlsxwriter.Workbook(tmp / "ii.xlsx") as wb:
        pl.DataFrame({"note": ["totals"]}).write_excel(wb, worksheet="Summary")
        pl.read_csv((RETAIL + LINES).encode()).write_excel(wb, worksheet="Year 2009-2010")
    words = "has sheets ['Summary', 'Year 2009-2010']; choose one with dataset.sheet=NAME"
    return ["dataset=online_retail", f"dataset.path={tmp / 'ii.xlsx'}"], words


def epoch_ms_as_seconds(tmp):
    ms = [1293840000000 + i * 3_600_000 for i in range(40)]
    pl.DataFrame({"c": [f"k{i % 7}" for i in range(40)], "ts": ms, "amount": [5.0] * 40}).write_csv(tmp / "e.csv")
    words = "date '1293840000000' in column 'ts' (line 1; 40 line(s)) is out of range as seconds since 1970"
    return [*TX, f"dataset.path={tmp / 'e.csv'}", "dataset.date_format=%s"], words


CASES = {"last line cut": ragged, "a pipe": fifo, "several sheets": workbook, "epoch ms as %s": epoch_ms_as_seconds}


@pytest.mark.parametrize("case", list(CASES))
def test_a_lying_file_is_refused_in_one_line(tmp_path, case):
    args, words = CASES[case](tmp_path)
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    res = run_cli(*args, "search=none", f"tracking.uri={uri}", cwd=ROOT, timeout=120)
    assert res.returncode == 2, res.stderr[-2000:]
    errors = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "Traceback" not in res.stderr
    assert errors[0].startswith("rfmlab: error: ") and words.format(tmp=tmp_path) in errors[0]
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert not [r for r in runs if r.info.status == "FINISHED"]


def test_zoned_timestamps_converted_with_dataset_timezone_are_said_and_logged(tmp_path):
    stamps = [f"2011-0{1 + i % 9}-1{i % 9}T23:{i % 60:02d}:00+05:00" for i in range(400)]
    customers, amounts = [f"k{i % 50}" for i in range(400)], [1.0 + i % 97 for i in range(400)]
    pl.DataFrame({"c": customers, "ts": stamps, "amount": amounts}).write_csv(tmp_path / "z.csv")
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    res = run_cli(*TX, f"dataset.path={tmp_path / 'z.csv'}", "dataset.timezone=Europe/London", "search=none",
                  f"tracking.uri={uri}", cwd=ROOT, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    out = " ".join(res.stdout.split())
    assert "timestamps with UTC offsets converted to Europe/London local time (dataset.timezone)" in out
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("transactions").experiment_id])
    assert run.info.status == "FINISHED" and run.data.params["dataset.timezone"] == "Europe/London"
    assert run.data.params["data.date_format"] == "%Y-%m-%dT%H:%M:%S%.f%#z"
