"""A model fitted with CLV followed over time: each snapshot's customers get CLV's columns from the purchase days
before it, with the model's parameters, as a run on the log cut at that date would compute them."""

from datetime import date

import numpy as np
import polars as pl

from rfmlab import clv
from rfmlab.features import snapshots
from rfmlab.timeline import _snapshots as timeline_snapshots

PARAMS = clv.ClvParams(r=0.75, alpha=5.0, a=0.8, b=2.5, p=6.0, q=4.0, v=15.0)


def test_each_snapshot_gets_the_clv_of_the_log_before_it():
    log = clv.simulate(300, bgnbd={"r": 0.75, "alpha": 5.0, "a": 0.8, "b": 2.5}, gg={"p": 6, "q": 4, "v": 15}, seed=1)
    rows = snapshots.fold(log.lazy())
    when = [date(2020, 2, 1), date(2020, 7, 1), clv.end_of(273)]
    tables = snapshots.tables(rows, repeats=None, when=when)
    out = timeline_snapshots.with_clv(tables, rows=rows, params=PARAMS)
    for d in when:
        cut = log.filter(pl.col("timestamp") < pl.lit(d).cast(pl.Datetime("us")))
        expected = clv.predict(clv.from_timestamps(cut, as_of=d), PARAMS)
        got = out[d].select("customer_id", *clv.PREDICTION_COLUMNS).sort("customer_id")
        assert got["customer_id"].to_list() == expected["customer_id"].to_list()
        for c in clv.PREDICTION_COLUMNS:
            np.testing.assert_allclose(got[c], expected[c], rtol=1e-9)
    assert out[when[0]].height < out[when[-1]].height  # customers arrive over the first 12 weeks


def test_exact_repeats_of_lines_add_no_spend_over_time():
    """Cleaning drops exact duplicate lines: their copies come off each snapshot's spend, as in a run."""
    log = clv.simulate(200, bgnbd={"r": 0.75, "alpha": 5.0, "a": 0.8, "b": 2.5}, gg={"p": 6, "q": 4, "v": 15}, seed=2)
    copies = log.filter(~pl.col("is_return")).head(30)
    doubled = pl.concat([log, copies])
    repeats = copies.with_columns(pl.lit(1, pl.UInt32).alias("_copies"))
    when = [date(2020, 7, 1), clv.end_of(273)]
    want = timeline_snapshots.with_clv(snapshots.tables(snapshots.fold(log.lazy()), repeats=None, when=when),
                                       rows=snapshots.fold(log.lazy()), params=PARAMS)  # fmt: skip
    rows = snapshots.fold(doubled.lazy())
    got = timeline_snapshots.with_clv(snapshots.tables(rows, repeats=repeats, when=when), rows=rows, params=PARAMS,
                                      repeats=repeats)  # fmt: skip
    for d in when:
        a, b = (t[d].select("customer_id", *clv.PREDICTION_COLUMNS).sort("customer_id") for t in (want, got))
        for c in clv.PREDICTION_COLUMNS:
            np.testing.assert_allclose(b[c], a[c], rtol=1e-9)
