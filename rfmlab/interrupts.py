"""Stop signals (SIGTERM, SIGHUP) raised where it is safe: at once in rfmlab's own code, but never inside a library's
bookkeeping (Optuna recording a trial's state), where they are held until the block ends (``deferred``)."""

from __future__ import annotations

import contextlib

from rfmlab.errors import Terminated

_pending: int | None = None
_depth = 0


def request(signum: int) -> None:
    """A stop signal arrived: raise it now, or hold it when inside ``deferred``."""
    global _pending
    if _depth:
        _pending = signum
        return
    raise Terminated(signum)


def check() -> None:
    """Raise a held signal (a safe point: the start of a trial, between trials)."""
    global _pending
    if _pending is not None:
        signum, _pending = _pending, None
        raise Terminated(signum)


@contextlib.contextmanager
def deferred():
    """Hold stop signals inside the block (raised at its end); ``allowed`` re-opens them inside."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
    check()


@contextlib.contextmanager
def allowed():
    """Inside a ``deferred`` block, the part where a signal may be raised at once (a trial's own work, which Optuna
    fails cleanly on a KeyboardInterrupt)."""
    global _depth
    saved, _depth = _depth, 0
    try:
        check()
        yield
    finally:
        _depth = saved
