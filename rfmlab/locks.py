"""A file lock shared by the stores rfmlab creates (MLflow's and Optuna's SQLite files)."""

from __future__ import annotations

import contextlib
from pathlib import Path


@contextlib.contextmanager
def sqlite_init_lock(uri: str):
    """Serialise schema creation on a local SQLite store across processes (an flock beside the file).

    MLflow and Optuna create their tables on first use; two processes doing that on a fresh file at the
    same moment break each other's migrations. Other URIs (servers) need no lock.
    """
    if not uri.startswith("sqlite:///"):
        yield
        return
    import errno
    import fcntl

    db = Path(uri[len("sqlite:///") :])
    db.parent.mkdir(parents=True, exist_ok=True)
    try:
        f = open(db.with_name(db.name + ".lock"), "a")  # noqa: SIM115 (closed by the with below)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        # a read-only folder: no process can create the schema there either; SQLite then names the store's fault
        yield
        return
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
