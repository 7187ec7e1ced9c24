"""CLV in the pipeline: the customer table gains CLV's columns, which clustering and rule schemes can use, and the
segmenter a run builds scores them for new customers with the run's fitted parameters (no refit)."""

import numpy as np
import polars as pl
import pytest

pytest.importorskip("pymc_marketing")

from rfmlab import clv, pipeline  # noqa: E402
from rfmlab.data.schema import CLV_COLUMNS  # noqa: E402
from rfmlab.errors import ConfigError  # noqa: E402
from rfmlab.jobs import Settings  # noqa: E402

SCHEME = (
    "+segments.alive={description: 'split by P(alive)', scores: {A: {column: p_alive, bins: 2}}, code: '{A}', "
    "rules: [{name: Likely gone, raw: {p_alive: {max: 0.3}}}], fallback: Active}"
)


@pytest.fixture(scope="module")
def run(composed_config):
    cfg = composed_config(
        [
            "dataset.synthetic.n_customers=500",
            "seed=3",
            "clv.enabled=true",
            "evaluation.stability.enabled=false",
            "features.columns=[recency,frequency,monetary,p_alive,clv]",
            "segments=[rfm11]",
            SCHEME,
        ]
    )
    s = Settings.from_config(cfg)
    prep = pipeline.prepare(s.dataset, features=s.features, segments=s.segments, evaluation=s.evaluation,
                            seed=s.seed, clv=s.clv)  # fmt: skip
    fit = pipeline.fit(prep, algorithm="kmeans", params={"n_clusters": 4}, seed=s.seed)
    segmenter = pipeline.build_segmenter(fit, prep=prep, dataset=s.dataset_section)
    return s, prep, fit, segmenter


def test_the_customer_table_has_clv_and_the_run_its_parameters(run):
    _, prep, fit, _ = run
    assert all(c in prep.customers.columns for c in CLV_COLUMNS)
    assert prep.customers["clv"].null_count() == 0 and (prep.customers["p_alive"].is_between(0, 1)).all()
    assert prep.columns == ["recency", "frequency", "monetary", "p_alive", "clv"] and prep.X.shape[1] == 5
    assert set(prep.clv.params.metrics()) == {f"clv.bgnbd.{k}" for k in ("r", "alpha", "a", "b")} | {
        f"clv.gg.{k}" for k in ("p", "q", "v")
    }
    assert prep.clv.holdout is None  # clv.holdout_days=0 (tested in tests/unit/clv and tests/e2e/test_clv.py)
    # the rule scheme on p_alive: its rule and its fallback split the customers at 0.3
    gone = fit.customers.filter(pl.col("alive") == "Likely gone")
    assert gone.height > 0 and (gone["p_alive"] <= 0.3).all()
    assert (fit.customers.filter(pl.col("alive") == "Active")["p_alive"] > 0.3).all()
    # value per cluster in the profile: shares sum to one, totals to the customers' sum
    assert fit.profile["clv_share"].sum() == pytest.approx(1.0)
    assert fit.profile["clv_total"].sum() == pytest.approx(fit.customers["clv"].sum())


def test_the_segmenter_scores_clv_of_a_log_with_the_fitted_parameters(run, composed_config):
    s, prep, fit, segmenter = run
    from rfmlab.data import load

    raw = load.scan(s.dataset).lf.collect()  # the training log, in its own layout
    scored = segmenter.score(raw)
    assert scored.columns == segmenter.output_columns == [*pipeline.OUTPUT_COLUMNS, *CLV_COLUMNS]
    joined = scored.join(prep.customers, on="customer_id", suffix="_run")
    for c in CLV_COLUMNS:  # the same log and date: the run's own values, from the carried parameters
        np.testing.assert_allclose(joined[c], joined[f"{c}_run"], rtol=1e-9)
    assert (joined["cluster"] == fit.customers.join(joined, on="customer_id")["cluster"]).all()


def test_a_customer_table_gets_clv_from_its_rfm_columns(run):
    _, prep, _, segmenter = run
    table = prep.customers.drop(CLV_COLUMNS)
    scored = segmenter.score(table)
    assert scored["clv"].null_count() == 0
    one = scored.join(table, on="customer_id").filter(pl.col("frequency") == 1)
    assert (one["p_alive"] == 1.0).all()  # no repeat purchase: alive, as BG/NBD defines it
    exact = scored.join(prep.customers, on="customer_id", suffix="_run")
    assert np.corrcoef(exact["clv"], exact["clv_run"])[0, 1] > 0.9  # invoices for days: close, not equal


def test_clv_columns_without_clv_are_refused(composed_config):
    with pytest.raises(ConfigError, match="clv.enabled=true"):
        Settings.from_config(composed_config(["features.columns=[recency,p_alive]"]))


def test_holdout_longer_than_the_log_is_refused():
    days = clv.purchase_days(clv.simulate(50, bgnbd={"r": 1, "alpha": 5, "a": 1, "b": 3}, gg={"p": 6, "q": 4, "v": 15}))
    with pytest.raises(ConfigError, match="clv.holdout_days"):
        clv.run(days, as_of=clv.end_of(273), spec=clv.ClvSpec(enabled=True, holdout_days=400))


def test_clv_on_a_customer_table_is_refused(composed_config):
    with pytest.raises(ConfigError, match="needs a transaction log"):
        Settings.from_config(composed_config(["dataset=customers", "dataset.path=x.csv", "clv.enabled=true"]))


def test_a_served_clv_model_takes_an_rfm_table_without_clvs_columns(run):
    import pandas as pd

    from rfmlab.mlflow_edge.pyfunc import RfmSegmenterModel

    _, prep, _, segmenter = run
    table = prep.customers.drop(CLV_COLUMNS).head(20).to_pandas()  # p_alive, clv are clustering columns
    out = RfmSegmenterModel(segmenter).predict(None, pd.DataFrame(table))
    direct = segmenter.score(prep.customers.drop(CLV_COLUMNS).head(20))
    assert list(out.columns) == segmenter.output_columns
    assert out["clv"].tolist() == pytest.approx(direct["clv"].to_list())
    assert out["cluster"].tolist() == direct["cluster"].to_list()


def test_clv_beside_a_pushed_down_engine_is_refused_before_any_run(composed_config):
    with pytest.raises(ConfigError, match=r"^clv reads each customer's purchase days.*dataset.engine=duckdb"):
        Settings.from_config(composed_config(["dataset.engine=duckdb", "clv.enabled=true"]))
