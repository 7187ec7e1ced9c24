"""What tests share that is not a fixture: the repository root, a dataset layout, running the commands."""

import os
import subprocess
import sys
from pathlib import Path

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


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def run_cli(*args: str, cwd: Path, env_extra: dict | None = None, timeout: int = 300, module="rfmlab.cli"):
    """``python -m <module> args`` (the ``rfmlab`` command by default), output captured as text."""
    env = _env()
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


def spawn_cli(*args: str, cwd: Path = ROOT) -> subprocess.Popen:
    """The rfmlab CLI in the background (stderr captured as text), for kill and concurrency tests."""
    return subprocess.Popen([sys.executable, "-m", "rfmlab.cli", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip


def artifacts(client, run_id: str, path: str = "") -> list[str]:
    """Every artifact path of a run (an MLflow client's listing, folders walked)."""
    out = []
    for f in client.list_artifacts(run_id, path):
        out += artifacts(client, run_id, f.path) if f.is_dir else [f.path]
    return out
