"""The rfmlab commands run by the tests in processes forked from one that has already imported rfmlab's
dependencies (MLflow alone takes 2-6 s to import; the suite runs the commands some 300 times).

Each command still runs in a process of its own, with its own arguments, working directory, environment, standard
streams, exit code and exit handlers, as ``python -m MODULE ARGS`` would: only the imports are done once. The
server is started by ``helpers.run_cli`` the first time a test worker needs it and ends with the worker (its stdin
closes). Run as a script, this module is the server: it reads one JSON request per line and answers one.
``RFMLAB_TEST_FORKSERVER=0`` turns it off (every command a fresh ``python -m``)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PRELOAD = (
    "numpy", "scipy.optimize", "sklearn.cluster", "sklearn.metrics", "mlflow", "mlflow.pyfunc", "mlflow.tracking",
    "optuna", "hydra", "omegaconf", "hdbscan", "polars", "pyarrow", "plotly.graph_objects", "rich.console",
    "rfmlab.cli.main", "rfmlab.cli.command", "rfmlab.jobs.single", "rfmlab.jobs.search", "rfmlab.jobs.timeline",
    "rfmlab.mlflow_edge.tracking", "rfmlab.api",
)  # fmt: skip


# ---- the server (a separate process: the pytest worker runs threads of its own and must not fork) ----


def _child(req: dict) -> None:
    """In the forked process: become ``python -m module args`` in ``cwd`` with ``env``; never return."""
    import atexit
    import runpy
    import traceback

    code: object = 0
    try:
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        stdin = os.open(os.devnull, os.O_RDONLY)
        out = os.open(req["stdout"], os.O_WRONLY | os.O_TRUNC)
        err = os.open(req["stderr"], os.O_WRONLY | os.O_TRUNC)
        for fd, target in ((stdin, 0), (out, 1), (err, 2)):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__  # the server keeps its answers apart
        sys.argv = [req["module"], *req["args"]]
        sys.path[0] = req["cwd"]  # python -m puts the working directory first
        runpy.run_module(req["module"], run_name="__main__", alter_sys=True)
    except SystemExit as e:
        code = e.code
    except BaseException:
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        threading._shutdown()  # as the interpreter does at exit: wait for non-daemon threads
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int | None, float]:
    """The child's exit code (negative: the signal that ended it; None when it outlived ``timeout``) and the CPU
    seconds it used."""
    import time

    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            return None, 0.0
        time.sleep(pause)
        pause = min(pause * 1.5, 0.05)


def serve() -> None:
    import importlib
    import signal

    os.environ.setdefault("MPLBACKEND", "Agg")  # as the commands' entry points set it (cli.headless)
    for name in PRELOAD:
        importlib.import_module(name)
    answer = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    print("ready", file=answer, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _child(req)
        code, cpu = _wait(pid, req["timeout"])
        if code is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if log := os.environ.get("RFMLAB_TEST_FORKSERVER_LOG"):  # CPU seconds per command, to measure the suite
            with open(log, "a") as f:
                f.write(f"{cpu:.2f} {req['module']} {' '.join(req['args'])[:120]}\n")
        print(json.dumps({"code": code}), file=answer, flush=True)


# ---- the client (in the pytest worker) ----


class _Server:
    def __init__(self) -> None:
        here = Path(__file__).resolve().parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve())], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=here.parent)  # fmt: skip
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the test fork server did not start")
        self.lock = threading.Lock()
        import atexit

        atexit.register(self.stop)

    def stop(self) -> None:
        """End the server and wait for it (its CPU time then counts in this process's children's)."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def run(self, module: str, args: list[str], *, cwd: Path, env: dict, timeout: float):
        with tempfile.TemporaryDirectory(prefix="rfmlab-fork-") as d:
            out, err = Path(d, "stdout"), Path(d, "stderr")
            out.touch()
            err.touch()
            req = {"module": module, "args": list(args), "cwd": str(cwd), "env": env, "timeout": timeout,
                   "stdout": str(out), "stderr": str(err)}  # fmt: skip
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline()
            if not reply:
                raise RuntimeError("the test fork server ended")
            code = json.loads(reply)["code"]
            stdout = out.read_text(errors="replace")
            stderr = err.read_text(errors="replace")
        cmd = [sys.executable, "-m", module, *args]
        if code is None:
            raise subprocess.TimeoutExpired(cmd, timeout, output=stdout, stderr=stderr)
        return subprocess.CompletedProcess(cmd, code, stdout, stderr)


_server: _Server | None = None
_started = threading.Lock()


def enabled() -> bool:
    return os.environ.get("RFMLAB_TEST_FORKSERVER", "1") != "0" and hasattr(os, "fork")


def run(module: str, args, *, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess | None:
    """``python -m module args`` through the fork server; None when it is busy (another thread of this worker is
    running a command: the caller starts a process of its own then)."""
    global _server
    with _started:
        if _server is None or _server.proc.poll() is not None:
            _server = _Server()
    server = _server
    if not server.lock.acquire(blocking=False):
        return None
    try:
        return server.run(module, list(args), cwd=Path(cwd), env=env, timeout=timeout)
    finally:
        server.lock.release()


if __name__ == "__main__":
    serve()
