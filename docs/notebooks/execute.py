"""Execute the tutorial notebooks (``make notebooks``: outputs stored in place for the site; the test suite runs
the same function into a temporary folder and fails on any error).

Each notebook runs in a fresh kernel with ``cwd`` as its working folder (its MLflow store goes to
``cwd/mlruns/``). ``RFMLAB_SHARED_DATA`` tells the UCI notebook where the data is (default ``../shared/data``)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path, *, cwd: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """The notebook executed top to bottom (an error in any cell raises ``CellExecutionError``)."""
    book = nbformat.read(path, as_version=4)
    os.environ.pop("MPLBACKEND", None)  # a command's Agg (inherited by the kernel) would hide the notebook's own plots
    NotebookClient(book, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return book


def main(names: list[str]) -> None:
    paths = [HERE / n for n in names] if names else sorted(HERE.glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            t0 = time.monotonic()
            book = execute(path, cwd=Path(tmp))
            nbformat.write(book, path)
            print(f"{path.name}: {time.monotonic() - t0:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
