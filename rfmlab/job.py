"""One tracked experiment: pipeline stages inside an MLflow run, then the console summary.

Takes the resolved config as a plain dict (the CLI converts Hydra's), so it is callable from tests and
notebooks without Hydra. Artifacts are logged as soon as their stage finishes, so a failure later keeps
them; the run then ends FAILED with ``error.txt``.
"""

from __future__ import annotations

import platform

from rfmlab import console, pipeline, tracking
from rfmlab.errors import ConfigError


def algorithm_params(cfg: dict) -> dict:
    """``algorithm.params`` with the study's per-algorithm pins (``study.params.<name>``) on top."""
    algo = cfg["algorithm"]
    pins = ((cfg.get("study") or {}).get("params") or {}).get(algo["name"]) or {}
    return {**(algo.get("params") or {}), **pins}


def run_name(cfg: dict) -> str:
    return cfg["tracking"].get("run_name") or f"{cfg['algorithm']['name']}-{cfg['features']['name']}"


def log_fit(handle: tracking.RunHandle, fit: pipeline.Fit, cfg: dict) -> None:
    """Metrics, tables and plots of a fitted clustering into ``handle``'s run."""
    from rfmlab import plots

    handle.log_metrics({**fit.metrics, "n_customers": float(len(fit.labels))})
    handle.log_dict({str(k): v for k, v in fit.sizes.items()}, "tables/cluster_sizes.json")
    tracking.log_table(
        handle,
        {
            "customers.parquet": fit.customers,
            "customers.csv": fit.customers,
            "profile.csv": fit.profile,
        },
    )
    pcfg = cfg.get("plots") or {}
    if not pcfg.get("enabled", True):
        return
    max_points, seed = int(pcfg.get("max_points", 5000)), int(cfg.get("seed", 0))
    figures = {
        "plots/rfm_scatter_3d.png": lambda: plots.scatter3d_png(fit.customers, None, max_points, seed),
        "plots/cluster_sizes.png": lambda: plots.cluster_sizes(fit.profile),
        "plots/rfm_boxplots.png": lambda: plots.rfm_boxplots(fit.customers),
        "plots/profile_heatmap.png": lambda: plots.profile_heatmap(fit.profile),
    }
    for path, make in figures.items():
        fig = make()
        handle.log_figure(fig, path)
        plots.close(fig)
    handle.log_text(plots.scatter3d_html(fit.customers, None, max_points, seed), "plots/rfm_scatter_3d.html")


def run(cfg: dict, config_yaml: str) -> dict:
    """Run one experiment; returns ids, metrics and the run link."""
    tcfg = cfg["tracking"]
    uri = tracking.store_uri(tcfg.get("uri"))
    experiment = tcfg.get("experiment") or cfg["dataset"]["name"]
    algo = cfg["algorithm"]["name"]
    params = algorithm_params(cfg)
    seed = int(cfg.get("seed", 0))
    if (cfg.get("search") or {}).get("name", "none") != "none":
        raise ConfigError(f"search={cfg['search']['name']} is not available; use search=none")
    tags = {
        "rfmlab.dataset": cfg["dataset"]["name"],
        "rfmlab.features": cfg["features"]["name"],
        "rfmlab.algorithm": algo,
        "rfmlab.python": platform.python_version(),
    }
    if cfg.get("sweep_id"):
        tags["rfmlab.sweep_id"] = str(cfg["sweep_id"])
    if (cfg.get("study") or {}).get("name"):
        tags["rfmlab.study"] = str(cfg["study"]["name"])

    console.console.print(
        f"[bold]rfmlab[/] {cfg['dataset']['name']} · {cfg['features']['name']} · {algo} "
        f"[dim]→ experiment '{experiment}' in {uri}[/]"
    )
    with tracking.start_run(uri, experiment, run_name(cfg), tags) as handle:
        handle.log_params({**tracking.flatten(cfg), "algorithm.effective_params": str(params)})
        handle.log_text(config_yaml, "config/config.yaml")

        def on_stage(name: str, out) -> None:
            if name == "load":
                handle.log_params({"data.digest": out["digest"]})
                source = cfg["dataset"].get("path") or f"synthetic:{cfg['dataset']['kind']}"
                handle.log_input(out["raw"], cfg["dataset"]["name"], str(source), out["digest"])
            elif name == "clean":
                handle.log_dict(out.to_dict(), "data/cleaning_report.json")
                handle.log_metrics({"rows_in": out.rows_in, "rows_out": out.rows_out})

        prep = pipeline.prepare(
            cfg["dataset"],
            cfg["features"],
            int(cfg["evaluation"]["sample_size"]),
            seed,
            stage=console.stage,
            on_stage=on_stage,
        )
        handle.log_params({"analysis_date": prep.analysis_date.isoformat()})
        fit = pipeline.fit(prep, algo, params, seed, stage=console.stage)
        with console.stage("log to MLflow"):
            log_fit(handle, fit, cfg)

    link = tracking.run_url(tcfg.get("ui_url") or "http://127.0.0.1:5000", handle.experiment_id, handle.run_id)
    console.summary(
        "rfmlab run",
        {
            "dataset": f"{cfg['dataset']['name']} ({prep.report.rows_in:,} rows in, {prep.report.rows_out:,} kept)",
            "customers": f"{prep.customers.height:,} (as of {prep.analysis_date})",
            "features": f"{cfg['features']['name']}: {' → '.join(prep.transform_steps)} on {', '.join(prep.columns)}",
            "algorithm": f"{algo} {params}",
        },
        {
            k: fit.metrics[k]
            for k in ("n_clusters", "silhouette", "davies_bouldin", "calinski_harabasz", "noise_fraction")
        },
        [
            f"[bold]run[/] {handle.run_id} in experiment '{experiment}'",
            f"[bold]open the UI[/]  make ui   [dim](mlflow ui --backend-store-uri {uri})[/]",
            f"[bold]this run[/]     {link}",
        ],
    )
    return {"run_id": handle.run_id, "experiment_id": handle.experiment_id, "metrics": fit.metrics, "url": link}
