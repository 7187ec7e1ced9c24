"""A built wheel works outside the repository: its configs ship inside it, and the commands run from any folder.

The wheel is installed without ``-e`` into a new virtual environment. Its dependencies come from the test's own
environment through a ``.pth`` line (a full download of mlflow & co. takes a minute and 1.2 GB; measured), so what
is checked is the wheel's own content: packages, package data (conf/) and entry points."""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import polars as pl
import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel_cmd = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp / "dist")]
    build = subprocess.run(wheel_cmd, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = (tmp / "dist").glob("rfmlab-*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(env_dir / "bin" / "python"), "-c", where], capture_output=True, text=True, check=True)
    site = site.stdout.strip()
    Path(site, "rfmlab_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    return env_dir / "bin"


def run(bin_dir: Path, cmd: str, *args: str, cwd: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
    return subprocess.run([str(bin_dir / cmd), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_the_installed_package_is_the_wheels_with_its_configs(installed, tmp_path):
    code = ("import rfmlab, rfmlab.resources as r, pathlib; print(rfmlab.__file__); "
            "print(pathlib.Path(r.CONF_DIR, 'config.yaml').is_file())")  # fmt: skip
    res = run(installed, "python", "-c", code, cwd=tmp_path)
    where, has_conf = res.stdout.split()
    assert str(ROOT) not in where and "site-packages" in where and has_conf == "True"


def test_commands_run_from_a_folder_outside_the_repository(installed, tmp_path):
    help_ = run(installed, "rfmlab", "--help", cwd=tmp_path)
    assert help_.returncode == 0 and "rfmlab: RFM customer segmentation" in help_.stdout and help_.stderr == ""
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    job = run(installed, "rfmlab", "search=none", "dataset.synthetic.n_customers=400", "plots.enabled=false",
              "evaluation.stability.enabled=false", f"tracking.uri={uri}", cwd=tmp_path)  # fmt: skip
    assert job.returncode == 0, job.stderr
    assert "mlflow ui --backend-store-uri" in job.stdout and "make ui" not in job.stdout  # no Makefile out here
    from mlflow import MlflowClient

    (r,) = MlflowClient(uri).search_runs([MlflowClient(uri).get_experiment_by_name("ecommerce").experiment_id])
    assert r.info.status == "FINISHED" and r.data.metrics["n_customers"] == 400
    customers = pl.DataFrame({"customer_id": ["a", "b"], "recency": [3.0, 300.0], "frequency": [12.0, 1.0],
                              "monetary": [5000.0, 20.0]})  # fmt: skip
    customers.write_csv(tmp_path / "new.csv")
    score = run(installed, "rfmlab-score", "--model", r.data.tags["rfmlab.model_uri"], "--input", "new.csv",
                "--output", "scored.csv", "--tracking-uri", uri, cwd=tmp_path)  # fmt: skip
    assert score.returncode == 0, score.stderr
    scored = pl.read_csv(tmp_path / "scored.csv")
    assert scored["customer_id"].to_list() == ["a", "b"] and scored["segment"].null_count() == 0
    assert scored["segment"][0] != scored["segment"][1]  # a champion-like and a lost-like customer


SCRIPT = """
import sys
import numpy as np
from sklearn.base import clone
import rfmlab
from mlflow import MlflowClient

data, uri = sys.argv[1], sys.argv[2]
customers, report = rfmlab.customer_table(data, dataset="online_retail")
model = rfmlab.RFMSegmenter(params={"n_clusters": 5, "n_init": 10}, random_state=42, stability=False)
twin = clone(model)
labels = twin.fit(customers).predict(customers)
result = rfmlab.run(["search=none", "dataset=online_retail", f"dataset.path={data}", "plots.enabled=false",
                     "evaluation.stability.enabled=false"], tracking_uri=uri, experiment="wheel")
run = MlflowClient(uri).get_run(result.run_id)
print(customers.height, report.customers_out, len(set(labels.tolist())), hasattr(model, "labels_"),
      run.info.status, run.data.metrics["silhouette"] == result.metrics["silhouette"],
      np.array_equal(result.customers["cluster"].to_numpy(), labels), rfmlab.__file__)
"""


def test_the_python_api_from_the_installed_wheel_on_the_uci_file(installed, tmp_path, shared_data):
    """The issue's done-when: outside the repository, a script calls customer_table on the UCI file, fits, clones
    and predicts with RFMSegmenter, and runs rfmlab.run into a store where the run is FINISHED with its metrics."""
    (tmp_path / "script.py").write_text(SCRIPT)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    res = run(installed, "python", "script.py", str(shared_data / "online_retail.csv.gz"), uri, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    n, n_report, k, original_fitted, status, same_metric, same_labels, where = res.stdout.split()[-8:]
    assert (n, n_report, k, status) == ("4317", "4317", "5", "FINISHED")  # 4,317 with the default netting
    assert same_metric == "True" and same_labels == "True" and str(ROOT) not in where
    assert original_fitted == "False"  # the clone was fitted, not the estimator it was cloned from
