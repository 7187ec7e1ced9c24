"""The single-fit job (``search=none``): one fit with ``algorithm.params`` inside one MLflow run."""

from __future__ import annotations

from rfmlab import console, pipeline, tracking
from rfmlab.jobs import artifacts, common, description


def run(cfg: dict, config_yaml: str) -> dict:
    """Prepare, fit, log every artifact and the model; returns ids, metrics and the run link."""
    uri = tracking.store_uri(cfg["tracking"].get("uri"))
    algo, params, seed = cfg["algorithm"]["name"], common.algorithm_params(cfg), int(cfg.get("seed", 0))
    common.banner(cfg, uri)
    with tracking.start_run(uri, common.experiment(cfg), common.run_name(cfg), common.tags(cfg)) as handle:
        handle.log_params({**common.params(cfg), "algorithm.effective_params": str(params)})
        handle.log_text(config_yaml, "config/config.yaml")
        prep = common.prepare(cfg, handle)
        fit = pipeline.fit(prep, algo, params, seed, console.stage, common.max_exact(cfg))
        handle.log_params(fit.fit_params)
        with console.stage("log to MLflow"):
            artifacts.log_fit(handle, fit, cfg, prep)
            artifacts.log_segmenter(handle, fit, prep, cfg)
            handle.set_tags({"mlflow.note.content": description.markdown(cfg, prep, fit)})
    return common.summary(cfg, prep, fit, handle, "rfmlab run")
