"""rfmlab-timeline end to end on Online Retail II."""

from datetime import datetime

import polars as pl
import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient


@pytest.mark.slow
@pytest.mark.realdata
def test_rfmlab_track_on_online_retail_ii_logs_shares_transitions_sankey_paths_and_drift(shared_data, tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    log = shared_data / "online_retail_II_2009_2010.csv.gz"
    res = run_cli("dataset=online_retail_ii", f"dataset.path={log}", "search=none", "plots.enabled=false",
                  f"tracking.uri={uri}", cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run_cli("--best", "--experiment", "online_retail_ii", "--tracking-uri", uri, cwd=ROOT,
                  module="rfmlab.cli.promote")  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run_cli("--model", "models:/rfm-segmenter@champion", "--input", str(log), "--tracking-uri", uri,
                  cwd=ROOT, module="rfmlab.cli.timeline")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stderr == "" and "tracked 13 snapshots (2010-01-01 .. 2010-12-10)" in res.stdout
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("timeline").experiment_id])
    assert run.data.tags["rfmlab.model"] == "rfm-segmenter" and run.data.tags["rfmlab.model_alias"] == "champion"
    assert run.data.tags["rfmlab.model_version"] == "1"
    shares = [k for k in run.data.metrics if k.startswith("segment_share.")]
    assert shares
    total = [0.0] * 13
    for k in shares:
        hist = client.get_metric_history(run.info.run_id, k)
        for m in hist:
            total[m.step] += m.value
        stamps = {m.step: m.timestamp for m in hist}
        assert stamps.get(0, 0) in (0, int(datetime(2010, 1, 1).timestamp() * 1000))
    assert total == pytest.approx([1.0] * 13)  # the shares of each snapshot add up
    psi = client.get_metric_history(run.info.run_id, "psi.recency")
    assert len(psi) == 13 and all(m.value >= 0 for m in psi)
    local = client.download_artifacts(run.info.run_id, "", str(tmp_path / "a"))
    paths = pl.read_parquet(f"{local}/tables/paths.parquet")
    assert paths.group_by("snapshot").len().height == 13
    last = paths.filter(pl.col("snapshot") == paths["snapshot"].max())
    assert last.height == int(client.get_metric_history(run.info.run_id, "customers")[-1].value)
    for f in ("plots/sankey.html", "plots/sankey.png", "plots/segment_shares.png", "plots/psi.png"):
        assert (tmp_path / "a" / f).exists()
    assert len(list((tmp_path / "a" / "tables" / "transitions").glob("*.csv"))) == 12
    assert len(list((tmp_path / "a" / "plots" / "transitions").glob("*.png"))) == 12
    assert run.data.tags["mlflow.note.content"].startswith("### Segments over 13 snapshots")
