"""CSV exports a spreadsheet shows rather than evaluates (OWASP CSV injection): text only, numbers untouched."""

import polars as pl
import pytest

from rfmlab.report.exports import spreadsheet_safe


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_gets_a_quote(first):
    df = pl.DataFrame({"customer_id": [f"{first}1+1", "a1"]})
    assert spreadsheet_safe(df)["customer_id"].to_list() == [f"'{first}1+1", "a1"]


def test_only_text_is_touched_numbers_stay_numbers():
    df = pl.DataFrame(
        {
            "customer_id": ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "a=b", None],
            "monetary": [-2.5, 1.0, -3.0, 4.0, 5.0, 6.0],
            "cluster": [-1, 0, 1, 2, 3, 4],
            "segment": pl.Series(["-lapsed", "ok", "ok", "=cmd|' /C calc'!A0", "ok", "ok"], dtype=pl.Categorical),
        }
    )
    out = spreadsheet_safe(df)
    assert out["customer_id"].to_list() == ['\'=HYPERLINK("http://x","y")', "'+1", "'-2", "'@SUM(A1)", "a=b", None]
    assert out["segment"].to_list() == ["'-lapsed", "ok", "ok", "'=cmd|' /C calc'!A0", "ok", "ok"]
    assert out.schema["monetary"] == pl.Float64 and out["monetary"].to_list() == [-2.5, 1.0, -3.0, 4.0, 5.0, 6.0]
    assert out.schema["cluster"] == pl.Int64 and out["cluster"].to_list() == [-1, 0, 1, 2, 3, 4]
    assert out.write_csv().splitlines()[1] == """"'=HYPERLINK(""http://x"",""y"")",-2.5,-1,'-lapsed"""
    assert df["customer_id"][0].startswith("=")  # pure: the input frame is unchanged


def test_column_names_are_cells_too():
    """A contingency table's columns are segment names, which the segments config names."""
    df = pl.DataFrame({"cluster": [0, 1], "=evil": [3, 4], "-minus": [1, 2], "fine": [0, 0]})
    assert spreadsheet_safe(df).columns == ["cluster", "'=evil", "'-minus", "fine"]
    assert spreadsheet_safe(df)["'=evil"].to_list() == [3, 4]
