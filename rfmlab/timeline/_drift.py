"""Feature drift over snapshots: the population stability index of each feature against a reference."""

from __future__ import annotations

from datetime import date

import polars as pl

from rfmlab import evaluate
from rfmlab.timeline._snapshots import FEATURES


def drift(tables: dict[date, pl.DataFrame], *, reference: dict) -> pl.DataFrame:
    """PSI of each feature at each snapshot against ``reference`` (feature -> ``evaluate.reference``)."""
    out = [
        {"snapshot": d, "feature": f, "psi": evaluate.psi(reference[f], t[f].to_numpy())}
        for d, t in tables.items()
        for f in reference
        if f in t.columns
    ]
    return pl.DataFrame(out, schema={"snapshot": pl.Date, "feature": pl.String, "psi": pl.Float64})


def first_snapshot_reference(tables: dict[date, pl.DataFrame], features=FEATURES) -> dict:
    """Each feature's distribution at the first snapshot: the reference when no model brings its own."""
    first = tables[next(iter(tables))]
    return {f: evaluate.reference(first[f].to_numpy()) for f in features}
