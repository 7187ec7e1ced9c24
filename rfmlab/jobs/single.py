"""The single-fit job (``search=none``): one fit with ``algorithm.params`` inside one MLflow run."""

from __future__ import annotations

from rfmlab import pipeline
from rfmlab.jobs import artifacts, context, report_page
from rfmlab.jobs.settings import Settings
from rfmlab.mlflow_edge import catalog, tracking
from rfmlab.report import console, description


def run(s: Settings, *, config_yaml: str) -> dict:
    """Prepare, fit, log every artifact and the model; returns ids, metrics and the run link."""
    uri = tracking.store_uri(s.tracking.uri)
    tracking.init_store(uri)  # a tracking server that does not answer is refused now, not after the work
    algo, params, seed = s.algorithm.name, s.algorithm.params, s.seed
    context.banner(s, uri=uri)
    with tracking.start_run(uri, experiment=s.experiment, run_name=context.run_name(s), tags=context.tags(s)) as handle:
        handle.log_params({**context.params(s), "algorithm.effective_params": str(params)})
        handle.log_text(config_yaml, catalog.CONFIG)
        prep = context.prepare(s, handle=handle)
        fit = pipeline.fit(
            prep, algorithm=algo, params=params, seed=seed, stage=console.stage, max_exact=s.algorithm.max_exact
        )
        handle.log_params(fit.fit_params)
        with console.stage("log to MLflow"):
            artifacts.log_fit(handle, fit=fit, plots=s.plots, seed=s.seed, prep=prep)
            artifacts.log_segmenter(
                handle, fit=fit, prep=prep, dataset=s.dataset_section, log_model=s.tracking.log_model
            )
            handle.set_tags(
                {
                    "mlflow.note.content": description.markdown(
                        fit, prep=prep, dataset=s.dataset.name, features=s.features.name
                    )
                }
            )
            report_page.log(handle, ui_url=s.tracking.ui_url)
    return context.summary(s, prep=prep, fit=fit, handle=handle, title="rfmlab run")
