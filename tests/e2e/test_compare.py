import polars as pl
import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient
from sklearn.metrics import adjusted_rand_score

from rfmlab.mlflow_edge import tracking
from rfmlab.report import comparison


def make_run(uri, name, customers, labels, metrics):
    with tracking.start_run(
        uri, experiment="cmp", run_name=name, tags={"rfmlab.algorithm": "kmeans", "rfmlab.dataset": "t"}
    ) as h:
        h.log_metrics(metrics)
        tracking.log_tables(
            h, {"tables/customers.parquet": pl.DataFrame({"customer_id": customers, "cluster": labels})}
        )
    return h.run_id


def test_ari_matrix_on_common_customers():
    a = pl.DataFrame({"customer_id": list("abcdefgh"), "cluster": [0, 0, 1, 1, 2, 2, 0, 1]})
    b = pl.DataFrame({"customer_id": list("abcdefxy"), "cluster": [5, 5, 6, 6, 6, 6, 5, 5]})
    ari, common = comparison.ari_matrix({"A": a, "B": b})
    expected = adjusted_rand_score([0, 0, 1, 1, 2, 2], [5, 5, 6, 6, 6, 6])
    assert ari["B"][0] == pytest.approx(expected) and common[0, 1] == 6 and ari["A"][0] == 1.0


@pytest.mark.slow
def test_compare_command_logs_leaderboard_and_ari(tmp_path):
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    ids = list("abcdefgh")
    r1 = make_run(uri, "one", ids, [0, 0, 1, 1, 2, 2, 0, 1], {"silhouette": 0.4, "n_clusters": 3})
    r2 = make_run(uri, "two", ids[:6] + ["x", "y"], [5, 5, 6, 6, 6, 6, 5, 5], {"silhouette": 0.6, "n_clusters": 2})
    res = run_cli("--runs", f"{r1},{r2}", "--tracking-uri", uri, cwd=ROOT, module="rfmlab.cli.compare")
    assert res.returncode == 0, res.stderr
    assert "pairwise ARI" in res.stdout
    client = MlflowClient(uri)
    (cmp,) = [
        r
        for r in client.search_runs([client.get_experiment_by_name("cmp").experiment_id])
        if r.data.tags.get("rfmlab.kind") == "comparison"
    ]
    local = client.download_artifacts(cmp.info.run_id, "compare", str(tmp_path))
    board = pl.read_csv(f"{local}/leaderboard.csv")
    assert board["run_id"].to_list() == [r2, r1]  # sorted by silhouette
    ari = pl.read_csv(f"{local}/ari_matrix.csv")
    expected = adjusted_rand_score([0, 0, 1, 1, 2, 2], [5, 5, 6, 6, 6, 6])
    assert ari.filter(pl.col("run_id") == r1)[r2].item() == pytest.approx(expected)
    assert {f.path for f in client.list_artifacts(cmp.info.run_id, "compare")} >= {
        "compare/leaderboard.csv",
        "compare/ari_matrix.csv",
        "compare/comparison.html",
        "compare/ari_matrix.png",
    }
    res = run_cli("--experiment", "nope", "--tracking-uri", uri, cwd=ROOT, module="rfmlab.cli.compare")
    assert res.returncode == 2 and "no experiment 'nope'" in res.stderr
