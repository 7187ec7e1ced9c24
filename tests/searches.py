"""What the search tests share: their stores, a study's finished trials, a search slow enough to stop midway, and
a search's parent and child runs."""

import os

import optuna
from mlflow.tracking import MlflowClient

from rfmlab.search import studies


def stores(tmp_path):
    return f"sqlite:///{tmp_path / 'mlflow.db'}", f"sqlite:///{tmp_path / 'optuna.db'}"


def finished(storage, name=None):
    if not os.path.exists(storage[len("sqlite:///") :]):
        return None, []
    rdb = studies.storage_for(storage)  # opened like rfmlab opens it: under the schema-creation lock
    summaries = [s for s in optuna.get_all_study_summaries(rdb) if not s.study_name.startswith(studies.LOCK_PREFIX)]
    if not summaries:
        return None, []
    name = name or summaries[-1].study_name
    study = optuna.load_study(study_name=name, storage=rdb)
    return study, studies.finished_trials(study)


def slow_search(uri, storage, n_trials=40):
    """A 40-trial agglomerative search slow enough (~0.2 s a trial) to be killed or joined midway."""
    return [
        "algorithm=agglomerative",
        "dataset.synthetic.n_customers=2500",
        "plots.enabled=false",
        f"search.n_trials={n_trials}",
        "algorithm.search_space.n_clusters.high=40",
        "search.k_report.enabled=false",  # the number-of-clusters report (39 k here) is another test's
        f"tracking.uri={uri}",
        f"search.storage={storage}",
    ]


def runs_of(uri, experiment):
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id], max_results=1000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    return client, parents, children
