"""report.html: every run logs one self-contained page for marketing, and rfmlab-report rebuilds it (and a PDF
through headless Chromium) for any run."""

import re
from pathlib import Path

import pytest
from helpers import run_cli

from rfmlab.data import synthetic

pytestmark = pytest.mark.slow

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*['"]?((?:https?:)?//[^'" >]+)""")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    res = run_cli("search.n_trials=3", "dataset.synthetic.n_customers=500", f"tracking.uri={uri}", cwd=tmp)
    assert res.returncode == 0, res.stderr
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    (parent,) = [r for r in client.search_runs(["1"]) if "mlflow.parentRunId" not in r.data.tags]
    return tmp, uri, client, parent


def test_a_search_logs_its_report_page_and_the_command_rebuilds_it(store):
    tmp, uri, client, parent = store
    logged = client.download_artifacts(parent.info.run_id, "report.html", str(tmp / "dl"))
    html = Path(logged).read_text(encoding="utf-8")
    assert "<script" not in html.lower() and len(html) < 5_000_000
    assert {u.split("#")[0] for u in EXTERNAL.findall(html)} == {"http://127.0.0.1:5000/"}  # links to the run only
    import polars as pl

    segments = pl.read_csv(client.download_artifacts(parent.info.run_id, "tables/segments.csv", str(tmp / "dl")))
    assert html.count("<div class='card'") == int(parent.data.metrics["n_clusters"]) == segments.height
    assert all(f"<h3>{name}</h3>" in html for name in segments["segment"])
    assert html.count("data:image/png;base64,") >= 4 and "Suggested action:" in html
    assert "3 trials by silhouette" in html and "What each criterion would choose" in html
    out = tmp / "rebuilt.html"
    res = run_cli(parent.info.run_id, "--output", str(out), "--tracking-uri", uri, cwd=tmp,
                  module="rfmlab.cli.report")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert out.read_text(encoding="utf-8") == html  # the same page from the same logged tables and figures
    again = run_cli(parent.info.run_id, "--output", str(out), "--tracking-uri", uri, cwd=tmp,
                    module="rfmlab.cli.report")  # fmt: skip
    assert again.returncode == 2 and "exists; pass --overwrite" in again.stderr and "Traceback" not in again.stderr


def test_the_page_prints_to_pdf_with_chromium(store):
    tmp, uri, client, parent = store
    out = tmp / "print" / "page.html"
    res = run_cli(parent.info.run_id, "--output", str(out), "--pdf", "--tracking-uri", uri, cwd=tmp,
                  module="rfmlab.cli.report", timeout=180)  # fmt: skip
    assert res.returncode == 0, res.stderr
    pdf = out.with_suffix(".pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) > 50_000
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2  # the cards and the charts fill more than one page


def test_refusals_are_one_line(store):
    tmp, uri, client, parent = store
    child = next(r for r in client.search_runs(["1"]) if "mlflow.parentRunId" in r.data.tags)
    for run_id, words in [(child.info.run_id, "has no segmentation to report"), ("nope", "no run 'nope'")]:
        res = run_cli(run_id, "--tracking-uri", uri, cwd=tmp, module="rfmlab.cli.report")
        assert res.returncode == 2 and words in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_an_over_time_run_logs_its_page(tmp_path):
    log = tmp_path / "orders.parquet"
    synthetic.generate("ecommerce", n_customers=600, seed=2).write_parquet(log)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    res = run_cli("--scheme", "rfm11", "--input", str(log), "--dataset", "ecommerce", "--every", "quarter",
                  "--tracking-uri", uri, cwd=tmp_path, module="rfmlab.cli.timeline")  # fmt: skip
    assert res.returncode == 0, res.stderr
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("timeline").experiment_id])
    html = Path(client.download_artifacts(run.info.run_id, "report.html", str(tmp_path))).read_text(encoding="utf-8")
    assert "Largest movements" in html and "Segment shares, first and last snapshot" in html
    assert "5 snapshots every quarter" in html and html.count("data:image/png;base64,") == 3
    assert "<script" not in html.lower() and not [u for u in EXTERNAL.findall(html) if "127.0.0.1:5000" not in u]
