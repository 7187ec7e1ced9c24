"""What every tracked job shares: config-derived names, tags and params, the tracked prepare step, the
banner and the console summary."""

from __future__ import annotations

import contextlib
import platform

from rfmlab import cluster, pipeline
from rfmlab.data import dates, locations, sql
from rfmlab.jobs.settings import Settings
from rfmlab.mlflow_edge import catalog, tracking
from rfmlab.report import clv_text, console

# keys that may differ between the processes / sessions of one search; not logged as run params
VOLATILE = ("search.resume", "search.n_workers", "search.n_trials", "search.timeout", "sweep_id", "rerun_of")


def search_space(s: Settings, *, prep: pipeline.Prepared) -> dict:
    """The algorithm's search space with data-derived bounds taken from the customers it is fitted on (the
    sample above ``max_exact``: DBSCAN's eps depends on how dense the fitted points are)."""
    from rfmlab import search

    X, limit = prep.X, s.algorithm.max_exact
    if limit is not None and len(X) > limit:
        X = X[cluster.sample_rows(len(X), limit, s.seed)]
    share = s.search.min_cluster_share if s.search is not None else 0.0
    return search.resolve_space(s.algorithm.name, space=s.algorithm.search_space, X=X, min_share=share)


def run_name(s: Settings, *, prefix: str = "") -> str:
    return s.tracking.run_name or f"{prefix}{s.algorithm.name}-{s.features.name}"


def tags(s: Settings) -> dict:
    out = {
        "rfmlab.dataset": s.dataset.name,
        "rfmlab.features": s.features.name,
        "rfmlab.algorithm": s.algorithm.name,
        "rfmlab.search": s.search_mode,
        "rfmlab.python": platform.python_version(),
    }
    if s.sweep_id:
        out["rfmlab.sweep_id"] = s.sweep_id
    if s.rerun_of:
        out["rfmlab.rerun_of"] = s.rerun_of
    if s.study:
        out["rfmlab.study"] = str(s.study)
    return out


def params(s: Settings) -> dict:
    """The config as given, flattened, as run params; scheme bodies stay in config/config.yaml (names only)."""
    seg = s.raw.get("segments") or {}
    cfg = {
        **s.raw,
        "dataset": locations.redact_section(s.raw.get("dataset") or {}),
        "segments": {"schemes": sorted(k for k, v in seg.items() if isinstance(v, dict)), "naming": seg.get("naming")},
    }
    flat = tracking.flatten(cfg)
    return {k: v for k, v in flat.items() if not k.startswith(VOLATILE)}


def config_text(s: Settings, config_yaml: str) -> str:
    """The resolved config as logged (``config/config.yaml``): no secret storage option, no password in the path
    or the database URL."""
    text = config_yaml
    for url in (str(s.dataset.path or ""), str(s.dataset.uri or "")):
        text = text.replace(url, locations.shown(url)) if locations.scheme(url) else text
    if s.dataset.uri:
        text = sql.scrub(text, s.dataset.uri)
    text = locations.scrub_section(text, {"spark": s.dataset.spark})  # Spark's conf secrets, a Connect token
    return locations.scrub(text, s.dataset.storage_options)


def _source(s: Settings) -> str:
    dataset, download = s.dataset, s.dataset.download or {}
    if s.data is not None:
        return "in-memory frame (rfmlab.run(data=...))"
    if dataset.uri:
        return "sql:" + locations.shown(str(dataset.uri))
    if dataset.path:
        return locations.shown(str(dataset.path))
    if download.get("enabled"):
        return str(download.get("url"))
    return f"synthetic:{dataset.kind}"


def _sql(out: dict) -> dict:
    """The lineage of a SQL source as ``log_input`` takes it: the server (redacted) and the query run."""
    lineage = out.get("lineage") or {}
    return {"query": lineage["data.query"]} if lineage else {}


def say_dates(out: dict) -> None:
    """The console lines of the load stage: the date format when it was detected, and how time zones are read."""
    if out.get("detected"):
        console.console.print(
            f"  dates read as [bold]{dates.describe(out['date_format'])}[/] (detected; set dataset.date_format "
            "to change)"
        )
    if out.get("zone"):
        console.console.print(f"  {out['zone']}")


def prepare(s: Settings, *, handle: tracking.RunHandle | None, quiet: bool = False) -> pipeline.Prepared:
    """``pipeline.prepare`` with each stage's output logged into ``handle``'s run as soon as it exists."""

    def on_stage(name: str, out) -> None:
        if name == "load":
            say_dates(out)
            if out.get("digest_note"):
                console.console.print(f"  digest: {out['digest']} ({out['digest_note']})")
        if name == "clean" and out.replaced_lines:
            console.console.print(
                f"  [yellow]{out.replaced_lines:,} line(s) had bytes that are not valid "
                f"{s.dataset.encoding}[/] (kept, shown as \ufffd); set dataset.encoding if wrong"
            )
        if name == "clv":
            console.console.print(f"  {clv_text.assumption_line(out)}")
        if handle is None:
            return
        if name == "load":
            handle.log_params({"data.digest": out["digest"], "data.date_format": out.get("date_format") or "native"})
            handle.log_params(out.get("lineage") or {})
            handle.log_input(out["head"], s.dataset.name, source=_source(s), digest=out["digest"], **_sql(out))
        elif name == "clv":
            handle.log_metrics(out.metrics())
            handle.log_params(out.params_logged())
            handle.log_dict(out.params.to_dict(), catalog.CLV_PARAMS)
        elif name == "clean":
            console.cleaning_report(out)
            handle.log_dict(out.to_dict(), catalog.CLEANING_REPORT)
            handle.log_metrics({"rows_in": out.rows_in, "rows_out": out.rows_out})

    prep = pipeline.prepare(
        s.dataset,
        features=s.features,
        segments=s.segments,
        evaluation=s.evaluation,
        seed=s.seed,
        stage=(lambda name: contextlib.nullcontext()) if quiet else console.stage,
        on_stage=on_stage,
        source=s.data,
        clv=s.clv,
    )
    for note in prep.notes:
        console.console.print(f"  [yellow]{note}[/]")
    if handle is not None:
        handle.log_params({"analysis_date": prep.as_of})
    cluster.check_customers(s.algorithm.name, {}, prep.X)  # fewer than 2: nothing to cluster or search
    return prep


def banner(s: Settings, *, uri: str) -> None:
    console.console.print(
        f"[bold]rfmlab[/] {s.dataset.name} · {s.features.name} · {s.algorithm.name} "
        f"· search={s.search_mode} [dim]→ experiment '{s.experiment}' in {uri}[/]"
    )


def _segment_row(fit: pipeline.Fit) -> dict:
    if not fit.names:
        return {}
    ordered = sorted(fit.sizes.items(), key=lambda x: -x[1])
    return {"segments": ", ".join(f"{fit.names[c]} ({n:,})" for c, n in ordered)}


def _stability_row(fit: pipeline.Fit) -> dict:
    """Each cluster's stability under its business name, least stable first, with Hennig's reading."""
    if fit.stability is None or not len(fit.stability.clusters):
        return {}
    shown = fit.stability.describe(fit.names)
    noise = " [dim](noise left out)[/]" if (fit.labels < 0).any() else ""
    return {"cluster stability": shown + noise}


def summary(s: Settings, *, prep: pipeline.Prepared, fit: pipeline.Fit, handle, title: str, extra_rows=None) -> dict:
    """Print the run's summary table with its links; returns ids, metrics and the run link."""
    link = tracking.run_url(
        tracking.ui_url({"ui_url": s.tracking.ui_url}, handle.uri), handle.experiment_id, handle.run_id
    )
    rows = {
        "dataset": f"{s.dataset.name} ({prep.report.rows_in:,} rows in, {prep.report.rows_out:,} kept)",
        "customers": f"{prep.customers.height:,} (as of {prep.as_of})",
        "features": f"{s.features.name}: {' → '.join(prep.transform_steps)} on {', '.join(prep.columns)}",
        "algorithm": f"{fit.algorithm} {fit.params}",
        **_segment_row(fit),
        **(extra_rows or {}),
    }
    if prep.clv is not None:
        rows.update(clv_text.console_rows(prep.clv, fit.customers, by="segment" if fit.names else "cluster"))
    keys = ("n_clusters", "silhouette", "stability", "stability_min", "davies_bouldin", "calinski_harabasz")
    console.summary(
        title,
        rows={**rows, **_stability_row(fit)},
        metrics={k: fit.metrics[k] for k in (*keys, "noise_fraction") if k in fit.metrics},
        footer=[
            f"[bold]run[/] {handle.run_id} in experiment '{handle.experiment_name}'",
            f"[bold]open the UI[/]  {tracking.ui_hint(handle.uri)}",
            f"[bold]this run[/]     {link}",
        ],
    )
    return {"run_id": handle.run_id, "experiment_id": handle.experiment_id, "metrics": fit.metrics, "url": link}
