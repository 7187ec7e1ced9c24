"""The documentation site builds with --strict (a broken link, a missing page or a failing generator fails the
suite), and its generated reference pages hold what the code and conf/ say."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow


def test_the_site_builds_strict_with_generated_reference_pages(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    res = subprocess.run([str(mkdocs), "build", "--strict", "-d", str(tmp_path / "site")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    site = tmp_path / "site"
    config = (site / "reference" / "configuration" / "index.html").read_text()
    assert "gap_refs" in config and "count_params" in config and "max_exact" in config
    commands = (site / "reference" / "commands" / "index.html").read_text()
    assert "rfmlab-timeline" in commands and "rfmlab-score" in commands and "--tracking-uri" in commands
    api = (site / "reference" / "api" / "index.html").read_text()
    assert "build_segmenter" in api and "SegmentsSpec" in api and "k_report" in api
    assert (site / "explanation" / "architecture" / "index.html").read_text().count("mlflow_edge") >= 2
