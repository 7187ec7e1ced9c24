import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# conf/dataset/online_retail.yaml's column mapping, for tests that build a DatasetSpec by hand
ONLINE_RETAIL = {
    "customer": "CustomerID",
    "invoice": "InvoiceNo",
    "date": "InvoiceDate",
    "quantity": "Quantity",
    "price": "UnitPrice",
}


def shared_data_dir() -> Path | None:
    env = os.environ.get("RFMLAB_SHARED_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is absent (set RFMLAB_SHARED_DATA)")
    return path


@pytest.fixture
def store(tmp_path) -> str:
    """A fresh SQLite MLflow store in a temporary directory."""
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


def run_cli(*args: str, cwd: Path, env_extra: dict | None = None, timeout: int = 300, module="rfmlab.cli"):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def spawn_cli(*args: str, cwd: Path = ROOT) -> subprocess.Popen:
    """The rfmlab CLI in the background (stderr captured as text), for kill and concurrency tests."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.Popen(
        [sys.executable, "-m", "rfmlab.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
