"""One tracked experiment: pipeline stages inside an MLflow run, then the console summary.

Two modes, chosen by ``search.name``:

- ``none``: one fit with ``algorithm.params``.
- ``optuna``: a parent run per search, one child run per trial (batch-logged, no figures), then the
  refit of the best trial with every artifact, and the search charts.

Takes the resolved config as a plain dict (the CLI converts Hydra's), so it runs from tests and
notebooks without Hydra. Artifacts are logged as soon as their stage finishes, so a failure later keeps
them; the run then ends FAILED with ``error.txt``.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import platform
import time

import rfmlab
from rfmlab import console, pipeline, tracking
from rfmlab.errors import ConfigError, RfmlabError

# keys that may differ between the processes / sessions of one search; not logged as run params
VOLATILE = ("search.resume", "search.n_workers", "search.n_trials", "search.timeout", "sweep_id")


def algorithm_params(cfg: dict) -> dict:
    """``algorithm.params`` with the study's per-algorithm pins (``study.params.<name>``) on top."""
    algo = cfg["algorithm"]
    pins = ((cfg.get("study") or {}).get("params") or {}).get(algo["name"]) or {}
    return {**(algo.get("params") or {}), **pins}


def run_name(cfg: dict, prefix: str = "") -> str:
    return cfg["tracking"].get("run_name") or f"{prefix}{cfg['algorithm']['name']}-{cfg['features']['name']}"


def _tags(cfg: dict) -> dict:
    tags = {
        "rfmlab.dataset": cfg["dataset"]["name"],
        "rfmlab.features": cfg["features"]["name"],
        "rfmlab.algorithm": cfg["algorithm"]["name"],
        "rfmlab.search": (cfg.get("search") or {}).get("name", "none"),
        "rfmlab.python": platform.python_version(),
    }
    if cfg.get("sweep_id"):
        tags["rfmlab.sweep_id"] = str(cfg["sweep_id"])
    if (cfg.get("study") or {}).get("name"):
        tags["rfmlab.study"] = str(cfg["study"]["name"])
    return tags


def _params(cfg: dict) -> dict:
    """Flattened config as run params; scheme bodies stay in config/config.yaml (names only here)."""
    seg = cfg.get("segments") or {}
    cfg = {
        **cfg,
        "segments": {"schemes": sorted(k for k, v in seg.items() if isinstance(v, dict)), "naming": seg.get("naming")},
    }
    flat = tracking.flatten(cfg)
    return {k: v for k, v in flat.items() if not k.startswith(VOLATILE)}


def _prepare(cfg: dict, handle: tracking.RunHandle | None, quiet: bool = False) -> pipeline.Prepared:
    def on_stage(name: str, out) -> None:
        if handle is None:
            return
        if name == "load":
            handle.log_params({"data.digest": out["digest"]})
            source = cfg["dataset"].get("path") or (
                cfg["dataset"].get("download", {}).get("url")
                if cfg["dataset"].get("download", {}).get("enabled")
                else f"synthetic:{cfg['dataset']['kind']}"
            )
            handle.log_input(out["raw"], cfg["dataset"]["name"], str(source), out["digest"])
        elif name == "clean":
            console.cleaning_report(out)
            handle.log_dict(out.to_dict(), "data/cleaning_report.json")
            handle.log_metrics({"rows_in": out.rows_in, "rows_out": out.rows_out})

    prep = pipeline.prepare(
        cfg["dataset"],
        cfg["features"],
        int(cfg["evaluation"]["sample_size"]),
        int(cfg.get("seed", 0)),
        stage=(lambda name: contextlib.nullcontext()) if quiet else console.stage,
        on_stage=on_stage,
        segments_cfg=cfg.get("segments"),
    )
    if handle is not None:
        handle.log_params({"analysis_date": prep.analysis_date.isoformat()})
    return prep


def log_fit(handle: tracking.RunHandle, fit: pipeline.Fit, cfg: dict, prep: pipeline.Prepared | None = None) -> None:
    """Metrics, tables, segment summaries and plots of a fitted clustering into ``handle``'s run."""
    from rfmlab import plots, segments

    handle.log_metrics({**fit.metrics, "n_customers": float(len(fit.labels))})
    handle.log_dict({str(k): v for k, v in fit.sizes.items()}, "tables/cluster_sizes.json")
    handle.log_dict({str(k): v for k, v in fit.names.items()}, "tables/cluster_names.json")
    tables = {"customers.parquet": fit.customers, "customers.csv": fit.customers, "profile.csv": fit.profile}
    schemes = prep.schemes if prep is not None else {}
    sections = []
    if fit.names and prep is not None:
        naming = schemes[prep.naming]
        seg = segments.summary(fit.customers, "segment", naming.actions)
        tables["segments.csv"] = seg
        sections.append((f"Clusters named with {prep.naming}", f"{fit.algorithm} clusters; noise = Outliers", seg))
        for name, scheme in schemes.items():
            tab = segments.summary(fit.customers, name, scheme.actions)
            tables[f"segments_{name}.csv"] = tab
            tables[f"contingency_{name}.csv"] = segments.contingency(fit.customers, "cluster", name)
            sections.append((f"Rule scheme {name}", scheme.description, tab))
    tracking.log_table(handle, tables)
    if sections:
        handle.log_text(plots.segments_html("Customer segments", sections), "segments/summary.html")
    pcfg = cfg.get("plots") or {}
    if not pcfg.get("enabled", True):
        return
    max_points, seed, names = int(pcfg.get("max_points", 5000)), int(cfg.get("seed", 0)), fit.names or None
    figures = {
        "plots/rfm_scatter_3d.png": lambda: plots.scatter3d_png(fit.customers, names, max_points, seed),
        "plots/cluster_sizes.png": lambda: plots.cluster_sizes(fit.profile, names),
        "plots/rfm_boxplots.png": lambda: plots.rfm_boxplots(fit.customers, names),
        "plots/profile_heatmap.png": lambda: plots.profile_heatmap(fit.profile, names),
    }
    for name in schemes:
        figures[f"plots/contingency_{name}.png"] = lambda name=name: plots.contingency_heatmap(
            tables[f"contingency_{name}.csv"], names, name, fit.metrics.get(f"ari_vs_{name}")
        )
    for path, make in figures.items():
        fig = make()
        handle.log_figure(fig, path)
        plots.close(fig)
    handle.log_text(plots.scatter3d_html(fit.customers, names, max_points, seed), "plots/rfm_scatter_3d.html")


def log_segmenter(handle: tracking.RunHandle, fit: pipeline.Fit, prep: pipeline.Prepared, cfg: dict) -> str | None:
    """The run's pyfunc model: RFM settings, fitted transform, clusterer, assignment and names."""
    if not cfg["tracking"].get("log_model", True):
        return None
    from rfmlab import serving
    from rfmlab.models.assign import Assigner
    from rfmlab.scoring import Segmenter

    segmenter = Segmenter(
        fit.algorithm,
        fit.params,
        cfg["dataset"],
        prep.columns,
        prep.transform,
        Assigner(fit.algorithm, fit.estimator, prep.X, fit.labels),
        fit.names,
        prep.analysis_date.isoformat(),
        {"rfmlab_version": rfmlab.__version__, "run_id": handle.run_id},
    )
    uri = serving.log_model(segmenter, fit.customers.head(5))
    handle.set_tags({"rfmlab.model_uri": uri})
    return uri


def _summary(cfg, prep, fit, handle, title, extra_rows=None) -> dict:
    tcfg = cfg["tracking"]
    link = tracking.run_url(tcfg.get("ui_url") or "http://127.0.0.1:5000", handle.experiment_id, handle.run_id)
    rows = {
        "dataset": f"{cfg['dataset']['name']} ({prep.report.rows_in:,} rows in, {prep.report.rows_out:,} kept)",
        "customers": f"{prep.customers.height:,} (as of {prep.analysis_date})",
        "features": f"{cfg['features']['name']}: {' → '.join(prep.transform_steps)} on {', '.join(prep.columns)}",
        "algorithm": f"{fit.algorithm} {fit.params}",
        **(
            {
                "segments": ", ".join(
                    f"{fit.names[c]} ({n:,})" for c, n in sorted(fit.sizes.items(), key=lambda x: -x[1])
                )
            }
            if fit.names
            else {}
        ),
        **(extra_rows or {}),
    }
    keys = ("n_clusters", "silhouette", "davies_bouldin", "calinski_harabasz", "noise_fraction")
    console.summary(
        title,
        rows,
        {k: fit.metrics[k] for k in keys},
        [
            f"[bold]run[/] {handle.run_id} in experiment '{handle.experiment_name}'",
            f"[bold]open the UI[/]  make ui   [dim](mlflow ui --backend-store-uri {handle.uri})[/]",
            f"[bold]this run[/]     {link}",
        ],
    )
    return {"run_id": handle.run_id, "experiment_id": handle.experiment_id, "metrics": fit.metrics, "url": link}


def run(cfg: dict, config_yaml: str) -> dict:
    """Run one experiment (a single fit or a search); returns ids, metrics and the run link."""
    mode = (cfg.get("search") or {}).get("name", "none")
    if mode == "optuna":
        return run_search(cfg, config_yaml)
    if mode != "none":
        raise ConfigError(f"search={mode!r} is not a search mode; use search=none or search=optuna")
    uri = tracking.store_uri(cfg["tracking"].get("uri"))
    experiment = cfg["tracking"].get("experiment") or cfg["dataset"]["name"]
    algo, params, seed = cfg["algorithm"]["name"], algorithm_params(cfg), int(cfg.get("seed", 0))
    _banner(cfg, experiment, uri)
    with tracking.start_run(uri, experiment, run_name(cfg), _tags(cfg)) as handle:
        handle.log_params({**_params(cfg), "algorithm.effective_params": str(params)})
        handle.log_text(config_yaml, "config/config.yaml")
        prep = _prepare(cfg, handle)
        fit = pipeline.fit(prep, algo, params, seed, stage=console.stage)
        with console.stage("log to MLflow"):
            log_fit(handle, fit, cfg, prep)
            log_segmenter(handle, fit, prep, cfg)
    return _summary(cfg, prep, fit, handle, "rfmlab run")


def _banner(cfg, experiment, uri):
    console.console.print(
        f"[bold]rfmlab[/] {cfg['dataset']['name']} · {cfg['features']['name']} · {cfg['algorithm']['name']} "
        f"· search={cfg.get('search', {}).get('name', 'none')} [dim]→ experiment '{experiment}' in {uri}[/]"
    )


# --------------------------------------------------------------------------- search
class _TrialLogger:
    """Logs each trial as a child run of the search's parent run (batch-logged, no figures)."""

    def __init__(self, uri: str, experiment_id: str, parent_run_id: str, tags: dict, writer=None):
        import os
        import socket

        worker = f"{socket.gethostname()}:{os.getpid()}"
        self.uri, self.experiment_id, self.parent = uri, experiment_id, parent_run_id
        self.tags = {**tags, "rfmlab.worker": worker}
        self.write = writer.submit if writer is not None else tracking.log_child_run

    def __call__(self, rec) -> None:
        self.write(
            uri=self.uri,
            experiment_id=self.experiment_id,
            parent_run_id=self.parent,
            name=f"trial-{rec.number}",
            params=rec.params,
            metrics={**rec.metrics, "trial_seconds": rec.seconds},
            tags={
                **self.tags,
                "optuna.trial_number": str(rec.number),
                "optuna.state": rec.state,
                **({"optuna.prune_reason": rec.reason} if rec.state == "PRUNED" else {}),
                **({"optuna.fail_reason": rec.reason} if rec.state == "FAIL" else {}),
                **({"optuna.duplicate_of": str(rec.duplicate_of)} if rec.duplicate_of is not None else {}),
            },
            failed=rec.state == "FAIL",
        )


def _optimize(cfg, prep, spec, space, study, on_trial, progress=None, share: int | None = None) -> None:
    """Run trials until the study holds ``spec.n_trials`` finished ones (or this process ran ``share``)."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from rfmlab import search

    remaining = spec.n_trials - search.finished(study)
    if share is not None:
        remaining = min(remaining, share)
    if remaining <= 0:
        return
    objective = search.Objective(
        prep, cfg["algorithm"]["name"], algorithm_params(cfg), space, spec, int(cfg.get("seed", 0)), on_trial
    )
    callbacks = [MaxTrialsCallback(spec.n_trials, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))]
    if progress is not None:
        callbacks.append(progress)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=remaining, timeout=spec.timeout, callbacks=callbacks, catch=(search.FitFailed,))


def _search_worker(
    cfg: dict, study_name: str, parent_run_id: str, experiment_id: str, uri: str, worker: int, share: int
):
    """A spawned worker process: same data, same study, its own sampler seed."""
    from rfmlab import search

    spec = search.SearchSpec.from_dict(cfg["search"])
    prep = _prepare(cfg, None, quiet=True)
    space = search.resolve_space(cfg["algorithm"]["name"], cfg["algorithm"].get("search_space") or {}, prep.X)
    study, _ = search.open_study(cfg, spec, space, worker=worker, name=study_name)
    with tracking.ChildRunWriter() as writer:
        logger = _TrialLogger(uri, experiment_id, parent_run_id, _tags(cfg), writer)
        _optimize(cfg, prep, spec, space, study, logger, share=share)


class _Progress:
    """rich progress bar over the study's finished trials (all workers), with the best value so far."""

    def __init__(self, spec, study, total: int | None = None):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.spec = spec
        self.total = total or spec.n_trials
        self.bar = Progress(
            TextColumn("  [bold]search[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[best]}"),
            TimeElapsedColumn(),
            console=console.console,
            transient=False,
        )
        self.task = self.bar.add_task("search", total=self.total, best="")
        self.update(study)

    def update(self, study) -> None:
        from rfmlab import search

        best = search.best_trial(study)
        txt = f"best {self.spec.metric} {best.value:.4f} (trial {best.number})" if best else "no valid trial yet"
        self.bar.update(self.task, completed=min(search.finished(study), self.total), best=txt)

    def __call__(self, study, trial) -> None:
        self.update(study)


def _backfill_children(study, logger: _TrialLogger) -> int:
    """Write a child run for every finished trial that has none (a killed process, a lost write)."""
    from rfmlab import search

    have = tracking.child_trial_numbers(logger.uri, logger.experiment_id, logger.parent)
    missing = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state.name in ("COMPLETE", "PRUNED", "FAIL") and t.number not in have
    ]
    for t in missing:
        metrics = {k: (math.nan if v is None else v) for k, v in (t.user_attrs.get("metrics") or {}).items()}
        reason = t.user_attrs.get("prune_reason") or t.user_attrs.get("fail_reason")
        logger(
            search.TrialRecord(
                t.number,
                t.params,
                metrics,
                t.state.name,
                reason,
                t.user_attrs.get("duplicate_of"),
                t.duration.total_seconds() if t.duration else 0.0,
            )
        )
    return len(missing)


def _study_counts(study) -> dict[str, int]:
    from collections import Counter

    c = Counter(t.state.name for t in study.get_trials(deepcopy=False))
    return {"n_trials_complete": c["COMPLETE"], "n_trials_pruned": c["PRUNED"], "n_trials_failed": c["FAIL"]}


def run_search(cfg: dict, config_yaml: str) -> dict:
    from rfmlab import search

    spec = search.SearchSpec.from_dict(cfg["search"])
    uri = tracking.store_uri(cfg["tracking"].get("uri"))
    experiment = cfg["tracking"].get("experiment") or cfg["dataset"]["name"]
    algo, seed = cfg["algorithm"]["name"], int(cfg.get("seed", 0))
    space_cfg = cfg["algorithm"].get("search_space") or {}
    _banner(cfg, experiment, uri)

    # the study decides whether this is a new parent run or the resumed one
    prep0 = space = None
    study, created = None, True
    if spec.resume or spec.study_name:
        prep0 = _prepare(cfg, None)
        space = search.resolve_space(algo, space_cfg, prep0.X)
        study, created = search.open_study(cfg, spec, space)
    parent_id = None if study is None else study.user_attrs.get("mlflow_parent_run_id")
    if parent_id and not tracking.run_exists(uri, parent_id):
        parent_id = None

    tags = {**_tags(cfg), "rfmlab.search": "optuna"}
    with tracking.start_run(uri, experiment, run_name(cfg, "search-"), tags, run_id=parent_id) as handle:
        handle.log_params({**_params(cfg), "algorithm.fixed_params": str(algorithm_params(cfg))}, only_new=True)
        handle.log_text(config_yaml, "config/config.yaml")
        if prep0 is not None:
            prep = prep0
            handle.log_params(
                {"data.digest": prep.digest, "analysis_date": prep.analysis_date.isoformat()}, only_new=True
            )
        else:
            prep = _prepare(cfg, handle)
            space = search.resolve_space(algo, space_cfg, prep.X)  # once: DBSCAN's eps range costs a k-NN pass
            study, created = search.open_study(cfg, spec, space)
        if study.user_attrs.get("mlflow_parent_run_id") != handle.run_id:
            study.set_user_attr("mlflow_parent_run_id", handle.run_id)
        handle.set_tags({"optuna.study_name": study.study_name})
        handle.log_params(
            {
                "search.study_name": study.study_name,
                "search.storage": spec.storage or search.default_storage(),
                **{
                    f"search.space.{k}": str({kk: vv for kk, vv in v.items() if kk not in ("derived", "capped")})
                    for k, v in space.items()
                },
            },
            only_new=True,
        )
        before = search.finished(study)
        if not created:
            console.console.print(f"  resuming study [bold]{study.study_name}[/]: {before} trial(s) already finished")
        if spec.sampler == "grid":
            size = search.grid_size(space, spec.grid_points)
            console.console.print(f"  grid sampler: {size} parameter combinations")

        t0 = time.perf_counter()
        writer = tracking.ChildRunWriter()
        logger = _TrialLogger(uri, handle.experiment_id, handle.run_id, tags, writer)
        workers = []
        ctx = multiprocessing.get_context("spawn")
        # local workers split what is left exactly; processes elsewhere stop on the study's count
        left = max(spec.n_trials - before, 0)
        shares = [left // spec.n_workers + (w < left % spec.n_workers) for w in range(spec.n_workers)]
        for w in range(1, spec.n_workers):
            p = ctx.Process(
                target=_search_worker,
                args=(cfg, study.study_name, handle.run_id, handle.experiment_id, uri, w, shares[w]),
                daemon=True,
            )
            p.start()
            workers.append(p)
        grid_total = search.grid_size(space, spec.grid_points) if spec.sampler == "grid" else None
        progress = _Progress(spec, study, min(spec.n_trials, grid_total) if grid_total else None)
        try:
            with progress.bar:
                _optimize(cfg, prep, spec, space, study, logger, progress, share=shares[0] if workers else None)
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
        backfilled = _backfill_children(study, _TrialLogger(uri, handle.experiment_id, handle.run_id, tags))
        if backfilled:
            console.console.print(f"  wrote {backfilled} child run(s) for trials finished without one")
        seconds = time.perf_counter() - t0
        bad = [p.exitcode for p in workers if p.exitcode not in (0, None)]
        if bad:
            console.error(f"{len(bad)} search worker(s) exited with errors {bad}; their finished trials are kept")

        best = search.best_trial(study)
        counts = _study_counts(study)
        handle.log_metrics({**counts, "search_seconds": seconds})
        if best is None:
            reasons = sorted(
                {
                    t.user_attrs.get("prune_reason") or t.user_attrs.get("fail_reason", "?")
                    for t in study.trials
                    if t.state.name != "COMPLETE"
                }
            )
            raise RfmlabError(
                f"no valid trial in {counts} (reasons: {'; '.join(reasons)[:300]}); "
                "widen algorithm.search_space or relax search.max_noise / search.min_cluster_share"
            )
        params = {**algorithm_params(cfg), **best.params}
        best_params = {f"best.{k}": v for k, v in best.params.items()}
        changed = handle.log_params(best_params, only_new=True)
        handle.set_tags({**best_params, "best.trial": best.number})
        if changed:
            console.error(f"best params changed since this run first logged them ({changed}); tags best.* are current")
        fit = pipeline.fit(prep, algo, params, seed, stage=console.stage)
        with console.stage("log to MLflow"):
            handle.log_metrics({f"best_{spec.metric}": best.value})
            log_fit(handle, fit, cfg, prep)
            log_segmenter(handle, fit, prep, cfg)
            if (cfg.get("plots") or {}).get("enabled", True):
                _log_search_plots(handle, study, algo, prep, space, best, params)

    _best_table(cfg, study, spec, counts, best, seconds)
    return {
        **_summary(cfg, prep, fit, handle, "rfmlab search (best trial refitted)"),
        "study_name": study.study_name,
        "best_params": best.params,
        "counts": counts,
    }


def _best_table(cfg, study, spec, counts, best, seconds) -> None:
    from rich.table import Table

    t = Table(title="best trial", title_justify="left")
    for col in ("study", "trials (ok/pruned/failed)", "best trial", "params", spec.metric, "n_clusters", "time"):
        t.add_column(col)
    m = best.user_attrs.get("metrics", {})
    t.add_row(
        study.study_name,
        f"{counts['n_trials_complete']}/{counts['n_trials_pruned']}/{counts['n_trials_failed']}",
        str(best.number),
        ", ".join(f"{k}={console.fmt(v)}" for k, v in best.params.items()),
        f"{best.value:.4f}",
        str(int(m.get("n_clusters", 0))),
        f"{seconds:.1f} s",
    )
    console.console.print(t)


def _log_search_plots(handle, study, algo, prep, space, best, params) -> None:
    import numpy as np

    from rfmlab import plots, search

    for name, (fig, html) in plots.optuna_figures(study, list(space)).items():
        if fig is not None:
            handle.log_figure(fig, f"search/{name}.png")
            plots.close(fig)
        if html is not None:
            handle.log_text(html, f"search/{name}.html")
    if "n_clusters" in space:
        per_k: dict[int, tuple[float, float]] = {}
        for t in study.get_trials(deepcopy=False):
            m, k = t.user_attrs.get("metrics"), t.params.get("n_clusters")
            if not m or k is None or "inertia" not in t.user_attrs:
                continue
            sil = m.get("silhouette")
            sil = -math.inf if sil is None else sil
            inert = t.user_attrs["inertia"]
            old = per_k.get(k)
            per_k[k] = (min(inert, old[0]) if old else inert, max(sil, old[1]) if old else sil)
        if len(per_k) >= 2:
            ks = sorted(per_k)
            inertia = [per_k[k][0] for k in ks]
            sil = [per_k[k][1] if per_k[k][1] != -math.inf else np.nan for k in ks]
            kn = search.knee(ks, inertia)
            fig = plots.elbow(ks, inertia, sil, ks[kn] if kn is not None else None, best.params["n_clusters"])
            handle.log_figure(fig, "search/elbow.png")
            plots.close(fig)
            handle.log_dict(
                {
                    "k": ks,
                    "inertia": inertia,
                    "silhouette": [None if s != s else s for s in sil],
                    "knee_k": ks[kn] if kn is not None else None,
                },
                "search/elbow.json",
            )
    if algo == "dbscan" and "eps" in best.params:
        ms = int(params.get("min_samples") or 5)
        d = search.k_distance(prep.X, max(ms - 1, 1))
        fig = plots.k_distance(d, float(best.params["eps"]), max(ms - 1, 1))
        handle.log_figure(fig, "search/k_distance.png")
        plots.close(fig)
