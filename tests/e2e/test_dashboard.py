"""optuna-dashboard on rfmlab's study storage, started the documented way (`make dashboard`)."""

import json
import urllib.request

import pytest
from helpers import ROOT, run_cli
from servers import optuna_dashboard

pytestmark = pytest.mark.slow


def get(url: str):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_make_dashboard_serves_the_search_study_over_http(tmp_path):
    journal = tmp_path / "optuna.journal"
    res = run_cli("dataset.synthetic.n_customers=500", "plots.enabled=false", "search.n_trials=6",
                  "search.k_report.enabled=false", f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
                  f"search.storage={journal}", cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    import optuna

    from rfmlab.search import studies

    (summary,) = optuna.get_all_study_summaries(storage=studies.storage_for(str(journal)))  # as rfmlab opens it
    with optuna_dashboard(str(journal), ROOT) as url:
        studies = get(f"{url}/api/studies")["study_summaries"]
        assert [s["study_name"] for s in studies] == [summary.study_name]
        assert studies[0]["directions"] == ["maximize"]
        detail = get(f"{url}/api/studies/{studies[0]['study_id']}")
        trials = detail["trials"]
        assert len(trials) == summary.n_trials == 6
        assert {t["state"] for t in trials} <= {"Complete", "Pruned"}
        best = max((t for t in trials if t["state"] == "Complete"), key=lambda t: t["values"][0])
        assert best["values"][0] == pytest.approx(summary.best_trial.value)


def test_make_dashboard_without_studies_says_what_to_do(tmp_path):
    import subprocess

    res = subprocess.run(["make", "-s", "dashboard", f"STUDIES={tmp_path}/none.journal"], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    assert res.returncode == 2
    assert "rfmlab: error: no studies in" in res.stdout + res.stderr and "run a search first" in res.stdout
