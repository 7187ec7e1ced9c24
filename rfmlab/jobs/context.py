"""What every tracked job shares: config-derived names, tags and params, the tracked prepare step, the
banner and the console summary."""

from __future__ import annotations

import contextlib
import platform

from rfmlab import cluster, pipeline
from rfmlab.mlflow_edge import catalog, tracking
from rfmlab.report import console

# keys that may differ between the processes / sessions of one search; not logged as run params
VOLATILE = ("search.resume", "search.n_workers", "search.n_trials", "search.timeout", "sweep_id", "rerun_of")


def algorithm_params(cfg: dict) -> dict:
    """``algorithm.params`` with the study's per-algorithm pins (``study.params.<name>``) on top."""
    algo = cfg["algorithm"]
    pins = ((cfg.get("study") or {}).get("params") or {}).get(algo["name"]) or {}
    return {**(algo.get("params") or {}), **pins}


def max_exact(cfg: dict) -> int | None:
    """``algorithm.fit.max_exact``: above this many customers, fit on a sample of that size, assign the rest."""
    value = (cfg["algorithm"].get("fit") or {}).get("max_exact")
    return None if value is None else int(value)


def search_space(cfg: dict, *, prep: pipeline.Prepared) -> dict:
    """The algorithm's search space with data-derived bounds taken from the customers it is fitted on (the
    sample above ``max_exact``: DBSCAN's eps depends on how dense the fitted points are)."""
    from rfmlab import cluster, search

    X, limit = prep.X, max_exact(cfg)
    if limit is not None and len(X) > limit:
        X = X[cluster.sample_rows(len(X), limit, int(cfg.get("seed", 0)))]
    share = float((cfg.get("search") or {}).get("min_cluster_share") or 0.0)
    return search.resolve_space(
        cfg["algorithm"]["name"], space=cfg["algorithm"].get("search_space") or {}, X=X, min_share=share
    )


def run_name(cfg: dict, *, prefix: str = "") -> str:
    return cfg["tracking"].get("run_name") or f"{prefix}{cfg['algorithm']['name']}-{cfg['features']['name']}"


def experiment(cfg: dict) -> str:
    return cfg["tracking"].get("experiment") or cfg["dataset"]["name"]


def tags(cfg: dict) -> dict:
    out = {
        "rfmlab.dataset": cfg["dataset"]["name"],
        "rfmlab.features": cfg["features"]["name"],
        "rfmlab.algorithm": cfg["algorithm"]["name"],
        "rfmlab.search": (cfg.get("search") or {}).get("name", "none"),
        "rfmlab.python": platform.python_version(),
    }
    if cfg.get("sweep_id"):
        out["rfmlab.sweep_id"] = str(cfg["sweep_id"])
    if cfg.get("rerun_of"):
        out["rfmlab.rerun_of"] = str(cfg["rerun_of"])
    if (cfg.get("study") or {}).get("name"):
        out["rfmlab.study"] = str(cfg["study"]["name"])
    return out


def params(cfg: dict) -> dict:
    """Flattened config as run params; scheme bodies stay in config/config.yaml (names only here)."""
    seg = cfg.get("segments") or {}
    cfg = {
        **cfg,
        "segments": {"schemes": sorted(k for k, v in seg.items() if isinstance(v, dict)), "naming": seg.get("naming")},
    }
    flat = tracking.flatten(cfg)
    return {k: v for k, v in flat.items() if not k.startswith(VOLATILE)}


def _source(dataset: dict) -> str:
    download = dataset.get("download") or {}
    if dataset.get("path"):
        return str(dataset["path"])
    if download.get("enabled"):
        return str(download.get("url"))
    return f"synthetic:{dataset['kind']}"


def naming_config(segments_cfg: dict | None) -> dict | None:
    """The body of ``segments.naming``'s scheme from ``conf/segments/`` when that scheme is not selected
    (``segments=quartile`` keeps naming clusters with rfm11); None when it is selected or unset."""
    seg = segments_cfg or {}
    naming = seg.get("naming")
    if not naming or naming in seg:
        return None
    from rfmlab.resources import scheme_config

    return scheme_config(naming, "segments.naming")


def prepare(cfg: dict, *, handle: tracking.RunHandle | None, quiet: bool = False) -> pipeline.Prepared:
    """``pipeline.prepare`` with each stage's output logged into ``handle``'s run as soon as it exists."""

    def on_stage(name: str, out) -> None:
        if name == "load" and out.get("detected"):
            console.console.print(
                f"  dates read as [bold]{out['date_format']}[/] (detected; set dataset.date_format to change)"
            )
        if name == "clean" and out.replaced_lines:
            console.console.print(
                f"  [yellow]{out.replaced_lines:,} line(s) had bytes that are not valid "
                f"{cfg['dataset'].get('encoding', 'utf8')}[/] (kept, shown as \ufffd); set dataset.encoding if wrong"
            )
        if handle is None:
            return
        if name == "load":
            handle.log_params({"data.digest": out["digest"], "data.date_format": out.get("date_format") or "native"})
            handle.log_input(out["head"], cfg["dataset"]["name"], source=_source(cfg["dataset"]), digest=out["digest"])
        elif name == "clean":
            console.cleaning_report(out)
            handle.log_dict(out.to_dict(), catalog.CLEANING_REPORT)
            handle.log_metrics({"rows_in": out.rows_in, "rows_out": out.rows_out})

    prep = pipeline.prepare(
        cfg["dataset"],
        feats=cfg["features"],
        sample_size=int(cfg["evaluation"]["sample_size"]),
        seed=int(cfg.get("seed", 0)),
        stage=(lambda name: contextlib.nullcontext()) if quiet else console.stage,
        on_stage=on_stage,
        segments_cfg=cfg.get("segments"),
        naming_cfg=naming_config(cfg.get("segments")),
        stability_cfg=cfg["evaluation"].get("stability"),
    )
    if handle is not None:
        handle.log_params({"analysis_date": prep.analysis_date.isoformat()})
    cluster.check_customers(cfg["algorithm"]["name"], {}, prep.X)  # fewer than 2: nothing to cluster or search
    return prep


def banner(cfg: dict, *, uri: str) -> None:
    console.console.print(
        f"[bold]rfmlab[/] {cfg['dataset']['name']} · {cfg['features']['name']} · {cfg['algorithm']['name']} "
        f"· search={cfg.get('search', {}).get('name', 'none')} [dim]→ experiment '{experiment(cfg)}' in {uri}[/]"
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


def summary(cfg, *, prep: pipeline.Prepared, fit: pipeline.Fit, handle, title: str, extra_rows=None) -> dict:
    """Print the run's summary table with its links; returns ids, metrics and the run link."""
    link = tracking.run_url(tracking.ui_url(cfg["tracking"], handle.uri), handle.experiment_id, handle.run_id)
    rows = {
        "dataset": f"{cfg['dataset']['name']} ({prep.report.rows_in:,} rows in, {prep.report.rows_out:,} kept)",
        "customers": f"{prep.customers.height:,} (as of {prep.analysis_date})",
        "features": f"{cfg['features']['name']}: {' → '.join(prep.transform_steps)} on {', '.join(prep.columns)}",
        "algorithm": f"{fit.algorithm} {fit.params}",
        **_segment_row(fit),
        **(extra_rows or {}),
    }
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
