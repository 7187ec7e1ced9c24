"""The store's faults in rfmlab's words: a tracking server that does not answer is refused in seconds, in one line."""

import socket
import time

import pytest
from helpers import run_cli

pytestmark = pytest.mark.slow


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free, and nobody listens once the socket closes


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("rfmlab.cli", ["search=none", "dataset.synthetic.n_customers=300"]),
        ("rfmlab.cli.promote", ["--best", "--experiment", "ecommerce"]),
    ],
)
def test_an_unreachable_tracking_server_is_refused_in_seconds(module, args, tmp_path):
    uri = f"http://127.0.0.1:{closed_port()}"
    option = [f"tracking.uri={uri}"] if module == "rfmlab.cli" else ["--tracking-uri", uri]
    t0 = time.monotonic()
    res = run_cli(*args, *option, cwd=tmp_path, module=module, timeout=120)
    seconds = time.monotonic() - t0
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr
    assert f"tracking server {uri} is not reachable" in lines[0] and "mlflow server" in lines[0]
    assert seconds < 15  # the bound; MLflow's own retries took about four minutes
