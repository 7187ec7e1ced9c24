"""Fill the summary table of ``benchmarks.md`` from ``benchmarks/results.json``.

Run by the mkdocs-gen-files plugin on every docs build (see ``mkdocs.yml``): it reads ``docs/benchmarks.md``,
replaces the ``<!-- bench-summary ... -->`` marker line with the table that ``make bench`` writes into the README
(``table()`` of ``benchmarks/run_all.py``, so the two never differ), and hands the page to the build.
Standalone it prints the page: ``python docs/gen_benchmarks.py > /tmp/benchmarks.md``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "benchmarks.md"
MARKER = re.compile(r"^<!-- bench-summary.*-->[ \t]*$", re.M)


def summary() -> str:
    spec = importlib.util.spec_from_file_location("rfmlab_bench_run_all", ROOT / "benchmarks" / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)  # standard library only; main() is not called
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    return run_all.table(results)


def render() -> str:
    page = (ROOT / "docs" / PAGE).read_text(encoding="utf-8")
    if not MARKER.search(page):
        raise RuntimeError(f"docs/{PAGE} has no '<!-- bench-summary -->' marker line for the results table")
    return MARKER.sub(lambda _: summary(), page, count=1)


if __name__ == "__main__":
    sys.stdout.write(render())
else:  # run by mkdocs-gen-files during a build
    import mkdocs_gen_files

    with mkdocs_gen_files.open(PAGE, "w") as fh:
        fh.write(render())
