"""Every HTML page rfmlab writes works without a network (issue 23): a small default search, a second run, their
comparison and an over-time run; each page of every run is downloaded and must name no other host (bar plain <a>
links) and, if it draws plotly figures, inline plotly.js exactly once; and the plotly pages draw in a headless
Chromium cut off from the network (Debian's package; ``make test`` installs it)."""

import functools
import http.server
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import ROOT, network_references, plotly_bundles, run_cli
from mlflow import MlflowClient
from plotly.offline import get_plotlyjs

from rfmlab.data import synthetic
from rfmlab.mlflow_edge import catalog

pytestmark = pytest.mark.slow
PLOTLY_PAGES = {catalog.SCATTER_3D_HTML, catalog.SEARCH_CHARTS_PAGE, catalog.SANKEY}
STATIC_PAGES = {catalog.SEGMENTS_PAGE, catalog.COMPARISON_PAGE, catalog.REPORT}
SVG = '<svg class="main-svg"'  # an SVG plotly.js drew (the bundle's code holds no such markup)
# every request but file: fails: host names do not resolve, and everything else, loopback too, goes to a closed port
NO_NETWORK = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("offline")
    uri = f"sqlite:///{tmp}/mlflow.db"
    common = ["dataset.synthetic.n_customers=400", f"tracking.uri={uri}", f"hydra.run.dir={tmp}/hydra"]
    res = run_cli("search.n_trials=4", f"search.storage={tmp}/optuna.journal", *common, cwd=tmp)
    assert res.returncode == 0, res.stderr
    res = run_cli("search=none", "plots.enabled=false", "evaluation.stability.enabled=false", *common, cwd=tmp)
    assert res.returncode == 0, res.stderr
    res = run_cli("--experiment", "ecommerce", "--tracking-uri", uri, cwd=ROOT, module="rfmlab.cli.compare")
    assert res.returncode == 0, res.stderr
    synthetic.generate("ecommerce", n_customers=400, seed=3).write_csv(tmp / "log.csv")
    res = run_cli("--scheme", "rfm11", "--input", str(tmp / "log.csv"), "--tracking-uri", uri, cwd=ROOT,
                  module="rfmlab.cli.timeline")  # fmt: skip
    assert res.returncode == 0, res.stderr
    return uri, tmp


@pytest.fixture(scope="module")
def pages(store) -> dict[str, Path]:
    """'<run name>/<artifact path>' -> the downloaded file, for every .html artifact of every run in the store."""
    uri, tmp = store
    client = MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    out = {}
    for run in client.search_runs(exps):
        local = Path(client.download_artifacts(run.info.run_id, "", str(tmp / "downloaded" / run.info.run_id)))
        out |= {f"{run.info.run_name}/{f.relative_to(local).as_posix()}": f for f in local.rglob("*.html")}
    return out


def kind(name: str) -> str:
    return name.split("/", 1)[1]


def test_every_page_of_a_search_a_comparison_and_an_over_time_run_needs_no_network(pages):
    assert {kind(name) for name in pages} == PLOTLY_PAGES | STATIC_PAGES  # every kind of page rfmlab writes
    for name, path in pages.items():
        page = path.read_text(encoding="utf-8")
        assert network_references(page) == [], name
        if kind(name) in PLOTLY_PAGES:
            assert plotly_bundles(page) == 1 and page.count("plotly.js v") == 1, name
            assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE), name
        else:
            assert plotly_bundles(page) == 0 and "<script" not in page.lower(), name
    (charts,) = [path for name, path in pages.items() if kind(name) == catalog.SEARCH_CHARTS_PAGE]
    assert charts.read_text().count('class="plotly-graph-div"') == 3  # optimization_history, param_importances, slice


def rendered(page: Path, *, profile: Path, flags: list[str]) -> str:
    """The DOM a headless Chromium holds once ``page`` has loaded and run its scripts (10 s of virtual time)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("no chromium on PATH: make test installs Debian's package (apt-get install chromium)")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
           "--virtual-time-budget=10000", *flags, "--dump-dom", page.as_uri()]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def test_blocking_the_network_stops_a_page_that_loads_plotly_js_from_elsewhere(tmp_path):
    """The control: the same page draws when plotly.js comes from a (local) server, and not once the network is
    cut off; so the pages below draw because they need no network, not because nothing was blocked."""
    (tmp_path / "plotly.min.js").write_text(get_plotlyjs())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        src = f"http://127.0.0.1:{server.server_address[1]}/plotly.min.js"
        page = tmp_path / "elsewhere.html"
        page.write_text(f"<html><body><script src='{src}'></script><div id='g'></div>"
                        "<script>Plotly.newPlot('g', [{y: [1, 3, 2]}])</script></body></html>")  # fmt: skip
        assert SVG in rendered(page, profile=tmp_path / "profile", flags=[])
        assert SVG not in rendered(page, profile=tmp_path / "profile", flags=NO_NETWORK)
    finally:
        server.shutdown()


def test_the_plotly_pages_draw_in_a_browser_cut_off_from_the_network(pages, tmp_path):
    drawn = {name: path for name, path in pages.items() if kind(name) in PLOTLY_PAGES}
    assert {kind(name) for name in drawn} == PLOTLY_PAGES
    for name, path in drawn.items():
        dom = rendered(path, profile=tmp_path / "profile", flags=NO_NETWORK)
        figures = path.read_text(encoding="utf-8").count('class="plotly-graph-div"')
        assert dom.count(SVG) >= figures >= 1, name  # plotly.js ran and drew each figure's SVG layers
        assert ">WebGL is not supported" not in dom, name  # the 3-D scatter's WebGL scene was set up
        if kind(name) == catalog.SANKEY:
            assert '<g class="sankey-node' in dom


def test_the_report_pages_render_with_every_figure_offline(pages, tmp_path):
    """The report page of the search, the single run and the over-time run, printed by headless Chromium with the
    network cut off (what ``rfmlab-report --pdf`` does): every figure of the page is in the PDF."""
    from rfmlab.jobs import report_page

    reports = {name: path for name, path in pages.items() if kind(name) == catalog.REPORT}
    assert len(reports) == 3 and any(name.startswith("track-") for name in reports)  # an over-time run's too
    printed = {}
    for i, (name, path) in enumerate(reports.items()):
        pdf = report_page.to_pdf(path, pdf_path=tmp_path / f"{i}.pdf").read_bytes()
        printed[name] = len(re.findall(rb"/Subtype\s*/Image", pdf))
        assert printed[name] == path.read_text(encoding="utf-8").count("<img"), name
    assert sum(n >= 3 for n in printed.values()) == 2  # the search's and the over-time run's charts (one has none)
