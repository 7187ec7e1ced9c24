"""A finished search's report: the best-trial table on the console, Optuna's charts, the elbow chart with
its knee (algorithms with ``n_clusters``) and the k-distance chart (DBSCAN)."""

from __future__ import annotations

import math

import numpy as np

from rfmlab import evaluate, pipeline, search
from rfmlab.mlflow_edge import catalog
from rfmlab.report import console
from rfmlab.report.exports import spreadsheet_safe


def log_elbow(handle, *, study, best) -> None:
    from rfmlab.report import figures, figures_search

    by_k = search.per_k(study)
    if len(by_k) < 2:
        return
    ks = sorted(by_k)
    inertia = [by_k[k][0] for k in ks]
    sil = [by_k[k][1] if by_k[k][1] != -math.inf else np.nan for k in ks]
    kn = evaluate.elbow_knee(ks, inertia)
    fig = figures_search.elbow(
        ks,
        inertia=inertia,
        silhouette=sil,
        knee_k=ks[kn] if kn is not None else None,
        chosen_k=best.params["n_clusters"],
    )
    handle.log_figure(fig, catalog.ELBOW)
    figures.close(fig)
    handle.log_dict(
        {
            "k": ks,
            "inertia": inertia,
            "silhouette": [None if s != s else s for s in sil],
            "knee_k": ks[kn] if kn is not None else None,
            "knee": f"k={ks[kn]}" if kn is not None else "none: the curve has no knee (Kneedle, S=1)",
        },
        catalog.ELBOW_JSON,
    )


def log_search_plots(handle, *, study, spec, algo, prep, space, best, params) -> None:
    from rfmlab.report import figures, figures_search

    interactive = {}
    for name, (fig, ply) in figures_search.optuna_figures(
        study, params=list(space), objectives=spec.names if spec.multi else None
    ).items():
        if fig is not None:
            handle.log_figure(fig, catalog.optuna_chart(name))
            figures.close(fig)
        if ply is not None:
            interactive[name] = ply
    if interactive:
        title = f"Optuna study charts: {study.study_name}"
        handle.log_text(figures_search.charts_page(interactive, title=title), catalog.SEARCH_CHARTS_PAGE)
    if "n_clusters" in space:
        log_elbow(handle, study=study, best=best)
    if algo == "dbscan" and "eps" in best.params:
        k = max(int(params.get("min_samples") or 5) - 1, 1)
        fig = figures_search.k_distance(search.k_distance(prep.X, k), float(best.params["eps"]), k=k)
        handle.log_figure(fig, catalog.K_DISTANCE)
        figures.close(fig)


def log_k_report(handle, *, prep, algo: str, params: dict, space: dict, spec, seed: int, figure: bool = True):
    """The number-of-clusters report (``pipeline.k_report``) for every k of the space, on the stability sample:
    ``search/n_clusters.csv`` and ``.png``, each criterion's pick as metric ``k_pick_<criterion>``, and the picks
    returned for ``k_table``; None when the search has no integer ``n_clusters`` or the report is off."""
    from rfmlab import evaluate
    from rfmlab.report import figures, figures_search

    p, rep = space.get("n_clusters"), spec.k_report
    if not rep.enabled or algo not in evaluate.K_ALGORITHMS or p is None or p["type"] != "int":
        return None
    ks = list(range(int(p["low"]), int(p["high"]) + 1))
    n = min(rep.sample_size, len(prep.evaluator.sample))
    with console.stage(f"number-of-clusters report (k={ks[0]}-{ks[-1]}, {n:,} customers)"):
        table = pipeline.k_report(prep, algorithm=algo, params=params, ks=ks, sample_size=rep.sample_size,
                                  n_resamples=rep.n_resamples, gap_refs=rep.gap_refs, seed=seed)  # fmt: skip
    chosen = int(params["n_clusters"])
    picks = evaluate.k_picks(table)
    handle.log_text(spreadsheet_safe(table).write_csv(), catalog.N_CLUSTERS)
    handle.log_metrics({f"k_pick_{name}": k for name, k in picks.items() if k is not None})
    if picks.get("gap") == 1:  # k=1 by the 1-SE rule: the data look like one cluster to the gap statistic
        handle.set_tags({"k_report.gap": evaluate.NO_STRUCTURE})
    if figure:
        fig = figures_search.n_clusters_report(table, picks=picks, chosen_k=chosen)
        handle.log_figure(fig, catalog.N_CLUSTERS_PNG)
        figures.close(fig)
    return picks
