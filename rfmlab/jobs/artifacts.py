"""What a fitted clustering leaves in its run: metrics, tables, segment summaries, plots and the model."""

from __future__ import annotations

import rfmlab
from rfmlab import pipeline
from rfmlab.jobs.settings import PlotsSpec
from rfmlab.mlflow_edge import catalog, tracking


def log_fit(
    handle: tracking.RunHandle, *, fit: pipeline.Fit, plots: PlotsSpec, seed: int, prep: pipeline.Prepared | None = None
) -> None:
    """Metrics, tables, segment summaries and plots of a fitted clustering into ``handle``'s run."""
    handle.log_metrics({**fit.metrics, "n_customers": float(len(fit.labels))})
    handle.log_dict({str(k): v for k, v in fit.sizes.items()}, catalog.CLUSTER_SIZES)
    handle.log_dict({str(k): v for k, v in fit.names.items()}, catalog.CLUSTER_NAMES)
    tables = log_tables(handle, fit=fit, prep=prep)
    result = prep.clv if prep is not None else None
    if result is not None:
        log_clv(handle, result=result, fit=fit, plots=plots.enabled)
    if plots.enabled:
        schemes = prep.schemes if prep is not None else {}
        log_plots(handle, fit=fit, max_points=plots.max_points, seed=seed, schemes=schemes, tables=tables)


def log_clv(handle: tracking.RunHandle, *, result, fit: pipeline.Fit, plots: bool = True) -> None:
    """CLV's summary (the fits' input), the holdout's tables and the CLV charts: P(alive) and expected purchases over
    frequency x recency, value by segment, the holdout calibration chart."""
    from rfmlab import clv
    from rfmlab.report import figures, figures_clv

    tables = {catalog.CLV_SUMMARY: result.summary}
    if result.holdout is not None:
        tables[catalog.CLV_HOLDOUT] = result.holdout.calibration
        tables[catalog.CLV_HOLDOUT_CUSTOMERS] = result.holdout.customers
    tracking.log_tables(handle, tables)
    if not plots:
        return
    by = "segment" if fit.names else "cluster"
    charts = {
        catalog.CLV_P_ALIVE_PNG: lambda: figures_clv.p_alive_matrix(result.summary, result.params),
        catalog.CLV_PURCHASES_PNG: lambda: figures_clv.expected_purchases_matrix(result.summary, result.params),
        catalog.CLV_SEGMENTS_PNG: lambda: figures_clv.value_by_segment(
            clv.by_group(fit.customers, by=by),
            by=by,
            title=f"Expected value over {result.params.horizon_months} months by {by}",
        ),
    }
    if result.holdout is not None:
        days = int(result.holdout.metrics["clv.holdout.days"])
        charts[catalog.CLV_HOLDOUT_PNG] = lambda: figures_clv.holdout_chart(result.holdout.calibration, days=days)
    for path, make in charts.items():
        fig = make()
        handle.log_figure(fig, path)
        figures.close(fig)


def log_tables(handle: tracking.RunHandle, *, fit: pipeline.Fit, prep: pipeline.Prepared | None) -> dict:
    """Customer table, profile, per-scheme summaries and contingency tables; the HTML segment page."""
    from rfmlab import segments
    from rfmlab.report import figures

    tables = {catalog.CUSTOMERS: fit.customers, catalog.CUSTOMERS_CSV: fit.customers, catalog.PROFILE: fit.profile}
    if fit.stability is not None:
        tables[catalog.STABILITY] = fit.stability.table(fit.names)
    sections = []
    if fit.names and prep is not None:
        seg = segments.summary(fit.customers, column="segment", actions=prep.namer.actions)
        tables[catalog.SEGMENTS] = seg
        sections.append((f"Clusters named with {prep.naming}", f"{fit.algorithm} clusters; noise = Outliers", seg))
        for name, scheme in prep.schemes.items():
            tab = segments.summary(fit.customers, column=name, actions=scheme.actions)
            tables[catalog.scheme_segments(name)] = tab
            tables[catalog.contingency(name)] = segments.contingency(fit.customers, "cluster", name)
            sections.append((f"Rule scheme {name}", scheme.description, tab))
    tracking.log_tables(handle, tables)
    if sections:
        handle.log_text(figures.segments_html("Customer segments", sections=sections), catalog.SEGMENTS_PAGE)
    return tables


def log_plots(
    handle: tracking.RunHandle, *, fit: pipeline.Fit, max_points: int, seed: int, schemes: dict, tables: dict
) -> None:
    from rfmlab.report import figures

    names = fit.names or None
    charts = {
        catalog.SCATTER_3D: lambda: figures.scatter3d_png(fit.customers, names=names, max_points=max_points, seed=seed),
        catalog.CLUSTER_SIZES_PNG: lambda: figures.cluster_sizes(fit.profile, names=names),
        catalog.BOXPLOTS: lambda: figures.rfm_boxplots(fit.customers, names=names),
        catalog.PROFILE_HEATMAP: lambda: figures.profile_heatmap(fit.profile, names=names),
    }
    if catalog.STABILITY in tables:
        charts[catalog.STABILITY_PNG] = lambda: figures.stability_bars(tables[catalog.STABILITY], stab=fit.stability)
    for name in schemes:
        charts[catalog.contingency_png(name)] = lambda name=name: figures.contingency_heatmap(
            tables[catalog.contingency(name)], row_names=names, scheme=name, ari=fit.metrics.get(f"ari_vs_{name}")
        )
    for path, make in charts.items():
        fig = make()
        handle.log_figure(fig, path)
        figures.close(fig)
    handle.log_text(
        figures.scatter3d_html(fit.customers, names=names, max_points=max_points, seed=seed),
        catalog.SCATTER_3D_HTML,
    )


def log_segmenter(
    handle: tracking.RunHandle, *, fit: pipeline.Fit, prep: pipeline.Prepared, dataset: dict, log_model: bool = True
) -> str | None:
    """The run's pyfunc model: RFM settings, fitted transform, clusterer, assignment and names."""
    if not log_model:
        return None
    from rfmlab.mlflow_edge import pyfunc

    metadata = {"rfmlab_version": rfmlab.__version__, "run_id": handle.run_id}
    segmenter = pipeline.build_segmenter(fit, prep=prep, dataset=dataset, metadata=metadata)
    uri = pyfunc.log_model(segmenter, example=fit.customers.head(5))
    handle.set_tags({"rfmlab.model_uri": uri})
    return uri
