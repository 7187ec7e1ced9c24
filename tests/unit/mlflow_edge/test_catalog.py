"""The artifact catalog names every path a run holds (the contract users compare runs by)."""

import json

from helpers import ROOT

from rfmlab.mlflow_edge import catalog

SCHEMES = ("four_tier", "mean_split_8", "quartile", "rfm11", "value_risk")
CHARTS = ("optimization_history", "param_importances", "slice")


def named_paths() -> set[str]:
    fixed = {v for k, v in vars(catalog).items() if k.isupper() and isinstance(v, str)}
    per_scheme = {
        f(s) for s in SCHEMES for f in (catalog.scheme_segments, catalog.contingency, catalog.contingency_png)
    }
    charts = {catalog.optuna_chart(c) for c in CHARTS}
    return fixed | per_scheme | charts


def test_every_artifact_of_the_stored_run_record_is_named_by_the_catalog():
    record = json.loads((ROOT / "tests" / "e2e" / "expected" / "run_record.json").read_text())
    for job in ("single", "search"):
        assert set(record[job]["artifacts"]) - named_paths() == set()


def test_paths_are_relative_and_unique():
    paths = [v for k, v in vars(catalog).items() if k.isupper() and isinstance(v, str)]
    assert len(paths) == len(set(paths)) and not any(p.startswith("/") for p in paths)
    assert catalog.transitions("2010-01-01", "2010-02-01") == "tables/transitions/2010-01-01_to_2010-02-01.csv"
