"""The tutorial notebooks (docs/notebooks/) run top to bottom in a fresh kernel: a notebook that breaks fails CI.

Each executes into its own temporary folder (its MLflow store there), with the shared data where CI has it."""

import importlib.util

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow

NOTEBOOKS = ROOT / "docs" / "notebooks"
_spec = importlib.util.spec_from_file_location("execute_notebooks", NOTEBOOKS / "execute.py")
notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebooks)

# what each notebook must show (text of its outputs), beside running without an error
EXPECTED = {
    "01-first-segmentation.ipynb": ["5,000 customers", "RunResult(", "True"],
    "02-your-own-data.ipynb": ["541,909 lines in", "4,317 customers", "(4317, 4338)", "True"],
    "03-search-and-k.ipynb": ["best.n_clusters", "silhouette"],
    "04-promote-and-score.ipynb": ["'alias': 'champion'", "new-1", "True"],
    "05-over-time.ipynb": ["2011-12-10", "psi"],
}


def _texts(book) -> tuple[str, int]:
    texts, images = [], 0
    for cell in book.cells:
        for out in cell.get("outputs", []):
            texts.append(str(out.get("text") or out.get("data", {}).get("text/plain", "")))
            images += "image/png" in out.get("data", {})
    return "\n".join(texts), images


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_notebook_runs_and_shows_its_results(name, tmp_path, monkeypatch, request):
    if name.startswith("02-"):
        monkeypatch.setenv("RFMLAB_SHARED_DATA", str(request.getfixturevalue("shared_data")))
    book = notebooks.execute(NOTEBOOKS / name, cwd=tmp_path)
    text, images = _texts(book)
    for words in EXPECTED[name]:
        assert words in text, (name, words)
    assert "Traceback" not in text and "Warning" not in text
    assert images >= {"01-first-segmentation.ipynb": 1, "03-search-and-k.ipynb": 2, "05-over-time.ipynb": 1}.get(
        name, 0
    )
