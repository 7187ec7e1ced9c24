"""Store faults found along an exception's chain and said in one line naming the file and the fix; a run that fails
on one keeps its reason. The errors are real: SQLite's (through SQLAlchemy, as MLflow raises them) and writes into
/dev/full; tests/e2e/test_store_faults.py has the read-only and full file systems."""

import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
import sqlalchemy
from mlflow.tracking import MlflowClient

from rfmlab.errors import DataError
from rfmlab.mlflow_edge import store_faults, tracking
from rfmlab.mlflow_edge.store_faults import StoreError


def sqlalchemy_error(db: Path | str, sql: str) -> sqlalchemy.exc.DBAPIError:
    """What MLflow's store raises: SQLAlchemy's error wrapping sqlite3's."""
    engine = sqlalchemy.create_engine(f"sqlite:///{db}")
    with pytest.raises(sqlalchemy.exc.DBAPIError) as info, engine.connect() as con:
        con.execute(sqlalchemy.text(sql))
        con.commit()
    engine.dispose()
    return info.value


def a_database(db: Path) -> Path:
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (a TEXT)")
        con.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    return db


def test_a_corrupt_database_is_named_with_the_fix(tmp_path):
    db = a_database(tmp_path / "mlflow.db")
    os.truncate(db, db.stat().st_size // 2)
    e = sqlalchemy_error(db, "SELECT count(*), max(a) FROM t")
    msg = str(store_faults.explain(e, uri=f"sqlite:///{db}"))
    assert msg == (
        f"the MLflow store {db} is corrupt (database disk image is malformed); restore it from a backup or point "
        "tracking.uri at another store"
    )


def test_a_read_only_or_unopenable_database_is_named(tmp_path):
    db = a_database(tmp_path / "mlflow.db")
    readonly = sqlalchemy_error(f"file:{db}?mode=ro&uri=true", "INSERT INTO t VALUES ('y')")
    msg = str(store_faults.explain(readonly, uri=f"sqlite:///{db}"))
    assert msg.startswith(f"the MLflow store {db} is read-only (attempt to write a readonly database); ")
    assert f"make it and its folder {tmp_path} writable" in msg
    missing = tmp_path / "gone" / "mlflow.db"
    cantopen = sqlalchemy_error(missing, "SELECT 1")
    msg = str(store_faults.explain(cantopen, uri=f"sqlite:///{missing}"))
    assert msg.startswith(f"the MLflow store {missing} cannot be opened (unable to open database file); ")


def test_a_full_disk_is_named(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(OSError) as info, open("/dev/full", "wb") as f:
        f.write(b"x")
        f.flush()
    fault = store_faults.explain(info.value, uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifacts=tmp_path / "art")
    assert isinstance(fault, StoreError)
    # no file name on a failed write: the store's, the run's or the temporary folder, whichever has least room
    roots = {tmp_path, tmp_path / "art", Path(tempfile.gettempdir())}
    assert any(
        str(fault) == f"no space left on device writing {root}; free space or {store_faults.ELSEWHERE}"
        for root in roots
    )


def test_what_is_not_the_store_is_left_alone(tmp_path):
    db = a_database(tmp_path / "mlflow.db")
    uri, run_folder = f"sqlite:///{db}", tmp_path / "artifacts" / "exp" / "run" / "artifacts"
    os.truncate(db, db.stat().st_size // 2)
    corrupt = sqlalchemy_error(db, "SELECT count(*), max(a) FROM t")
    assert store_faults.explain(corrupt, uri="postgresql://u@host/mlflow") is None  # names its own files
    beside = PermissionError(13, "Permission denied", str(tmp_path / "orders.csv"))
    assert store_faults.explain(beside, uri=uri, artifacts=run_folder) is None  # the data loader's to report
    try:
        raise DataError("cannot read orders.csv (permission denied); ...") from beside
    except DataError as e:
        assert store_faults.explain(e, uri=uri) is None  # said already
    assert store_faults.explain(ValueError("bad value"), uri=uri) is None
    on_the_way = PermissionError(13, "Permission denied", str(tmp_path / "artifacts" / "exp"))
    assert str(store_faults.explain(on_the_way, uri=uri, artifacts=run_folder)) == (
        f"cannot write {tmp_path / 'artifacts' / 'exp'} (permission denied); make it writable or point tracking.uri "
        "/ the artifact root elsewhere"
    )
    journal = OSError(30, "Read-only file system", f"{db}-journal")
    assert "cannot write " + f"{db}-journal (read-only file system)" in str(store_faults.explain(journal, uri=uri))


def test_init_store_names_a_file_that_is_not_a_database_and_leaves_it(tmp_path):
    db = tmp_path / "mlflow.db"
    db.write_bytes(os.urandom(8192))
    before = db.read_bytes()
    with pytest.raises(StoreError, match=r"the MLflow store .*mlflow\.db is corrupt \(file is not a database\)"):
        tracking.init_store(f"sqlite:///{db}")
    assert db.read_bytes() == before


def test_a_run_that_fails_on_a_full_disk_keeps_its_reason(store):
    """The body writes into /dev/full (ENOSPC): the run ends FAILED, its tag holds the one-line reason, and the
    StoreError is raised from the OSError."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    full = pytest.raises(StoreError, match="^no space left on device writing ")
    with full as info, tracking.start_run(store, experiment="faults") as handle:
        Path("/dev/full").write_bytes(b"x" * 4096)
    assert isinstance(info.value.__cause__, OSError)
    run = MlflowClient(store).get_run(handle.run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["rfmlab.error"] == f"StoreError: {info.value}"
    assert "error.txt" in {f.path for f in MlflowClient(store).list_artifacts(handle.run_id)}


def test_the_reason_is_kept_when_error_txt_cannot_be_written(store):
    """error.txt is an artifact; an artifact folder that refuses it (here a file where the run's folder should be)
    still leaves the reason in the run's tag."""
    with pytest.raises(RuntimeError, match="the fit broke"), tracking.start_run(store, experiment="faults") as handle:
        folder = handle.artifact_dir()
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.write_text("not a folder")
        raise RuntimeError("the fit broke")
    run = MlflowClient(store).get_run(handle.run_id)
    assert run.info.status == "FAILED" and run.data.tags["rfmlab.error"] == "RuntimeError: the fit broke"
