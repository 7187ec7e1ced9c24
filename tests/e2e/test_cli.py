"""End-to-end: the rfmlab CLI into a temporary MLflow store, read back with the MLflow client."""

import json
from pathlib import Path

import mlflow
import polars as pl
import pytest
from helpers import ROOT, artifacts, run_cli
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow
SMALL = ["dataset.synthetic.n_customers=400", "plots.max_points=500", "search=none"]


def test_run_logs_a_finished_comparable_run(store, tmp_path):
    res = run_cli(
        *SMALL, f"tracking.uri={store}", "algorithm=hdbscan", "algorithm.params.min_cluster_size=15", cwd=ROOT
    )
    assert res.returncode == 0, res.stderr
    assert "silhouette" in res.stdout and "workflowType=machine_learning" in res.stdout
    client = MlflowClient(store)
    exp = client.get_experiment_by_name("ecommerce")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    assert str(tmp_path / "mlruns" / "artifacts") in exp.artifact_location
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.status == "FINISHED"
    m = run.data.metrics
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "n_clusters", "noise_fraction"} <= set(m)
    assert -1 <= m["silhouette"] <= 1 and m["n_clusters"] >= 2 and 0 <= m["noise_fraction"] < 1
    p = run.data.params
    assert p["algorithm.name"] == "hdbscan" and p["algorithm.params.min_cluster_size"] == "15"
    assert len(p["data.digest"]) == 64 and p["features.transform"] == "['log', 'standard']"
    assert run.data.tags["rfmlab.version"] and run.data.tags.get("mlflow.source.git.commit")
    files = set(artifacts(client, run.info.run_id))
    assert {
        "config/config.yaml",
        "data/cleaning_report.json",
        "tables/customers.parquet",
        "tables/customers.csv",
        "tables/profile.csv",
        "plots/rfm_scatter_3d.png",
        "plots/rfm_scatter_3d.html",
        "plots/cluster_sizes.png",
        "plots/rfm_boxplots.png",
        "plots/profile_heatmap.png",
    } <= files
    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, tracking_uri=store, dst_path=str(tmp_path / "dl")
    )
    customers = pl.read_parquet(f"{local}/tables/customers.parquet")
    assert customers.height == 400 and customers["customer_id"].n_unique() == 400
    assert {"recency", "frequency", "monetary", "return_rate", "cluster"} <= set(customers.columns)
    assert customers["cluster"].n_unique() - (customers["cluster"] == -1).any() == m["n_clusters"]
    # segments: one column per rule scheme, named clusters, agreement metrics and the marketing page
    for scheme in ("mean_split_8", "quartile", "rfm11", "four_tier", "value_risk"):
        assert scheme in customers.columns and customers[scheme].null_count() == 0
        assert -1 <= m[f"ari_vs_{scheme}"] <= 1 and f"ami_vs_{scheme}" in m
        assert f"plots/contingency_{scheme}.png" in files and f"tables/contingency_{scheme}.csv" in files
    names = json.loads(Path(local, "tables", "cluster_names.json").read_text())
    assert customers["segment"].n_unique() == len(names)
    seg = pl.read_csv(f"{local}/tables/segments.csv")
    assert seg["customers"].sum() == 400 and seg["action"].null_count() == 0
    assert "segments/summary.html" in files and "tables/segments_rfm11.csv" in files
    profile = pl.read_csv(f"{local}/tables/profile.csv")
    assert profile["size"].sum() == 400 and profile["revenue_share"].sum() == pytest.approx(1.0)
    report = json.loads(Path(local, "data", "cleaning_report.json").read_text())
    assert report["customers_out"] == 400 and report["rows_in"] - sum(report["dropped"].values()) == report["rows_out"]
    assert (run.inputs.dataset_inputs[0].dataset.digest or "") in p["data.digest"]
    # the run's description (its Overview page in the UI) tells the story with the run's own numbers
    note = run.data.tags["mlflow.note.content"]
    title = f"### hdbscan on ecommerce: {int(m['n_clusters'])} clusters, silhouette {m['silhouette']:.4g}"
    assert note.startswith(title)
    assert f"{report['rows_in']:,} rows in" in note and "**400 customers**" in note
    assert "min_cluster_size=15" in note and "exact fit" in note
    for name, n in customers.group_by("segment").len().iter_rows():
        assert f"| {name} | {n:,} | {n / 400:.1%} |" in note
    # clusterwise stability: per cluster under its business name, noise left out, summarised in two metrics
    stab = pl.read_csv(f"{local}/tables/stability.csv")
    clusters = sorted(int(c) for c in names if c != "-1")  # noise (-1, "Outliers") is no cluster
    assert stab["cluster"].to_list() == clusters and (customers["cluster"] == -1).any()
    assert stab["segment"].to_list() == [names[str(c)] for c in stab["cluster"].to_list()]
    weights = stab["customers_in_sample"].to_numpy()
    assert m["stability"] == pytest.approx(float((stab["stability"] * weights).sum() / weights.sum()))
    assert m["stability_min"] == pytest.approx(stab["stability"].min()) and "plots/stability.png" in files
    assert set(stab["reading"]) <= {"dissolved", "doubtful", "stable", "highly stable"}
    assert "cluster stability" in res.stdout and "(noise left out)" in res.stdout


def test_bad_override_is_a_one_line_error_with_exit_2(store):
    res = run_cli(f"tracking.uri={store}", "algorithm=spectral", cwd=ROOT)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr and "algorithm" in res.stderr


def test_bad_data_fails_the_run_in_mlflow_and_exits_2(store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("InvoiceNo,Quantity,InvoiceDate,UnitPrice\n1,2,2021-01-01 10:00:00,3.0\n")
    res = run_cli(f"tracking.uri={store}", f"dataset.path={bad}", cwd=ROOT)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    err_lines = [line for line in res.stderr.splitlines() if "error" in line]
    assert len(err_lines) == 1 and "'CustomerID'" in err_lines[0] and "InvoiceNo" in err_lines[0]
    client = MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("ecommerce").experiment_id])
    assert run.info.status == "FAILED"
    assert "CustomerID" in run.data.tags["rfmlab.error"]
    assert "config/config.yaml" in artifacts(client, run.info.run_id)  # logged before the failure: kept
    assert "error.txt" in artifacts(client, run.info.run_id)


def test_multirun_grid_gives_one_run_per_combination_with_one_sweep_id(store):
    grid = [
        "-m",
        *SMALL,
        "plots.enabled=false",
        f"tracking.uri={store}",
        "features=log,standard",
        "algorithm=kmeans,hdbscan",
    ]
    res = run_cli(*grid, "algorithm.params.n_clusters=4", cwd=ROOT, timeout=600)
    # n_clusters is a kmeans param: composing it into hdbscan is refused up front with exit 2
    assert res.returncode == 2 and "Could not override 'algorithm.params.n_clusters'" in res.stderr
    res = run_cli(*grid, "tracking.experiment=grid", cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr
    client = MlflowClient(store)
    runs = client.search_runs([client.get_experiment_by_name("grid").experiment_id])
    combos = {(r.data.params["features.name"], r.data.params["algorithm.name"]) for r in runs}
    assert combos == {("log", "kmeans"), ("log", "hdbscan"), ("standard", "kmeans"), ("standard", "hdbscan")}
    assert all(r.info.status == "FINISHED" for r in runs)
    assert len({r.data.tags["rfmlab.sweep_id"] for r in runs}) == 1


@pytest.mark.realdata
def test_stock_market_seed_experiment_runs_both_algorithms(store, shared_data):
    res = run_cli(
        "-m",
        "+experiment=stock_market_seed",
        "plots.enabled=false",
        "tracking.log_model=false",
        f"tracking.uri={store}",
        cwd=ROOT,
        timeout=600,
        env_extra={"RFMLAB_SHARED_DATA": str(shared_data)},
    )
    assert res.returncode == 0, res.stderr
    client = MlflowClient(store)
    runs = client.search_runs([client.get_experiment_by_name("study_stock_market_seed").experiment_id])
    by_algo = {r.data.params["algorithm.name"]: r for r in runs}
    assert set(by_algo) == {"kmeans", "dbscan"}
    assert by_algo["kmeans"].data.metrics["n_clusters"] == 5
    assert by_algo["dbscan"].data.params["algorithm.effective_params"] == "{'eps': 0.2, 'min_samples': 5}"
    assert all(r.data.tags["rfmlab.study"] == "stock_market_seed" for r in runs)
    # the real file in the seed layout, cancellations dropped: every customer with one valid purchase line
    import csv
    import gzip

    with gzip.open(shared_data / "online_retail.csv.gz", "rt", encoding="utf-8") as f:
        valid = {
            r["CustomerID"]
            for r in csv.DictReader(f)
            if r["CustomerID"]
            and not r["InvoiceNo"].startswith("C")
            and float(r["Quantity"]) * float(r["UnitPrice"]) > 0
            and float(r["UnitPrice"]) > 0
        }
    assert all(r.data.metrics["n_customers"] == len(valid) for r in runs)


def test_mlflow_ui_serves_the_run_and_its_plots(store, tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    res = run_cli(*SMALL, f"tracking.uri={store}", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    client = MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("ecommerce").experiment_id])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "ui",
            "--backend-store-uri",
            store,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        rid = run.info.run_id
        with urllib.request.urlopen(f"{base}/api/2.0/mlflow/runs/get?run_id={rid}", timeout=10) as r:
            got = json.load(r)["run"]
        assert got["info"]["status"] == "FINISHED"
        with urllib.request.urlopen(
            f"{base}/get-artifact?path=plots/rfm_scatter_3d.png&run_uuid={rid}", timeout=10
        ) as r:
            assert r.status == 200 and r.read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        ui.terminate()
        ui.wait(timeout=20)


@pytest.mark.parametrize(
    "override, selected",
    [("segments=quartile", ["quartile"]), ("segments=[quartile,four_tier]", ["four_tier", "quartile"]),
     ("segments=[]", [])],
)  # fmt: skip
def test_any_selection_of_schemes_runs_and_clusters_keep_their_rfm11_names(store, tmp_path, override, selected):
    res = run_cli(*SMALL, f"tracking.uri={store}", "plots.enabled=false", override, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    client = MlflowClient(store)
    (run,) = client.search_runs([client.get_experiment_by_name("ecommerce").experiment_id])
    assert run.data.params["segments.schemes"] == str(selected)
    assert run.data.params["segments.naming"] == "rfm11"
    files = set(artifacts(client, run.info.run_id))
    assert {f for f in files if f.startswith("tables/segments_")} == {f"tables/segments_{s}.csv" for s in selected}
    assert "tables/segments.csv" in files  # the clusters' rfm11 names, selected or not
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, tracking_uri=store, dst_path=str(tmp_path))
    customers = pl.read_parquet(f"{local}/tables/customers.parquet")
    rfm11 = {
        "Champions", "Loyal Customers", "Potential Loyalists", "Recent Customers", "Promising",
        "Customers Needing Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost",
    }  # fmt: skip
    assert set(customers["segment"]) <= rfm11 and customers["segment"].n_unique() >= 2
    scheme_cols = {"mean_split_8", "quartile", "rfm11", "four_tier", "value_risk"} & set(customers.columns)
    assert scheme_cols == set(selected)


def test_a_search_sweep_prints_nothing_but_rfmlabs_own_lines(store):
    # hdbscan on few customers: min_cluster_size barely varies (Optuna's contour would warn), every trial is
    # a child run, the refitted model is logged from code (no pyfunc type-hint or CloudPickle warnings)
    res = run_cli("-m", "dataset.synthetic.n_customers=600", "plots.max_points=300", f"tracking.uri={store}",
                  "algorithm=kmeans,hdbscan", "search.n_trials=4", cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    lowered = res.stdout.lower()
    assert "warning" not in lowered and "traceback" not in lowered
    assert lowered.count("rfmlab search (best trial refitted)") == 2


def test_help_introduces_rfmlab_its_groups_and_examples():
    res = run_cli("--help", cwd=ROOT)
    assert res.returncode == 0 and res.stderr == ""
    out = res.stdout
    assert out.startswith("rfmlab: RFM customer segmentation") and "powered by Hydra" not in out
    groups = {line.split(":")[0] for line in out.split("== Examples ==")[0].splitlines() if ": " in line}
    assert {"algorithm", "dataset", "features", "search", "segments", "experiment"} <= groups
    examples = [line.split("#")[0].split() for line in out.splitlines() if line.strip().startswith("rfmlab ")]
    assert len(examples) >= 5
    from hydra import compose, initialize_config_dir

    from rfmlab.cli import CONF_DIR

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        for words in examples:  # every example composes (a sweep: its first combination)
            overrides = [w.split("=")[0] + "=" + w.split("=")[1].split(",")[0] for w in words[1:] if w != "-m"]
            compose(config_name="config", overrides=overrides)
    assert out.index("== Examples ==") < out.index("== Config ==") < out.index("n_customers: 5000")
