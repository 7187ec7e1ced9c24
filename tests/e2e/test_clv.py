"""CLV end to end: a run with clv.enabled and a holdout logs the parameters, per-customer columns, value per
segment, charts and holdout errors; the promoted model scores CLV (rfmlab-score) and the over-time command steps
the value per segment."""

from pathlib import Path

import polars as pl
import pytest
from helpers import ROOT, artifacts, run_cli
from mlflow.tracking import MlflowClient

from rfmlab.data import synthetic

pytest.importorskip("pymc_marketing")
pytestmark = pytest.mark.slow

CLV_COLUMNS = ["p_alive", "expected_purchases", "expected_spend", "clv"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clv")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    synthetic.ecommerce(n_customers=500, seed=5).write_parquet(tmp / "log.parquet")
    res = run_cli("search=none", f"dataset.path={tmp / 'log.parquet'}", f"tracking.uri={uri}", "clv.enabled=true",
                  "clv.holdout_days=60", "algorithm.params.n_clusters=4", "evaluation.stability.enabled=false",
                  cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    client = MlflowClient(uri, registry_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("ecommerce").experiment_id])
    return tmp, uri, client, run, res.stdout


def test_a_clv_run_logs_parameters_columns_value_charts_and_holdout(trained):
    tmp, _, client, run, stdout = trained
    m, p = run.data.metrics, run.data.params
    for key in ("bgnbd.r", "bgnbd.alpha", "bgnbd.a", "bgnbd.b", "gg.p", "gg.q", "gg.v"):
        assert m[f"clv.{key}"] > 0
    assert p["clv.time_unit"] == "weeks" and -1 <= m["clv.gg.freq_spend_corr"] <= 1
    for key in ("mae", "rmse", "total_error_pct", "spend_mae", "spend_rmse", "spend_total_error_pct"):
        assert f"clv.holdout.{key}" in m
    names = set(artifacts(client, run.info.run_id))
    assert {"plots/clv_p_alive.png", "plots/clv_expected_purchases.png", "plots/clv_by_segment.png",
            "plots/clv_holdout.png", "clv/holdout_calibration.csv", "clv/params.json"} <= names  # fmt: skip
    customers = pl.read_parquet(client.download_artifacts(run.info.run_id, "tables/customers.parquet", str(tmp)))
    assert customers.select(CLV_COLUMNS).null_count().sum_horizontal().item() == 0
    profile = pl.read_csv(client.download_artifacts(run.info.run_id, "tables/profile.csv", str(tmp)))
    assert profile["clv_share"].sum() == pytest.approx(1.0)
    assert profile["clv_total"].sum() == pytest.approx(customers["clv"].sum(), rel=1e-6)
    assert "Customer lifetime value" in run.data.tags["mlflow.note.content"]
    assert "clv over 12 months" in stdout
    page = client.download_artifacts(run.info.run_id, "report.html", str(tmp))
    assert "expected value" in Path(page).read_text()


def test_the_promoted_model_scores_clv_and_the_timeline_steps_it(trained):
    tmp, uri, client, run, _ = trained
    res = run_cli("--best", "--experiment", "ecommerce", "--tracking-uri", uri, cwd=ROOT, module="rfmlab.cli.promote")
    assert res.returncode == 0, res.stderr
    res = run_cli("--model", "models:/rfm-segmenter@champion", "--input", str(tmp / "log.parquet"), "--output",
                  str(tmp / "scored.parquet"), "--dataset", "ecommerce", "--tracking-uri", uri, cwd=ROOT,
                  module="rfmlab.cli.score")  # fmt: skip
    assert res.returncode == 0, res.stderr
    scored = pl.read_parquet(tmp / "scored.parquet")
    assert scored.columns[-4:] == CLV_COLUMNS
    customers = pl.read_parquet(client.download_artifacts(run.info.run_id, "tables/customers.parquet", str(tmp)))
    both = customers.join(scored, on="customer_id", suffix="_scored")
    assert both.height == customers.height  # the training log as of its own date: the run's values
    assert (both["clv"] - both["clv_scored"]).abs().max() < 1e-6 * both["clv"].abs().max()
    res = run_cli("--model", "models:/rfm-segmenter@champion", "--input", str(tmp / "log.parquet"), "--every",
                  "quarter", "--tracking-uri", uri, cwd=ROOT, module="rfmlab.cli.timeline")  # fmt: skip
    assert res.returncode == 0, res.stderr
    (track,) = client.search_runs([client.get_experiment_by_name("timeline").experiment_id])
    steps = client.get_metric_history(track.info.run_id, "clv.total")
    assert len(steps) >= 4 and all(s.value > 0 for s in steps)
    assert any(k.startswith("clv_total.") for k in track.data.metrics)
