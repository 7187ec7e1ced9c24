"""The search job (``search=optuna``): a parent run per study, one child run per trial, then the best
trial refitted with every artifact into the parent.

A study remembers its parent run (user attr ``mlflow_parent_run_id``), so resuming it
(``search.resume=true``) or joining it from another process (``search.study_name``) reopens that run.
"""

from __future__ import annotations

import multiprocessing
import time

from rfmlab import pipeline, search
from rfmlab.errors import RfmlabError
from rfmlab.jobs import artifacts, context, report_page, search_artifacts, trials
from rfmlab.jobs.settings import Settings
from rfmlab.mlflow_edge import catalog, child_runs, lookup, tracking
from rfmlab.report import console, description, search_tables
from rfmlab.search import studies


def _params_with_effective(s: Settings) -> dict:
    """Run params; the config's ``algorithm.params`` go under ``algorithm.config_params`` because a search
    parent's ``algorithm.params.*`` are the refitted model's (logged after the search)."""
    moved = "algorithm.params."
    return {
        (f"algorithm.config_params.{k[len(moved) :]}" if k.startswith(moved) else k): v
        for k, v in context.params(s).items()
    }


def _open(s: Settings, spec: search.SearchSpec, uri: str):
    """(prepared data, space, study, created, parent run id) when resuming or joining a study; the data is
    prepared first so the study's space is known. A new search prepares inside its run instead.

    Of any number of processes joining one study at once, exactly one creates the parent run (parent id
    None here); the others wait for it and log under it."""
    if not (spec.resume or spec.study_name):
        return None, None, None, True, None
    prep = context.prepare(s, handle=None)
    space = context.search_space(s, prep=prep)
    study, created = studies.open_study(studies.study_base_name(s.raw), spec=spec, space=space)
    parent = study.user_attrs.get(studies.PARENT_ATTR)
    if parent and lookup.run_exists(uri, parent):
        return prep, space, study, created, parent
    if parent is None and not studies.claim_parent(study):
        parent = studies.wait_parent(study)
        if lookup.run_exists(uri, parent):
            return prep, space, study, created, parent
    return prep, space, study, created, None  # this process creates the parent (or replaces a deleted one)


def _log_study(handle, spec, study, space) -> None:
    if study.user_attrs.get(studies.PARENT_ATTR) != handle.run_id:
        study.set_user_attr(studies.PARENT_ATTR, handle.run_id)
    handle.set_tags({"optuna.study_name": study.study_name})
    notes = ("derived", "capped", "scaled")
    shown = {k: str({kk: vv for kk, vv in v.items() if kk not in notes}) for k, v in space.items()}
    handle.log_params(
        {
            "search.study_name": study.study_name,
            "search.storage": tracking.redact(spec.storage or studies.default_storage()),
            **{f"search.space.{k}": v for k, v in shown.items()},
        },
        only_new=True,
    )


def _shares(spec, before: int) -> list[int]:
    """Local workers split what is left exactly; processes elsewhere stop on the study's count."""
    left = max(spec.n_trials - before, 0)
    return [left // spec.n_workers + (w < left % spec.n_workers) for w in range(spec.n_workers)]


def _run_trials(s, prep, spec, space, study, handle, tags) -> float:
    """All trials of this process and its local workers; returns the wall time in seconds."""
    t0 = time.perf_counter()
    uri = handle.uri
    shares = _shares(spec, studies.finished(study))
    writer = child_runs.ChildRunWriter()
    logger = trials.TrialLogger(
        uri, experiment_id=handle.experiment_id, parent_run_id=handle.run_id, tags=tags, writer=writer
    )
    ctx = multiprocessing.get_context("spawn")
    workers = []
    for w in range(1, spec.n_workers):
        kwargs = dict(study_name=study.study_name, parent_run_id=handle.run_id, experiment_id=handle.experiment_id,
                      uri=uri, worker=w, share=shares[w])  # fmt: skip
        workers.append(ctx.Process(target=trials.worker_main, args=(s.raw,), kwargs=kwargs, daemon=True))
        workers[-1].start()
    grid_total = search.grid_size(space, spec.grid_points) if spec.sampler == "grid" else None
    progress = trials.Progress(spec, study=study, total=min(spec.n_trials, grid_total) if grid_total else None)
    try:
        with progress.bar:
            share = shares[0] if workers else None
            trials.optimize(
                s, prep=prep, spec=spec, space=space, study=study, on_trial=logger, progress=progress, share=share
            )
            for p in workers:
                while p.is_alive():
                    p.join(timeout=0.5)
                    progress.update(study)
            progress.update(study)
    finally:
        for p in workers:
            if p.is_alive():
                p.terminate()
        writer.close()
    if writer.errors:
        console.error(f"{len(writer.errors)} trial run(s) could not be logged at once: {writer.errors[0]}")
    backfilled = trials.backfill_children(
        study,
        logger=trials.TrialLogger(uri, experiment_id=handle.experiment_id, parent_run_id=handle.run_id, tags=tags),
    )
    if backfilled:
        console.console.print(f"  wrote {backfilled} child run(s) for trials finished without one")
    bad = [p.exitcode for p in workers if p.exitcode not in (0, None)]
    if bad:
        console.error(f"{len(bad)} search worker(s) exited with errors {bad}; their finished trials are kept")
    return time.perf_counter() - t0


def _best_or_refuse(study, spec, counts: dict):
    from collections import Counter

    best = studies.best_trial(study, spec=spec)
    if best is not None:
        return best
    reasons = Counter(
        t.user_attrs.get("prune_reason") or t.user_attrs.get("fail_reason", "?")
        for t in study.trials
        if t.state.name != "COMPLETE"
    )
    (top, n), *rest = reasons.most_common()
    more = f" (and {len(rest)} other reason(s), see the child runs)" if rest else ""
    raise RfmlabError(
        f'no valid trial in {sum(reasons.values())}: {n} for "{top}"{more}; widen algorithm.search_space or '
        "relax search.max_noise / search.min_cluster_share"
    )


def _log_best(handle, s, best) -> dict:
    """The best trial's params as ``best.*`` and the refitted model's as ``algorithm.params.*``."""
    params = {**s.algorithm.params, **best.params}
    best_params = {f"best.{k}": v for k, v in best.params.items()}
    effective = {f"algorithm.params.{k}": v for k, v in params.items()}
    changed = handle.log_params({**best_params, **effective}, only_new=True)
    handle.set_tags({**best_params, "best.trial": best.number})
    if changed:
        console.error(f"best params changed since this run first logged them ({changed}); tags best.* are current")
    return params


def _log_front(handle, study, spec) -> str:
    """A multi-objective search's Pareto front: a table in ``search/``, its size, each front trial's child run
    tagged ``optuna.pareto_front`` (the chosen one ``rfmlab.chosen``), and the choice with its reason."""
    import polars as pl

    best, reason = studies.choose_from_front(study, spec=spec)
    front = studies.pareto_front(study)
    rows = [
        {"trial": t.number, **{f"param.{k}": str(v) for k, v in t.params.items()},
         **dict(zip(spec.names, t.values, strict=True)), "chosen": t.number == best.number}
        for t in front
    ]  # fmt: skip
    tracking.log_tables(handle, {catalog.PARETO_FRONT: pl.DataFrame(rows)})
    handle.log_metrics({"pareto_front_size": len(front)})
    handle.set_tags({"search.selection": reason, "search.select.rule": spec.select.rule})
    on_front = {t.number for t in front}
    tags = {
        t.number: {
            "optuna.pareto_front": str(t.number in on_front).lower(),
            "rfmlab.chosen": str(t.number == best.number).lower(),
        }
        for t in study.get_trials(deepcopy=False)
    }  # every trial: a resumed search's front moves
    child_runs.tag_trials(
        handle.uri, experiment_id=handle.experiment_id, parent_run_id=handle.run_id, tags_by_trial=tags
    )
    return reason


def _setup(s: Settings, handle, *, opened, config_yaml: str):
    """The parent run's params and config, the data (prepared here unless the study was opened first) and the
    study; returns (prep, space, study)."""
    prep, space, study, created, parent_id = opened
    if study is not None and parent_id is None:  # the processes waiting in studies.wait_parent go on
        study.set_user_attr(studies.PARENT_ATTR, handle.run_id)
    fixed = {"algorithm.fixed_params": str(s.algorithm.params)}
    handle.log_params({**_params_with_effective(s), **fixed}, only_new=True)
    handle.log_text(config_yaml, catalog.CONFIG)
    if prep is not None:
        handle.log_params({"data.digest": prep.digest, "analysis_date": prep.analysis_date.isoformat()}, only_new=True)
    else:
        prep = context.prepare(s, handle=handle)
        space = context.search_space(s, prep=prep)  # once: DBSCAN's eps range costs a k-NN pass
        study, created = studies.open_study(studies.study_base_name(s.raw), spec=s.search, space=space)
    _log_study(handle, s.search, study, space)
    if not created:
        console.console.print(
            f"  resuming study [bold]{study.study_name}[/]: {studies.finished(study)} trial(s) already finished"
        )
    if s.search.sampler == "grid":
        console.console.print(f"  grid sampler: {search.grid_size(space, s.search.grid_points)} parameter combinations")
    return prep, space, study


def _refit(s: Settings, handle, *, prep, space, study, best, story: dict):
    """The chosen trial refitted on every customer, with the k report, every artifact, the model, the search's
    charts and the run description; returns (params, fit, k picks)."""
    spec = s.search
    params = _log_best(handle, s, best)
    fit = pipeline.fit(prep, algorithm=s.algorithm.name, params=params, seed=s.seed, stage=console.stage,
                       max_exact=s.algorithm.max_exact)  # fmt: skip
    handle.log_params(fit.fit_params, only_new=True)
    picks = search_artifacts.log_k_report(handle, prep=prep, algo=s.algorithm.name, params=params, space=space,
                                          spec=spec, seed=s.seed, figure=s.plots.enabled)  # fmt: skip
    with console.stage("log to MLflow"):
        handle.log_metrics({f"best_{n}": v for n, v in zip(spec.names, best.values, strict=True)})
        artifacts.log_fit(handle, fit=fit, plots=s.plots, seed=s.seed, prep=prep)
        artifacts.log_segmenter(handle, fit=fit, prep=prep, dataset=s.dataset_section, log_model=s.tracking.log_model)
        if s.plots.enabled:
            search_artifacts.log_search_plots(handle, study=study, spec=spec, algo=s.algorithm.name, prep=prep,
                                              space=space, best=best, params=params)  # fmt: skip
        text = description.markdown(fit, prep=prep, dataset=s.dataset.name, features=s.features.name,
                                    search={**story, "picks": picks})  # fmt: skip
        handle.set_tags({"mlflow.note.content": text})
        report_page.log(handle, ui_url=s.tracking.ui_url)
    return params, fit, picks


def run(s: Settings, *, config_yaml: str) -> dict:
    """A search (``s.search``): the parent run, the trials (with local workers), the chosen trial refitted."""
    spec = s.search
    uri = tracking.store_uri(s.tracking.uri)
    tracking.init_store(uri)  # a tracking server that does not answer is refused now, not after the work
    context.banner(s, uri=uri)
    opened = _open(s, spec, uri)
    tags = {**context.tags(s), "rfmlab.search": "optuna"}
    run_name = context.run_name(s, prefix="search-")
    with tracking.start_run(uri, experiment=s.experiment, run_name=run_name, tags=tags, run_id=opened[4]) as handle:
        prep, space, study = _setup(s, handle, opened=opened, config_yaml=config_yaml)
        seconds = _run_trials(s, prep, spec, space, study, handle, tags)
        counts = trials.study_counts(study)
        handle.log_metrics({**counts, "search_seconds": seconds})
        best = _best_or_refuse(study, spec, counts)
        selection = _log_front(handle, study, spec) if spec.multi else None
        story = {"counts": counts, "best": best, "objectives": spec.names, "seconds": seconds, "selection": selection}
        params, fit, picks = _refit(s, handle, prep=prep, space=space, study=study, best=best, story=story)
    search_tables.best_table(study, spec=spec, counts=counts, best=best, seconds=seconds, selection=selection)
    if picks:
        search_tables.k_table(picks, chosen=int(params["n_clusters"]))
    return {
        **context.summary(s, prep=prep, fit=fit, handle=handle, title="rfmlab search (best trial refitted)"),
        "study_name": study.study_name,
        "best_params": best.params,
        "counts": counts,
    }
