"""Sweeps through Hydra's submitit launcher (what SLURM users run), tested for real with submitit's local executor:
each job is a separate process started by submitit, each a tracked search with the sweep's id, then the sweep table."""

import pytest
from helpers import run_cli

pytestmark = pytest.mark.slow


def test_a_two_job_sweep_through_submitit_local(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    res = run_cli("-m", "hydra/launcher=submitit_local", "algorithm.params.n_init=3,5", "search.n_trials=2",
                  "dataset.synthetic.n_customers=300", "plots.enabled=false", "evaluation.stability.enabled=false",
                  f"tracking.uri={uri}", "tracking.experiment=slurm", cwd=tmp_path, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Submitit 'local' sweep output dir" in res.stdout + res.stderr
    assert "best trial per search" in res.stdout and res.stdout.count("FINISHED") == 2
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("slurm").experiment_id
    parents = [r for r in client.search_runs([exp]) if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 2 and {r.info.status for r in parents} == {"FINISHED"}
    sweep = {r.data.tags["rfmlab.sweep_id"] for r in parents}
    assert len(sweep) == 1 and f"tags.rfmlab.sweep_id = '{sweep.pop()}'" in res.stdout
    assert sorted(r.data.params["algorithm.params.n_init"] for r in parents) == ["3", "5"]
    assert all(r.data.tags["rfmlab.search"] == "optuna" and r.data.metrics["n_trials_complete"] == 2 for r in parents)
    # submitit's own record of each job: its folder with the job's logs, beside the sweep's Hydra output
    logs = list(tmp_path.glob("mlruns/.hydra/multirun/*/.submitit/*/*_log.out"))
    assert len(logs) == 2
