"""The single-fit job (``search=none``): one fit with ``algorithm.params`` inside one MLflow run."""

from __future__ import annotations

from rfmlab import pipeline
from rfmlab.jobs import artifacts, context
from rfmlab.mlflow_edge import catalog, tracking
from rfmlab.report import console, description


def run(cfg: dict, *, config_yaml: str) -> dict:
    """Prepare, fit, log every artifact and the model; returns ids, metrics and the run link."""
    uri = tracking.store_uri(cfg["tracking"].get("uri"))
    algo, params, seed = cfg["algorithm"]["name"], context.algorithm_params(cfg), int(cfg.get("seed", 0))
    context.banner(cfg, uri=uri)
    with tracking.start_run(
        uri, experiment=context.experiment(cfg), run_name=context.run_name(cfg), tags=context.tags(cfg)
    ) as handle:
        handle.log_params({**context.params(cfg), "algorithm.effective_params": str(params)})
        handle.log_text(config_yaml, catalog.CONFIG)
        prep = context.prepare(cfg, handle=handle)
        fit = pipeline.fit(
            prep, algorithm=algo, params=params, seed=seed, stage=console.stage, max_exact=context.max_exact(cfg)
        )
        handle.log_params(fit.fit_params)
        with console.stage("log to MLflow"):
            artifacts.log_fit(handle, fit=fit, cfg=cfg, prep=prep)
            artifacts.log_segmenter(handle, fit=fit, prep=prep, cfg=cfg)
            handle.set_tags({"mlflow.note.content": description.markdown(cfg, prep=prep, fit=fit)})
    return context.summary(cfg, prep=prep, fit=fit, handle=handle, title="rfmlab run")
