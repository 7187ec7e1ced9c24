"""A malformed log file through the rfmlab command: one error line, exit code 2, no traceback."""

import pytest
from helpers import ROOT, run_cli

BAD_FILES = {
    "missing column": (
        "InvoiceNo,Quantity,InvoiceDate,UnitPrice\n1,2,2021-01-01 10:00:00,3.0\n",
        "column 'CustomerID' (dataset.columns.customer) not in the data; the file has columns",
    ),
    "bad date": (
        "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,2,2021-01-01 10:00:00,3.0,7\n"
        "2,1,2021-01-02 10:00:00,3.0,7\n3,1,the 3rd,1.0,8\n",
        "unparseable date 'the 3rd'",
    ),
    "non-numeric": (
        "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,two,2021-01-01 10:00:00,3.0,7\n",
        "column 'Quantity' (dataset.columns.quantity) has non-numeric values such as 'two'",
    ),
    "empty": ("", "dataset file is empty"),
    "header only": ("InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n", "has no rows"),
    "no customer": (
        "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n1,2,2021-01-01 10:00:00,3.0,\n",
        "no valid customer left after cleaning",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_give_one_line_and_exit_2(tmp_path, case):
    text, message = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    res = run_cli(
        "dataset=online_retail",
        f"dataset.path={path}",
        "search=none",
        f"tracking.uri=sqlite:///{tmp_path / 'm.db'}",
        cwd=ROOT,
    )
    assert res.returncode == 2
    errors = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in res.stderr
