"""``report.html`` made from what a run logged (its record, tables and figures), so a finishing run and
``rfmlab-report`` rebuilding any older run make the same page; optionally printed to PDF by headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from rfmlab.errors import RfmlabError
from rfmlab.mlflow_edge import catalog, runs, tracking
from rfmlab.report import page, page_timeline

SEGMENTATION_FIGURES = {
    catalog.CLUSTER_SIZES_PNG: "Customers per segment",
    catalog.PROFILE_HEATMAP: "What sets the segments apart (each feature against the average segment)",
    catalog.SCATTER_3D: "Customers by recency, frequency and monetary value (a sample)",
    catalog.STABILITY_PNG: "How stable each segment is when the customers are resampled",
    catalog.N_CLUSTERS_PNG: "How many segments: what each criterion says",
    catalog.CLV_SEGMENTS_PNG: "Expected customer value by segment (BG/NBD + Gamma-Gamma)",
    catalog.CLV_P_ALIVE_PNG: "How likely a customer is still active, by purchase frequency and recency",
    catalog.CLV_PURCHASES_PNG: "Expected purchases in the coming days, by frequency and recency",
    catalog.CLV_HOLDOUT_PNG: "Holdout check: predicted against actual purchases and spend",
}
TIMELINE_FIGURES = {
    catalog.SEGMENT_SHARES_PNG: "Segment shares at each snapshot",
    catalog.SANKEY_PNG: "How customers flowed between segments",
    catalog.PSI_PNG: "Feature drift (PSI) against the reference",
}


class _Reader:
    """One run's artifacts, each downloaded once into a temporary folder."""

    def __init__(self, uri: str, run_id: str, tmp: str):
        self.uri, self.run_id, self.tmp = uri, run_id, tmp
        self.paths = set(runs.artifacts(uri, run_id))

    def file(self, path: str) -> Path | None:
        return runs.download(self.uri, self.run_id, path=path, dst=self.tmp) if path in self.paths else None

    def table(self, path: str) -> pl.DataFrame | None:
        local = self.file(path)
        if local is None:
            return None
        return pl.read_parquet(local) if local.suffix == ".parquet" else pl.read_csv(local, infer_schema_length=None)

    def images(self, captions: dict[str, str]) -> dict[str, bytes]:
        return {cap: local.read_bytes() for path, cap in captions.items() if (local := self.file(path)) is not None}


def _listed(text: str | None) -> str:
    """A logged list param (``"['log', 'standard']"``) as words: ``log, standard``."""
    import ast

    try:
        return ", ".join(map(str, ast.literal_eval(text or "[]")))
    except (ValueError, SyntaxError):
        return str(text)


def _when(rec: dict) -> str:
    return datetime.fromtimestamp(rec["start_time"] / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _search(rec: dict, reader: _Reader) -> dict | None:
    p, t, m = rec["params"], rec["tags"], rec["metrics"]
    if p.get("search.name") != "optuna":
        return None
    best = {k[5:]: v for k, v in t.items() if k.startswith("best.") and k != "best.trial"}
    objective = p.get("search.metric") if p.get("search.objectives") in (None, "None") else p["search.objectives"]
    picks = reader.table(catalog.N_CLUSTERS)
    if picks is not None:
        picks = picks.select([c for c in ("k", "silhouette", "stability", "davies_bouldin") if c in picks.columns])
    return {
        "trials": m.get("n_trials_complete", 0),
        "objective": objective,
        "best": f"trial {t.get('best.trial')} ({', '.join(f'{k}={v}' for k, v in best.items())})",
        "picks": picks,
    }


def _source(p: dict) -> str:
    """Where the run's data came from, in words: a database (the server as logged, its query), a path, the generator."""
    if p.get("data.server") not in (None, "None"):
        return f"{p['data.query']} on {p['data.server']}"
    if p.get("dataset.path") not in (None, "None"):
        return p["dataset.path"]
    return "the embedded synthetic log"


def segmentation_facts(rec: dict, reader: _Reader, *, url: str) -> page.Facts:
    p, m = rec["params"], rec["metrics"]
    profile = reader.table(catalog.PROFILE)
    cleaning = reader.file(catalog.CLEANING_REPORT)
    fitted = {k.split(".", 2)[2]: v for k, v in p.items() if k.startswith("algorithm.params.")}
    source = _source(p)
    return page.Facts(
        title=f"Customer segments: {p.get('dataset.name', rec['experiment'])}",
        run_id=rec["run_id"],
        url=url,
        experiment=rec["experiment"] or "",
        status=rec["status"],
        when=_when(rec),
        dataset=p.get("dataset.name", ""),
        source=source,
        analysis_date=p.get("analysis_date", "n/a"),
        cleaning=json.loads(cleaning.read_text()) if cleaning else {},
        algorithm=p.get("algorithm.name", ""),
        params=", ".join(f"{k}={v}" for k, v in fitted.items()) or "its defaults",
        features=f"{_listed(p.get('features.columns'))} (transformed by {_listed(p.get('features.transform'))})",
        metrics=m,
        profile=profile,
        segments=reader.table(catalog.SEGMENTS),
        stability=reader.table(catalog.STABILITY),
        search=_search(rec, reader),
        images=reader.images(SEGMENTATION_FIGURES),
    )


def timeline_facts(rec: dict, reader: _Reader, *, url: str) -> page_timeline.TimelineFacts:
    p, t = rec["params"], rec["tags"]
    prefix = "tables/transitions/"
    transitions = {}
    for path in sorted(x for x in reader.paths if x.startswith(prefix) and x.endswith(".csv")):
        a, b = path[len(prefix) : -4].split("_to_")
        transitions[(a, b)] = reader.table(path)
    return page_timeline.TimelineFacts(
        title="Customers over time",
        run_id=rec["run_id"],
        url=url,
        experiment=rec["experiment"] or "",
        when=_when(rec),
        source=p.get("input", ""),
        segmented_by=t.get("rfmlab.model_uri") or t.get("rfmlab.scheme") or "a rule scheme",
        every=p.get("every", ""),
        counts=reader.table(catalog.SEGMENT_COUNTS),
        transitions=transitions,
        psi=reader.table(catalog.PSI),
        threshold=float(p.get("psi_threshold", 0.2)),
        images=reader.images(TIMELINE_FIGURES),
    )


def build(uri: str, run_id: str, *, ui_url: str | None = None) -> str:
    """The report page of a run (a single fit, a search's parent or an over-time run) from its artifacts."""
    rec = runs.read_run(uri, run_id)
    url = tracking.run_url(tracking.ui_url({"ui_url": ui_url}, uri), rec["experiment_id"], run_id)
    with tempfile.TemporaryDirectory() as tmp:
        reader = _Reader(uri, run_id, tmp)
        if catalog.SEGMENT_COUNTS in reader.paths:
            return page_timeline.timeline_page(timeline_facts(rec, reader, url=url))
        if catalog.PROFILE not in reader.paths:
            raise RfmlabError(
                f"run {run_id} has no segmentation to report (a trial, a comparison or a run that failed before "
                "its tables were logged); give a single-fit, search or over-time run"
            )
        return page.segmentation_page(segmentation_facts(rec, reader, url=url))


def log(handle, *, ui_url: str | None = None) -> None:
    """Build the page from what ``handle``'s run has logged so far and log it as ``report.html``."""
    handle.log_text(build(handle.uri, handle.run_id, ui_url=ui_url), catalog.REPORT)


def chromium() -> str:
    """The Chromium executable (Debian's ``chromium``), or a one-line error saying how to get it."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    raise RfmlabError("--pdf prints the page with headless Chromium, which is not installed; apt-get install chromium")


def to_pdf(html_path: Path, *, pdf_path: Path, timeout: int = 120) -> Path:
    """Print a page to PDF with headless Chromium (no network: the page holds everything it shows)."""
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",  # no network (loopback
               "--proxy-bypass-list=<-loopback>",  # included): the page needs none
               "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RfmlabError(f"Chromium could not print {html_path} to PDF: {res.stderr.strip().splitlines()[-1:]}")
    return pdf_path
