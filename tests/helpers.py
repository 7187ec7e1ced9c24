"""What tests share that is not a fixture: the repository root, a dataset layout, running the commands."""

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import forkserver

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
    # MLflow's set_tracking_uri / set_registry_uri also set these variables: a test that promoted in-process must
    # not point a later command's registry at its own store
    return {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}


def run_cli(*args: str, cwd: Path, env_extra: dict | None = None, timeout: int = 300, module="rfmlab.cli",
            prefix: list[str] = ()):  # fmt: skip
    """``python -m <module> args`` (the ``rfmlab`` command by default), output captured as text; ``prefix`` runs it
    under another command (``in_namespace``)."""
    env = _env()
    env.update(env_extra or {})
    if not prefix and forkserver.enabled():
        done = forkserver.run(module, args, cwd=cwd, env=env, timeout=timeout)
        if done is not None:
            return done
    return subprocess.run([*prefix, sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)  # fmt: skip


@functools.lru_cache(maxsize=1)
def _unshare() -> list[str] | None:
    """``unshare`` with a private mount namespace where this process may mount (root: ``-m``; others: a user
    namespace too, ``-rm``, where the kernel allows one), or None."""
    if shutil.which("unshare") is None:
        return None
    cmd = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
    with tempfile.TemporaryDirectory() as d:
        probe = subprocess.run([*cmd, "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', d], capture_output=True)
    return cmd if probe.returncode == 0 else None


def in_namespace(setup: str, *, after: str = "") -> list[str] | None:
    """A command prefix that runs the command in a mount namespace of its own after the shell commands ``setup`` (a
    read-only bind, a small tmpfs: what file modes cannot show to root) and then ``after``; the mounts vanish with it.
    None when this machine allows no such namespace."""
    cmd = _unshare()
    if cmd is None:
        return None
    return [*cmd, "sh", "-c", f'{setup} || exit 90; "$@"; rc=$?; {after or "true"}; exit $rc', "sh"]


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


# what a browser would fetch from another host: a src= or href= to http(s):// or // (protocol-relative) in any tag
# but a plain <a> link (links to the MLflow UI or the docs are fine), a CSS url(...) or @import of one
EXTERNAL = re.compile(
    r"<(?!a[\s>])[a-z][\w-]*\b[^>]*?\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//"
    r"|url\(\s*[\"']?\s*(?:https?:)?//|@import\s+(?:url\()?\s*[\"']?\s*(?:https?:)?//",
    re.IGNORECASE,
)
LINK = re.compile(r"<a\s[^>]*>", re.IGNORECASE)
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


def plotly_bundles(page: str) -> int:
    """How many copies of plotly.js (the bundle plotly ships, byte for byte) a page inlines."""
    from plotly.offline import get_plotlyjs

    return page.count(get_plotlyjs())


def network_references(page: str) -> list[str]:
    """Whatever in an HTML page names another host, bar plain <a> links: EXTERNAL's matches, any other http(s)://
    and any mention of a CDN (inline data: images are not read). The inlined plotly.js bundle is left out
    (``plotly_bundles`` counts it): its code names hosts only for what rfmlab's figures never use (map tiles, fonts
    and icons of map traces, topojson of geo traces, Chart Studio's upload, off by default) and in license comments
    and a WebGL help message."""
    from plotly.offline import get_plotlyjs

    rest = DATA_URI.sub("data:", LINK.sub("<a>", page.replace(get_plotlyjs(), "")))  # base64 may spell "/cdn"
    found = [m.group(0)[-80:] for m in EXTERNAL.finditer(rest)]
    found += re.findall(r"https?://[^\s\"'<>)]*", rest)
    return found + re.findall(r"[^\s\"'<>]*\bcdn[^\s\"'<>]*", rest, re.IGNORECASE)
