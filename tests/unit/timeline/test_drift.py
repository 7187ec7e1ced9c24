"""Feature drift over snapshots (timeline.drift): PSI of each feature against a reference."""

from datetime import date

import numpy as np
import polars as pl
import pytest

from rfmlab import timeline


def _table(rng, shift=0.0, n=2000):
    return pl.DataFrame({"recency": rng.exponential(30, n) + shift, "frequency": rng.poisson(3, n) + 1.0,
                         "monetary": rng.lognormal(5, 1, n)})  # fmt: skip


def test_the_same_population_does_not_drift_and_a_shifted_one_does():
    rng = np.random.default_rng(0)
    tables = {date(2011, 1, 1): _table(rng), date(2011, 2, 1): _table(rng), date(2011, 3, 1): _table(rng, shift=60)}
    ref = timeline.first_snapshot_reference(tables)
    psi = timeline.drift(tables, reference=ref)
    assert psi.height == 9 and psi.columns == ["snapshot", "feature", "psi"]
    first = psi.filter(pl.col("snapshot") == date(2011, 1, 1))
    assert first["psi"].to_list() == pytest.approx([0, 0, 0], abs=1e-9)
    same = psi.filter(pl.col("snapshot") == date(2011, 2, 1))
    assert same["psi"].max() < 0.05
    moved = psi.filter((pl.col("snapshot") == date(2011, 3, 1)) & (pl.col("feature") == "recency"))
    assert moved["psi"].item() > 0.2  # the textbook threshold for a significant shift
    still = psi.filter((pl.col("snapshot") == date(2011, 3, 1)) & (pl.col("feature") == "monetary"))
    assert still["psi"].item() < 0.05


def test_a_feature_missing_from_a_snapshot_is_left_out():
    rng = np.random.default_rng(1)
    tables = {date(2011, 1, 1): _table(rng), date(2011, 2, 1): _table(rng).drop("monetary")}
    psi = timeline.drift(tables, reference=timeline.first_snapshot_reference(tables))
    assert psi.filter(pl.col("snapshot") == date(2011, 2, 1))["feature"].to_list() == ["recency", "frequency"]
