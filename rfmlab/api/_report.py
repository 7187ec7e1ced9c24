"""``rfmlab.report_page``: a run's ``report.html`` rebuilt from what it logged (and printed to PDF), for any run,
older ones included (what ``rfmlab-report`` does; the command calls this)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from rfmlab.errors import RfmlabError
from rfmlab.jobs import report_page as pages
from rfmlab.mlflow_edge import tracking


def report_page(
    run_id: str,
    *,
    output: str | PathLike | None = None,
    pdf: bool = False,
    overwrite: bool = False,
    tracking_uri: str | None = None,
    ui_url: str | None = None,
) -> Path:
    """Write the report page of run ``run_id`` (a single fit, a search or an over-time run) to ``output``
    (default ``report-<run id prefix>.html``), and with ``pdf=True`` also a PDF beside it (headless Chromium).

    The page is self-contained (styles and figures inside, no network request) and made from the run's logged
    tables and figures, so it can be rebuilt for runs made before the page existed.

    Returns:
        The HTML file's path (the PDF is the same path with ``.pdf``).
    """
    target = Path(output) if output is not None else Path(f"report-{run_id[:8]}.html")
    if target.suffix.lower() not in (".html", ".htm"):
        raise RfmlabError(f"--output {target} must end in .html (the PDF is written beside it with --pdf)")
    pdf_path = target.with_suffix(".pdf")
    for path in [target] + ([pdf_path] if pdf else []):
        if path.exists() and not overwrite:
            raise RfmlabError(f"{path} exists; pass --overwrite to replace it, or choose another --output")
    if pdf:
        pages.chromium()  # a missing Chromium is named before any work
    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    html = pages.build(uri, run_id, ui_url=ui_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    if pdf:
        pages.to_pdf(target, pdf_path=pdf_path)
    return target
