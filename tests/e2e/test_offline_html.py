"""Every HTML page rfmlab writes works without a network (issue 23): a small default search, a second run, their
comparison and an over-time run; each page of every run is downloaded and must name no other host (bar plain <a>
links) and, if it draws plotly figures, inline plotly.js exactly once."""

import re
from pathlib import Path

import pytest
from helpers import ROOT, network_references, plotly_bundles, run_cli
from mlflow import MlflowClient

from rfmlab.data import synthetic
from rfmlab.mlflow_edge import catalog

pytestmark = pytest.mark.slow
PLOTLY_PAGES = {catalog.SCATTER_3D_HTML, catalog.SEARCH_CHARTS_PAGE, catalog.SANKEY}
STATIC_PAGES = {catalog.SEGMENTS_PAGE, catalog.COMPARISON_PAGE}


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


def html_pages(uri: str, into: Path) -> dict[str, str]:
    """'<run name>/<artifact path>' -> text of every .html artifact of every run in the store."""
    client = MlflowClient(uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    pages = {}
    for run in client.search_runs(exps):
        local = Path(client.download_artifacts(run.info.run_id, "", str(into / run.info.run_id)))
        for f in local.rglob("*.html"):
            pages[f"{run.info.run_name}/{f.relative_to(local).as_posix()}"] = f.read_text(encoding="utf-8")
    return pages


def test_every_page_of_a_search_a_comparison_and_an_over_time_run_needs_no_network(store):
    uri, tmp = store
    pages = html_pages(uri, tmp / "downloaded")
    found = {name.split("/", 1)[1] for name in pages}
    assert found == PLOTLY_PAGES | STATIC_PAGES  # every kind of page rfmlab writes was looked at
    for name, page in pages.items():
        assert network_references(page) == [], name
        kind = name.split("/", 1)[1]
        if kind in PLOTLY_PAGES:
            assert plotly_bundles(page) == 1 and page.count("plotly.js v") == 1, name
            assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE), name
        else:
            assert plotly_bundles(page) == 0 and "<script" not in page.lower(), name
    charts = next(page for name, page in pages.items() if name.endswith(catalog.SEARCH_CHARTS_PAGE))
    assert charts.count('class="plotly-graph-div"') == 3  # optimization_history, param_importances, slice
