"""MLflow Model Registry edge: promote a run's model (register it, point an alias at it) and load a logged or
registered rfmlab model back. Runs, artifacts and stores are ``tracking``'s."""

from __future__ import annotations

import warnings

from rfmlab.mlflow_edge.tracking import init_store, mlflow_module

PROMOTED_METRICS = ("silhouette", "davies_bouldin", "calinski_harabasz", "n_clusters", "noise_fraction", "n_customers")


def promote(
    uri: str,
    *,
    run_id: str | None = None,
    experiment: str | None = None,
    metric: str | None = None,
    filter_string: str | None = None,
    name: str = "rfm-segmenter",
    alias: str = "champion",
) -> dict:
    """Register a run's model (the given run, or the best of an experiment by ``metric``) and point ``alias``
    at the new version; key metrics and the data digest become version tags."""
    from rfmlab.errors import RfmlabError

    mlflow = mlflow_module()
    init_store(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = mlflow.MlflowClient(uri)
    run = _pick_run(client, uri, run_id, experiment, metric, filter_string)
    model_uri = run.data.tags.get("rfmlab.model_uri")
    if not model_uri:
        raise RfmlabError(
            f"run {run.info.run_id} has no model (a failed run, a trial, or tracking.log_model=false); "
            "promote another run"
        )
    if metric and metric not in run.data.metrics:
        raise RfmlabError(
            f"run {run.info.run_id} has no metric {metric!r} (e.g. fewer than 2 clusters); choose another run or metric"
        )
    version = _register(client, model_uri, name, run.info.run_id)
    client.set_registered_model_alias(name, alias, version.version)
    tags = {f"metric.{k}": str(run.data.metrics[k]) for k in PROMOTED_METRICS if k in run.data.metrics}
    tags |= {
        "run_id": run.info.run_id,
        "data.digest": run.data.params.get("data.digest", ""),
        "dataset": run.data.tags.get("rfmlab.dataset", ""),
        "algorithm": run.data.tags.get("rfmlab.algorithm", ""),
    }
    for k, v in tags.items():
        client.set_model_version_tag(name, version.version, k, v)
    return {
        "name": name,
        "version": version.version,
        "alias": alias,
        "run_id": run.info.run_id,
        "uri": f"models:/{name}@{alias}",
        "metrics": {k: run.data.metrics.get(k) for k in PROMOTED_METRICS},
    }


def _register(client, model_uri: str, name: str, run_id: str):
    """``mlflow.register_model`` through the client, without its prints: the registered model (if new), a
    version of the logged model linked to its run, and the logged model's link back to the version."""
    import json

    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as e:
        if "ALREADY_EXISTS" not in str(e.error_code):
            raise
    model_id = model_uri.removeprefix("models:/") if model_uri.startswith("models:/m-") else None
    version = client.create_model_version(name, model_uri, run_id=run_id, model_id=model_id)
    if model_id:
        links = client.get_logged_model(model_id).tags.get("mlflow.modelVersions")
        entry = [{"name": version.name, "version": version.version}]
        client.set_logged_model_tags(model_id, {"mlflow.modelVersions": json.dumps(json.loads(links or "[]") + entry)})
    return version


def _pick_run(client, uri: str, run_id, experiment, metric, filter_string):
    """The run to promote: ``run_id``, or the best finished top-level run with a model in ``experiment``."""
    from rfmlab.errors import RfmlabError

    mlflow = mlflow_module()
    if run_id is None:
        exp = client.get_experiment_by_name(experiment or "")
        if exp is None:
            raise RfmlabError(f"no experiment {experiment!r} in {uri}; pass --experiment NAME or --run-id ID")
        descending = metric != "davies_bouldin"
        flt = "attributes.status = 'FINISHED'" + (f" and {filter_string}" if filter_string else "")
        try:
            runs = client.search_runs([exp.experiment_id], filter_string=flt, max_results=5000)
        except mlflow.exceptions.MlflowException as e:
            raise RfmlabError(f"bad --filter {filter_string!r}: {str(e).splitlines()[0]}") from e
        runs = [
            r
            for r in runs
            if "mlflow.parentRunId" not in r.data.tags
            and "rfmlab.model_uri" in r.data.tags
            and metric in r.data.metrics
        ]
        if not runs:
            raise RfmlabError(f"no finished run with a model and the metric {metric!r} in experiment {experiment!r}")
        return sorted(runs, key=lambda r: r.data.metrics[metric], reverse=descending)[0]
    try:
        return client.get_run(run_id)
    except mlflow.exceptions.MlflowException as e:
        raise RfmlabError(f"no run {run_id} in {uri}") from e


def load_segmenter(model_uri: str, uri: str):
    """The ``pipeline.Segmenter`` inside a logged or registered rfmlab model."""
    from rfmlab.errors import RfmlabError
    from rfmlab.mlflow_edge.pyfunc import alias_old_modules

    mlflow = mlflow_module()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    alias_old_modules()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "add type hints to predict": not for this model
            model = mlflow.pyfunc.load_model(model_uri)
    except mlflow.exceptions.MlflowException as e:
        raise RfmlabError(f"cannot load {model_uri} from {uri}: {str(e).splitlines()[0]}") from e
    inner = model.unwrap_python_model()
    if not hasattr(inner, "segmenter"):
        raise RfmlabError(f"{model_uri} is not an rfmlab model")
    return inner.segmenter


def model_version(model_uri: str, uri: str) -> tuple[str | None, str | None, str | None]:
    """(registered name, version, alias) of a ``models:/name@alias`` or ``models:/name/version`` URI; Nones for
    other URIs (``runs:/...``)."""
    if not model_uri.startswith("models:/") or model_uri.startswith("models:/m-"):
        return None, None, None
    ref = model_uri.removeprefix("models:/")
    client = mlflow_module().MlflowClient(uri)
    if "@" in ref:
        name, alias = ref.split("@", 1)
        return name, client.get_model_version_by_alias(name, alias).version, alias
    name, _, version = ref.partition("/")
    return name, version or None, None
