"""Figures for choosing a search's model: the elbow, the number-of-clusters report, DBSCAN's k-distance curve
and Optuna's study charts. Pure functions returning figures (no file I/O); ``jobs.search_report`` logs them.
"""

from __future__ import annotations

import matplotlib
import matplotlib.style
import numpy as np
import polars as pl

from rfmlab.report.figures import subplots


def elbow(ks, *, inertia, silhouette, knee_k=None, chosen_k=None):
    """Inertia (within-cluster sum of squares) and silhouette against k, knee and chosen k marked."""
    fig, ax = subplots(figsize=(8, 4.5))
    ax.plot(ks, inertia, "o-", color="#1f77b4", label="inertia (within-cluster SS)")
    ax.set_xlabel("number of clusters k")
    ax.set_ylabel("inertia", color="#1f77b4")
    ax2 = ax.twinx()
    ax2.plot(ks, silhouette, "s--", color="#d62728", label="silhouette")
    ax2.set_ylabel("silhouette (best per k)", color="#d62728")
    if knee_k is not None:
        ax.axvline(knee_k, color="#555", ls=":", lw=1.2)
        ax.annotate(f"knee k={knee_k}", (knee_k, ax.get_ylim()[1]), ha="left", va="top", fontsize=9)
    else:
        ax.annotate("no knee (Kneedle, S=1)", (0.98, 0.98), xycoords="axes fraction", ha="right", va="top", fontsize=9)
    if chosen_k is not None:
        ax.axvline(chosen_k, color="#2ca02c", lw=1.5, alpha=0.7)
        ax.annotate(f"chosen k={chosen_k}", (chosen_k, ax.get_ylim()[0]), ha="left", va="bottom", fontsize=9)
    ax.set_xticks(list(ks))
    ax.set_title("Elbow: inertia and silhouette against k")
    fig.tight_layout()
    return fig


def n_clusters_report(table: pl.DataFrame, *, picks: dict, chosen_k: int | None = None):
    """One panel per criterion against k, its preferred k starred, the chosen k as a green line."""
    from rfmlab.evaluate import K_CRITERIA

    fig, axes = subplots(2, 3, figsize=(12, 6.5), sharex=True)
    ks = table["k"].to_numpy()
    for ax, name in zip(axes.flat, K_CRITERIA, strict=True):
        y = table[name].to_numpy()
        if name == "gap":
            ax.errorbar(ks, y, yerr=table["gap_se"].to_numpy(), fmt="o-", capsize=3, color="#1f77b4")
        else:
            ax.plot(ks, y, "o-", color="#1f77b4")
        k = picks.get(name)
        if k is not None and k in ks:
            ax.plot([k], [y[list(ks).index(k)]], "*", ms=16, color="#d62728", label=f"preferred k={k}")
            ax.legend(fontsize=8, loc="best")
        if chosen_k is not None:
            ax.axvline(chosen_k, color="#2ca02c", lw=1.5, alpha=0.6)
        ax.set_title(f"{name} ({K_CRITERIA[name]})", fontsize=9)
        ax.set_xticks(list(ks))
    for ax in axes[-1]:
        ax.set_xlabel("number of clusters k")
    chosen = f"; chosen k={chosen_k} (green)" if chosen_k is not None else ""
    fig.suptitle(f"How many clusters: each criterion's preferred k (red star){chosen}", fontsize=11)
    fig.tight_layout()
    return fig


def k_distance(dist, eps: float, *, k: int):
    """Sorted k-distance curve with the chosen eps."""
    fig, ax = subplots(figsize=(8, 4.5))
    ax.plot(np.arange(len(dist)), dist, color="#1f77b4", lw=1.2)
    ax.axhline(eps, color="#d62728", ls="--", label=f"chosen eps = {eps:.4g}")
    share = float((np.asarray(dist) > eps).mean())
    ax.set_xlabel("customers, sorted by distance to their k-th neighbour")
    ax.set_ylabel(f"distance to neighbour k={k}")
    ax.set_title(f"DBSCAN k-distance (min_samples={k + 1}); {share:.1%} of customers lie beyond eps")
    ax.legend()
    fig.tight_layout()
    return fig


def _optuna_charts(study, params: list[str], objectives: list[str] | None) -> dict[str, tuple]:
    """name -> (matplotlib helper, plotly helper, keyword arguments) for the charts this study can draw."""
    import optuna
    import optuna.visualization as ov
    import optuna.visualization.matplotlib as om

    kinds = {
        "optimization_history": (om.plot_optimization_history, ov.plot_optimization_history),
        "param_importances": (om.plot_param_importances, ov.plot_param_importances),
        "slice": (om.plot_slice, ov.plot_slice),
    }
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    varied = [p for p in params if len({t.params[p] for t in done if p in t.params}) >= 2]
    if len(varied) >= 2:  # a contour over a parameter that never varied is empty (and optuna warns)
        kinds["contour"] = (om.plot_contour, ov.plot_contour)
    extra = {"contour": {"params": varied[:2]}}
    if not objectives:
        return {kind: (mpl, ply, extra.get(kind, {})) for kind, (mpl, ply) in kinds.items()}
    charts = {"pareto_front": (om.plot_pareto_front, ov.plot_pareto_front, {"target_names": objectives})}
    for kind, (mpl, ply) in kinds.items():
        for i, name in enumerate(objectives):
            kw = {**extra.get(kind, {}), "target": lambda t, i=i: t.values[i], "target_name": name}
            charts[f"{kind}_{name}"] = (mpl, ply, kw)
    return charts


def _draw(study, mpl, ply, kw) -> tuple[object | None, object | None]:
    """One chart as a matplotlib figure and as a plotly figure; either is None where optuna cannot draw it."""
    fig = interactive = None
    try:
        with matplotlib.style.context("default"):  # optuna's helpers set a global style; keep it local
            ax = mpl(study, **kw)
        fig = (ax.flat[0] if hasattr(ax, "flat") else ax).figure
        fig.set_size_inches(max(fig.get_size_inches()[0], 8), max(fig.get_size_inches()[1], 4.5))
        fig.tight_layout()
    except (ValueError, RuntimeError, ZeroDivisionError, IndexError):
        fig = None
    try:
        interactive = ply(study, **kw)
    except (ValueError, RuntimeError, ZeroDivisionError, IndexError):
        interactive = None
    return fig, interactive


def optuna_figures(
    study, *, params: list[str], objectives: list[str] | None = None
) -> dict[str, tuple[object | None, object | None]]:
    """name -> (matplotlib figure or None, plotly figure or None) for the study's standard charts. A multi-objective
    study (``objectives``: their names) gets ``pareto_front`` and each chart once per objective
    (``optimization_history_<objective>``...)."""
    import warnings

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (mpl, ply, kw) in _optuna_charts(study, params, objectives).items():
            fig, html = _draw(study, mpl, ply, kw)
            if fig is not None or html is not None:
                out[name] = (fig, html)
    return out


def charts_page(charts: dict[str, object], *, title: str) -> str:
    """Optuna's plotly charts (name -> figure) on one page that needs no network: plotly.js inlined once for all
    of them (~4.8 MB) instead of once per chart; each under its name, the name of its PNG (``search/<name>.png``)."""
    from rfmlab.report import interactive

    note = "Optuna's study charts, interactive (hover a point for its trial); each is also search/<name>.png."
    return interactive.page(list(charts.items()), title=title, note=note)
