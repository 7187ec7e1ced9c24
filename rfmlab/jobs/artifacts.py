"""What a fitted clustering leaves in its run: metrics, tables, segment summaries, plots and the model."""

from __future__ import annotations

import rfmlab
from rfmlab import pipeline
from rfmlab.mlflow_edge import tracking


def log_fit(handle: tracking.RunHandle, *, fit: pipeline.Fit, cfg: dict, prep: pipeline.Prepared | None = None) -> None:
    """Metrics, tables, segment summaries and plots of a fitted clustering into ``handle``'s run."""
    handle.log_metrics({**fit.metrics, "n_customers": float(len(fit.labels))})
    handle.log_dict({str(k): v for k, v in fit.sizes.items()}, "tables/cluster_sizes.json")
    handle.log_dict({str(k): v for k, v in fit.names.items()}, "tables/cluster_names.json")
    tables = log_tables(handle, fit=fit, prep=prep)
    if (cfg.get("plots") or {}).get("enabled", True):
        log_plots(handle, fit=fit, cfg=cfg, schemes=prep.schemes if prep is not None else {}, tables=tables)


def log_tables(handle: tracking.RunHandle, *, fit: pipeline.Fit, prep: pipeline.Prepared | None) -> dict:
    """Customer table, profile, per-scheme summaries and contingency tables; the HTML segment page."""
    from rfmlab import segments
    from rfmlab.report import figures

    tables = {"customers.parquet": fit.customers, "customers.csv": fit.customers, "profile.csv": fit.profile}
    if fit.stability is not None:
        tables["stability.csv"] = fit.stability.table(fit.names)
    sections = []
    if fit.names and prep is not None:
        seg = segments.summary(fit.customers, column="segment", actions=prep.namer.actions)
        tables["segments.csv"] = seg
        sections.append((f"Clusters named with {prep.naming}", f"{fit.algorithm} clusters; noise = Outliers", seg))
        for name, scheme in prep.schemes.items():
            tab = segments.summary(fit.customers, column=name, actions=scheme.actions)
            tables[f"segments_{name}.csv"] = tab
            tables[f"contingency_{name}.csv"] = segments.contingency(fit.customers, "cluster", name)
            sections.append((f"Rule scheme {name}", scheme.description, tab))
    tracking.log_table(handle, tables)
    if sections:
        handle.log_text(figures.segments_html("Customer segments", sections=sections), "segments/summary.html")
    return tables


def log_plots(handle: tracking.RunHandle, *, fit: pipeline.Fit, cfg: dict, schemes: dict, tables: dict) -> None:
    from rfmlab.report import figures

    pcfg = cfg.get("plots") or {}
    max_points, seed, names = int(pcfg.get("max_points", 5000)), int(cfg.get("seed", 0)), fit.names or None
    charts = {
        "plots/rfm_scatter_3d.png": lambda: figures.scatter3d_png(
            fit.customers, names=names, max_points=max_points, seed=seed
        ),
        "plots/cluster_sizes.png": lambda: figures.cluster_sizes(fit.profile, names=names),
        "plots/rfm_boxplots.png": lambda: figures.rfm_boxplots(fit.customers, names=names),
        "plots/profile_heatmap.png": lambda: figures.profile_heatmap(fit.profile, names=names),
    }
    if "stability.csv" in tables:
        charts["plots/stability.png"] = lambda: figures.stability_bars(tables["stability.csv"], stab=fit.stability)
    for name in schemes:
        charts[f"plots/contingency_{name}.png"] = lambda name=name: figures.contingency_heatmap(
            tables[f"contingency_{name}.csv"], row_names=names, scheme=name, ari=fit.metrics.get(f"ari_vs_{name}")
        )
    for path, make in charts.items():
        fig = make()
        handle.log_figure(fig, path)
        figures.close(fig)
    handle.log_text(
        figures.scatter3d_html(fit.customers, names=names, max_points=max_points, seed=seed),
        "plots/rfm_scatter_3d.html",
    )


def log_segmenter(handle: tracking.RunHandle, *, fit: pipeline.Fit, prep: pipeline.Prepared, cfg: dict) -> str | None:
    """The run's pyfunc model: RFM settings, fitted transform, clusterer, assignment and names."""
    if not cfg["tracking"].get("log_model", True):
        return None
    from rfmlab.mlflow_edge import pyfunc

    metadata = {"rfmlab_version": rfmlab.__version__, "run_id": handle.run_id}
    segmenter = pipeline.build_segmenter(fit, prep=prep, dataset=cfg["dataset"], metadata=metadata)
    uri = pyfunc.log_model(segmenter, example=fit.customers.head(5))
    handle.set_tags({"rfmlab.model_uri": uri})
    return uri
