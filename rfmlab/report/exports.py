"""Tables written for people to open in a spreadsheet: CSV that a spreadsheet shows rather than evaluates.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is a formula to Excel,
LibreOffice and Google Sheets, so a customer id such as ``=HYPERLINK("http://x","y")`` or a configured segment name
such as ``=cmd|' /C calc'!A0`` in a CSV export would run when the file is opened (OWASP "CSV Injection").
``spreadsheet_safe`` prefixes such text with ``'``, OWASP's recommendation: the spreadsheet then shows the text as
typed. Only text is touched (String, Categorical and Enum columns, and the header): numbers stay numbers, so a
negative amount in a numeric column is written as ``-2`` as before. Parquet outputs keep the raw values.
"""

from __future__ import annotations

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = "^[=+@\\t\\r-]"


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet shows it rather than evaluates it: ``'`` before a formula's first character."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def spreadsheet_safe(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` for a CSV export: every text cell (and column name) that a spreadsheet would evaluate as a formula
    (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a leading ``'``; text columns
    (String, Categorical, Enum) come back as String, every other column unchanged. Pure: ``df`` is not modified."""
    text = [name for name, dtype in df.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)]
    out = df.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(_PATTERN))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String))
        .alias(c)
        for c in text
    )
    renames = {c: safe_text(c) for c in out.columns if safe_text(c) != c and safe_text(c) not in out.columns}
    return out.rename(renames) if renames else out
