"""Real servers for tests, each on 127.0.0.1 with a free port and stopped at the end: PostgreSQL (Debian's
server, run as the ``postgres`` user when the tests run as root), ``mlflow server`` on top of it, and an
S3-compatible object store (moto's standalone server: real HTTP, nothing patched in the process under test)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin(name: str) -> str:
    """A PostgreSQL server program: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql (make test does)")
    return found


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _wait(ok, what: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        with contextlib.suppress(Exception):
            if ok():
                return
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not start in {timeout:.0f} s")


@contextlib.contextmanager
def postgres(databases: tuple[str, ...], *, password: str | None = None):
    """A PostgreSQL server with ``databases`` created, in a directory of its own (the ``postgres`` user cannot
    enter pytest's root-only temporary directories), removed at the end; yields its base URL (no database).
    With ``password``, connections over TCP must give it (scram-sha-256) and the URL holds it."""
    import tempfile

    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="rfmlab-pg-"))
    data = tmp / "pgdata"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
    auth = ["-A", "trust"]
    if password:
        (tmp / "pw").write_text(password)
        if os.geteuid() == 0:
            shutil.chown(tmp / "pw", "postgres")
        auth = ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={tmp / 'pw'}"]
    subprocess.run(
        _as_postgres([pg_bin("initdb"), "-D", str(data), "-U", "rfmlab", *auth]), check=True, capture_output=True
    )
    port = free_port()
    proc = subprocess.Popen(
        _as_postgres([pg_bin("postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(tmp)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        dsn = f"host=127.0.0.1 port={port} user=rfmlab dbname=postgres" + (f" password={password}" if password else "")
        _wait(lambda: psycopg.connect(dsn).close() is None, "postgres", proc)
        conn = psycopg.connect(dsn, autocommit=True)
        with conn.cursor() as cur:
            for db in databases:
                cur.execute(f"CREATE DATABASE {db}")
        conn.close()
        from urllib.parse import quote

        yield f"postgresql://rfmlab{':' + quote(password, safe='') if password else ''}@127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def mlflow_server(backend: str, artifacts: Path):
    """``mlflow server`` with ``backend`` as its store; yields its URL."""
    port = free_port()
    mlflow = str(Path(sys.executable).with_name("mlflow"))
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.Popen(
        [mlflow, "server", "--backend-store-uri", backend, "--artifacts-destination", str(artifacts),
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: urllib.request.urlopen(f"{url}/health", timeout=2).status == 200, "mlflow server", proc, 120)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@contextlib.contextmanager
def optuna_dashboard(storage: str, cwd: Path):
    """``make dashboard`` (optuna-dashboard on ``storage``, the documented command) on a free port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        ["make", "-s", "dashboard", f"STUDIES={storage}", f"DASH_PORT={port}"],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # make and the dashboard it starts: stopped together
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: urllib.request.urlopen(f"{url}/api/studies", timeout=2).status == 200, "optuna-dashboard", proc)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


@contextlib.contextmanager
def s3_server():
    """moto's standalone S3-compatible server (``python -m moto.server``, the ``s3server`` extra); yields its
    endpoint URL. Any access key is accepted; buckets live in its memory and vanish with it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # a line per request: a pipe nobody reads would fill and stall the server
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2).status == 200, "moto server", proc)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
