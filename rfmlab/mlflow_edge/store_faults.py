"""The store's faults in rfmlab's words: a corrupt, read-only, unreadable or full MLflow store, an artifact folder
that cannot be written. ``explain`` finds the fault along an exception's chain (MLflow wraps SQLAlchemy, which wraps
sqlite3; an artifact copy raises a bare OSError) and returns one line naming the file and the fix; ``translated``
raises it instead. No mlflow import: the faults are recognised by their standard-library types.

SQLite's errors are read only for ``sqlite:///`` stores (another database names its own files); a permission or
read-only error only when it concerns the database or the run's artifact folder (a data file that cannot be read is
the data loader's to report); a full disk wherever it is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from rfmlab.errors import RfmlabError

ELSEWHERE = "point tracking.uri / the artifact root elsewhere"
_OS_FAULTS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM)


class StoreError(RfmlabError):
    """The MLflow store or its artifact folder cannot be used as it is (corrupt, read-only, unreadable, full)."""


def uri_of(option: str | None) -> str:
    """The store a command uses: ``option``, else ``$MLFLOW_TRACKING_URI``, else ``<cwd>/mlruns/mlflow.db``."""
    if option:
        return option
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve() / 'mlruns' / 'mlflow.db'}"


def sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` store (None for any other store)."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///") :].split("?")[0])


def local_dir(uri: str | None) -> Path | None:
    """A ``file:`` artifact URI (or a plain path) as a local folder; None for remote artifact stores."""
    if not uri:
        return None
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(uri).path))
    return None if "://" in uri else Path(uri)


@contextlib.contextmanager
def translated(uri: str, *, artifacts: Path | None = None):
    """Inside the block, a store fault (``explain``) is raised as a StoreError from the original exception."""
    try:
        yield
    except Exception as e:
        fault = explain(e, uri=uri, artifacts=artifacts)
        if fault is None or fault is e:
            raise
        raise fault from e


def explain(e: BaseException, *, uri: str, artifacts: Path | None = None) -> StoreError | None:
    """The store fault behind ``e`` in one line (file and fix), or None when ``e`` is something else."""
    if isinstance(e, RfmlabError):  # already said in rfmlab's words (an unreadable data file is a DataError)
        return e if isinstance(e, StoreError) else None
    db = sqlite_file(uri)
    for cause in _chain(e):
        if db is not None and isinstance(cause, sqlite3.DatabaseError):
            fault = _database_fault(cause, db=db)
            if fault is not None:
                return fault
        if isinstance(cause, OSError) and cause.errno in _OS_FAULTS:
            fault = _os_fault(cause, db=db, artifacts=artifacts)
            if fault is not None:
                return fault
    return None


def _chain(e: BaseException) -> list[BaseException]:
    """``e``, what it wraps (SQLAlchemy's ``orig``) and its causes and contexts, nearest first."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [e]
    while todo and len(seen) < 30:
        x = todo.pop(0)
        if x is None or any(x is s for s in seen):
            continue
        seen.append(x)
        todo += [getattr(x, "orig", None), x.__cause__, x.__context__]
    return seen


def _database_fault(e: sqlite3.DatabaseError, *, db: Path) -> StoreError | None:
    code = getattr(e, "sqlite_errorname", "") or ""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else code
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in msg or "not a database" in msg:
        return StoreError(
            f"the MLflow store {db} is corrupt ({msg}); restore it from a backup or point tracking.uri at another store"
        )
    if code.startswith("SQLITE_READONLY") or "readonly database" in msg:
        return StoreError(
            f"the MLflow store {db} is read-only ({msg}); make it and its folder {db.parent} writable "
            "or point tracking.uri at another store"
        )
    if code.startswith("SQLITE_CANTOPEN") or "unable to open" in msg:
        return StoreError(
            f"the MLflow store {db} cannot be opened ({msg}); make it and its folder {db.parent} readable and "
            "writable or point tracking.uri at another store"
        )
    if code.startswith("SQLITE_FULL") or "disk is full" in msg:
        return StoreError(f"no space left on device writing {db} ({msg}); free space or {ELSEWHERE}")
    return None


def _os_fault(e: OSError, *, db: Path | None, artifacts: Path | None) -> StoreError | None:
    """An OSError about the store's files: the database and its side files, the run's artifact folder, or a folder
    on the way to either. A full disk is one whatever the file; without a file name (MLflow's artifact copy writes
    through an open file) it is the folder, of the store's, the run's and the temporary one, with least room."""
    targets = [p.absolute() for p in (db, artifacts) if p is not None]
    if e.filename is None:
        if e.errno != errno.ENOSPC:
            return None
        path = min([*(t.parent if t == db else t for t in targets), Path(tempfile.gettempdir())], key=_free_bytes)
    else:
        path = Path(os.fsdecode(e.filename)).absolute()
        if e.errno != errno.ENOSPC and not any(_related(path, t) for t in targets):
            return None
    if e.errno == errno.ENOSPC:
        return StoreError(f"no space left on device writing {path}; free space or {ELSEWHERE}")
    what = "read-only file system" if e.errno == errno.EROFS else "permission denied"
    return StoreError(f"cannot write {path} ({what}); make it writable or {ELSEWHERE}")


def _related(path: Path, target: Path) -> bool:
    """``path`` is ``target``, inside it, a folder on the way to it, or a side file of it (``mlflow.db-journal``)."""
    if path == target or path in target.parents or target in path.parents:
        return True
    return path.parent == target.parent and path.name.startswith(target.name)


def _free_bytes(path: Path) -> int:
    for p in (path, *path.parents):
        with contextlib.suppress(OSError):
            return shutil.disk_usage(p).free
    return 0
