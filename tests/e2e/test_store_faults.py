"""The store's faults in rfmlab's words: one line on stderr naming the file and the fix, exit code 2, in seconds, and
nothing already logged damaged. A tracking server that does not answer; a corrupt, read-only or full MLflow store; an
artifact folder that cannot be written; a corrupt Optuna journal; SIGTERM while a run logs its artifacts.

Read-only folders and full disks are real: a read-only bind mount or a small full tmpfs in a mount namespace of the
command's own (``helpers.in_namespace``: ``unshare -m`` as root, ``unshare -rm`` otherwise), since root ignores file
modes. Without namespaces a read-only folder falls back to file modes (not as root) and a full disk is skipped; the
unit tests (tests/unit/mlflow_edge/test_store_faults.py) still write into /dev/full.
"""

import hashlib
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from helpers import in_namespace, run_cli, spawn_cli
from mlflow.tracking import MlflowClient

from rfmlab.mlflow_edge import tracking

pytestmark = pytest.mark.slow
SMALL = ["search=none", "dataset.synthetic.n_customers=300", "tracking.log_model=false"]


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


# --- helpers ---------------------------------------------------------------------------------------------------------


def one_error(res) -> str:
    """The single stderr line of a user error (exit 2, no traceback)."""
    assert res.returncode == 2, res.stderr[-3000:]
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-3000:]
    assert lines[0].startswith("rfmlab: error: ")
    return lines[0]


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def logged_store(tmp_path_factory) -> Path:
    """A store holding one finished run (experiment ``earlier``) with a parameter and an artifact: what a test breaks
    (a copy), or where it logs (its schema made once)."""
    db = tmp_path_factory.mktemp("logged") / "mlruns" / "mlflow.db"
    with tracking.start_run(f"sqlite:///{db}", experiment="earlier") as handle:
        handle.log_params({"algorithm": "kmeans"})
        handle.log_text("kept", "notes.txt")
    return db


@pytest.fixture
def read_only():
    """``read_only(folder)``: the command prefix under which ``folder`` is read-only (a read-only bind mount), or
    without a mount namespace, not as root, ``[]`` with the folder's write bits cleared (restored after)."""
    cleared: list[tuple[Path, int]] = []

    def make(folder: Path) -> list[str]:
        q = shlex.quote(str(folder))
        prefix = in_namespace(f"mount --bind {q} {q} && mount -o remount,bind,ro {q}")
        if prefix is not None:
            return prefix
        if os.geteuid() == 0:
            pytest.skip("root ignores file modes and this machine allows no mount namespace")
        for p in [folder, *folder.rglob("*")]:
            mode = p.stat().st_mode
            cleared.append((p, mode))
            p.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        return []

    yield make
    for p, mode in reversed(cleared):
        p.chmod(mode)


def full_disk(folder: Path, *, seed: Path | None = None, after: str = "") -> list[str]:
    """The command prefix under which ``folder`` is a full tmpfs (holding a copy of ``seed`` if given)."""
    q = shlex.quote(str(folder))
    size = 256 + (seed.stat().st_size // 1024 if seed else 0)
    copy = f" && cp {shlex.quote(str(seed))} {q}/" if seed else ""
    prefix = in_namespace(
        f"mount -t tmpfs -o size={size}k tmpfs {q}{copy} && {{ dd if=/dev/zero of={q}/filler bs=4k 2>/dev/null; :; }}",
        after=after,
    )
    if prefix is None:
        pytest.skip("this machine allows no mount namespace for a small tmpfs (the unit tests write into /dev/full)")
    return prefix


def the_run(db: Path, experiment: str = "ecommerce"):
    client = MlflowClient(f"sqlite:///{db}")
    (run,) = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    return run


# --- the MLflow store ------------------------------------------------------------------------------------------------


def corrupt(db: Path, how: str) -> None:
    size = db.stat().st_size
    if how == "truncated":
        os.truncate(db, size // 2)
    else:  # garbage over the middle half, where MLflow's migrations left pages of the schema SQLite reads on opening
        with db.open("r+b") as f:
            f.seek(size // 4)
            f.write(os.urandom(size // 2))


@pytest.mark.parametrize(
    ("how", "command"),
    [("truncated", "rfmlab"), ("garbage", "rfmlab"), ("truncated", "rfmlab -m"), ("truncated", "rfmlab-promote")],
)
def test_a_corrupt_store_is_named_and_left_as_it_is(logged_store, tmp_path, how, command):
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    shutil.copy(logged_store, db)
    corrupt(db, how)
    before = digest(db)
    uri = f"sqlite:///{db}"
    module, args = {
        "rfmlab": ("rfmlab.cli", [*SMALL, f"tracking.uri={uri}"]),
        "rfmlab -m": ("rfmlab.cli", ["-m", *SMALL, "seed=1,2", f"tracking.uri={uri}"]),  # refused before any job
        "rfmlab-promote": ("rfmlab.cli.promote", ["--best", "--experiment", "ecommerce", "--tracking-uri", uri]),
    }[command]
    line = one_error(run_cli(*args, cwd=tmp_path, module=module, timeout=120))
    assert f"the MLflow store {db} is corrupt (database disk image is malformed)" in line
    assert "restore it from a backup or point tracking.uri at another store" in line
    assert digest(db) == before  # nothing written into it


def test_a_read_only_store_is_named_and_left_as_it_is(logged_store, tmp_path, read_only):
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    shutil.copy(logged_store, db)
    before = digest(db)
    prefix = read_only(db.parent)
    line = one_error(run_cli(*SMALL, f"tracking.uri=sqlite:///{db}", cwd=tmp_path, prefix=prefix, timeout=120))
    assert f"the MLflow store {db} is read-only (attempt to write a readonly database)" in line
    assert f"make it and its folder {db.parent} writable or point tracking.uri at another store" in line
    assert digest(db) == before and integrity(db) == "ok"


def test_a_read_only_mlruns_folder_is_named_before_hydra_writes_there(tmp_path, read_only):
    """The default store's folder is also where Hydra writes each run's config (mlruns/.hydra)."""
    (tmp_path / "mlruns").mkdir()
    line = one_error(run_cli(*SMALL, cwd=tmp_path, prefix=read_only(tmp_path / "mlruns"), timeout=120))
    assert f"cannot write Hydra's output folder {tmp_path / 'mlruns' / '.hydra' / 'runs'}/" in line
    assert f"({tmp_path / 'mlruns'}: " in line
    assert "set hydra.run.dir=FOLDER" in line


def seeded(logged_store: Path, tmp_path: Path) -> Path:
    """``tmp_path/mlruns/mlflow.db``, a copy of the logged store (no schema to create: seconds saved)."""
    db = tmp_path / "mlruns" / "mlflow.db"
    (db.parent / "artifacts").mkdir(parents=True)
    shutil.copy(logged_store, db)
    return db


def test_a_read_only_artifact_folder_fails_the_run_with_its_reason(logged_store, tmp_path, read_only):
    db = seeded(logged_store, tmp_path)
    artifacts = db.parent / "artifacts"
    res = run_cli(*SMALL, f"tracking.uri=sqlite:///{db}", cwd=tmp_path, prefix=read_only(artifacts), timeout=120)
    line = one_error(res)
    assert f"cannot write {artifacts / 'ecommerce'} (" in line and "make it writable or point tracking.uri" in line
    run = the_run(db)
    assert run.info.status == "FAILED"
    assert run.data.tags["rfmlab.error"] == "StoreError: " + line.removeprefix("rfmlab: error: ")
    assert integrity(db) == "ok"


# --- a full disk -----------------------------------------------------------------------------------------------------


def test_a_full_artifact_disk_fails_the_run_with_its_reason(logged_store, tmp_path):
    db = seeded(logged_store, tmp_path)
    artifacts = db.parent / "artifacts"
    res = run_cli(*SMALL, f"tracking.uri=sqlite:///{db}", cwd=tmp_path, prefix=full_disk(artifacts), timeout=120)
    line = one_error(res)
    run = the_run(db)
    assert f"no space left on device writing {artifacts / 'ecommerce' / run.info.run_id / 'artifacts'}" in line
    assert "free space or point tracking.uri / the artifact root elsewhere" in line
    assert run.info.status == "FAILED" and run.data.tags["rfmlab.error"].endswith(line.removeprefix("rfmlab: error: "))
    assert integrity(db) == "ok"


def test_a_full_database_disk_is_named_and_the_store_stays_whole(logged_store, tmp_path):
    store, kept = tmp_path / "store", tmp_path / "kept"
    store.mkdir()
    kept.mkdir()
    db = store / "mlflow.db"
    prefix = full_disk(store, seed=logged_store, after=f"cp {shlex.quote(str(db))} {shlex.quote(str(kept))}/")
    line = one_error(run_cli(*SMALL, f"tracking.uri=sqlite:///{db}", cwd=tmp_path, prefix=prefix, timeout=120))
    assert f"no space left on device writing {db} (database or disk is full)" in line
    assert integrity(kept / "mlflow.db") == "ok"  # the store as the full disk left it
    assert the_run(kept / "mlflow.db", "earlier").data.params == {"algorithm": "kmeans"}


# --- the Optuna journal ----------------------------------------------------------------------------------------------


def test_a_corrupt_optuna_journal_is_named_with_its_line(logged_store, tmp_path):
    import optuna
    from optuna.storages.journal import JournalFileBackend

    journal = seeded(logged_store, tmp_path).parent / "optuna.journal"  # the default stores of tmp_path
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    optuna.create_study(storage=storage, study_name="earlier").optimize(lambda t: t.suggest_float("x", 0, 1), 2)
    n = len(journal.read_bytes().splitlines())
    with journal.open("ab") as f:
        f.write(b"\x00garbage appended by a crash\n")
    before = digest(journal)
    res = run_cli("search=optuna", "search.n_trials=2", "dataset.synthetic.n_customers=300", cwd=tmp_path, timeout=120)
    line = one_error(res)
    assert f"the Optuna journal {journal} is corrupt at line {n + 1} (not JSON)" in line
    assert "restore it, remove the broken tail, or set search.storage to another file" in line
    assert digest(journal) == before


# --- SIGTERM while a run logs its artifacts --------------------------------------------------------------------------


def test_sigterm_while_logging_to_mlflow_marks_the_run_killed(logged_store, tmp_path):
    """The single fit's last stage ("log to MLflow") writes the tables, then the plots (seconds): the signal lands
    once the tables are there, before the run has finished."""
    db = seeded(logged_store, tmp_path)
    proc = spawn_cli(*SMALL, f"tracking.uri=sqlite:///{db}", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if list((db.parent / "artifacts").glob("ecommerce/*/artifacts/tables/customers.parquet")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    run = the_run(db)
    assert run.info.status == "KILLED" and run.data.tags["rfmlab.error"].startswith("Terminated: SIGTERM")
    assert "mlflow.note.content" not in run.data.tags  # the stage's last write never happened
    error = MlflowClient(f"sqlite:///{db}").download_artifacts(run.info.run_id, "error.txt", str(tmp_path))
    assert "SIGTERM" in Path(error).read_text()
    assert integrity(db) == "ok"
