"""Customers over time: snapshots equal the customer table at each date, known moves give exactly the
transition matrix they should, PSI behaves, and rfmlab-track logs it all in one run on the real data."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from rfmlab import evaluate, pipeline, segments, timeline
from rfmlab.data import load
from rfmlab.features import snapshots

LAYOUT = {"customer": "client", "invoice": "order", "date": "day", "amount": "total"}
# absolute rules, so a customer's segment depends on its own purchases only: the moves are known in advance
RECENCY_SCHEME = segments.Scheme.from_dict("recency3", {
    "scores": {"R": {"column": "recency", "bins": 2, "best": "low"}},
    "rules": [{"name": "Active", "raw": {"recency": {"max": 31}}},
              {"name": "Lapsing", "raw": {"recency": {"max": 62}}}],
    "fallback": "Lost",
})  # fmt: skip


def spec(path, **kw):
    return load.DatasetSpec.from_dict({"name": "t", "kind": "transactions", "path": str(path), "columns": LAYOUT,
                                       "return_prefix": "R", **kw})  # fmt: skip


def write_log(path, purchases):
    rows = [{"client": c, "order": f"{c}-{i}", "day": d, "total": amt} for i, (c, d, amt) in enumerate(purchases)]
    pl.DataFrame(rows).write_csv(path)
    return path


def test_snapshot_tables_equal_the_customer_table_at_each_date(tmp_path):
    from rfmlab.data import synthetic

    log = tmp_path / "log.parquet"
    raw = synthetic.ecommerce(n_customers=800, seed=9)
    pl.concat([raw, raw.head(300)]).write_parquet(log)  # exact repeats too
    ds = load.DatasetSpec.from_dict({"name": "e", "kind": "ecommerce", "path": str(log), "return_prefix": "C",
        "columns": {"customer": "CustomerID", "invoice": "InvoiceNo", "date": "InvoiceDate",
                    "quantity": "Quantity", "price": "UnitPrice"}, "cleaning": {"cancellations": "net"}})  # fmt: skip
    cleaned = pipeline.clean_log(ds)
    rows = snapshots.fold(cleaned.kept)
    assert rows.height < raw.height / 5  # one row per invoice and day, not per line
    when = snapshots.dates(date(2010, 12, 1), date(2011, 12, 9), every="quarter")
    assert when == [date(2011, 1, 1), date(2011, 4, 1), date(2011, 7, 1), date(2011, 10, 1), date(2011, 12, 10)]
    for d in when:
        ref, *_ = pipeline.customer_table(ds, analysis_date=d)
        assert snapshots.table(rows, repeats=cleaned.repeats, as_of=d).equals(ref)


def test_known_moves_give_exactly_the_transition_matrix(tmp_path):
    # ann buys every month (Active throughout); bob stops after January (Active -> Lapsing -> Lost); cid buys
    # once in March (absent before: not a zero row); dan buys in January and again in April (Lost -> Active)
    buys = [("ann", f"2021-0{m}-15", 50.0) for m in range(1, 6)] + [("bob", "2021-01-20", 30.0)]
    buys += [("cid", "2021-03-10", 20.0), ("dan", "2021-01-05", 10.0), ("dan", "2021-04-25", 10.0)]
    log = write_log(tmp_path / "moves.csv", buys)
    cleaned = pipeline.clean_log(spec(log))
    rows = snapshots.fold(cleaned.kept)
    when = snapshots.dates(date(2021, 1, 5), date(2021, 5, 15), every="month")
    assert when == [date(2021, m, 1) for m in range(2, 6)] + [date(2021, 5, 16)]
    tables = snapshots.tables(rows, repeats=cleaned.repeats, when=when)
    seg = {d: segments.apply(RECENCY_SCHEME, t).select("customer_id", pl.col("recency3").alias("segment"))
           for d, t in tables.items()}  # fmt: skip
    path = {(c, d): s for c, d, s in timeline.paths(seg).iter_rows()}
    assert [path.get(("bob", d)) for d in when] == ["Active", "Lapsing", "Lost", "Lost", "Lost"]
    assert [path.get(("cid", d)) for d in when] == [None, None, "Active", "Lapsing", "Lost"]
    assert [path.get(("dan", d)) for d in when] == ["Active", "Lapsing", "Lost", "Active", "Active"]
    assert "cid" not in set(tables[date(2021, 3, 1)]["customer_id"])  # no purchase yet: absent, not zero
    m = timeline.transitions(seg[date(2021, 3, 1)], seg[date(2021, 4, 1)])
    got = {(r["from"], c): int(r[c]) for r in m.iter_rows(named=True) for c in m.columns if c != "from" and r[c]}
    assert got == {("Active", "Active"): 1, ("Lapsing", "Lost"): 2, ("(new)", "Active"): 1}  # ann; bob, dan; cid
    m = timeline.transitions(seg[date(2021, 4, 1)], seg[date(2021, 5, 1)])
    prev = seg[date(2021, 4, 1)].group_by("segment").len()
    for row in m.iter_rows(named=True):  # each row sums to the previous snapshot's count of its segment
        if row["from"] != timeline.NEW:
            total = sum(v for k, v in row.items() if k != "from")
            assert total == prev.filter(pl.col("segment") == row["from"])["len"][0]
    acts = timeline.activity(tables)
    april = acts.filter(pl.col("snapshot") == date(2021, 5, 1)).row(0, named=True)
    assert (april["active"], april["returning"], april["lapsed"], april["new"]) == (2, 1, 1, 0)  # ann+dan; dan; cid


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(3)
    base = rng.lognormal(3, 1, 20_000)
    ref = evaluate.reference(base)
    assert evaluate.psi(ref, base) == pytest.approx(0.0, abs=1e-12)
    shifts = [evaluate.psi(ref, base * f) for f in (1.0, 1.1, 1.3, 1.6, 2.5)]
    assert shifts == sorted(shifts) and shifts[1] < 0.1 < 0.2 < shifts[-1]
