"""A finished search's report: the best-trial table on the console, Optuna's charts, the elbow chart with
its knee (algorithms with ``n_clusters``) and the k-distance chart (DBSCAN)."""

from __future__ import annotations

import math

import numpy as np

from rfmlab import console, search


def best_table(study, spec, counts: dict, best, seconds: float) -> None:
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
    close = indistinguishable(study, best)
    if close:
        lo, hi = best.user_attrs["metrics"]["silhouette_ci_low"], best.user_attrs["metrics"]["silhouette_ci_high"]
        shown = "; ".join(f"trial {n} ({p}) {v:.4f}" for n, p, v in close[:5]) + (" ..." if len(close) > 5 else "")
        console.console.print(
            f"  [yellow]{len(close)} other parameter set(s) within the best's 95% silhouette interval "
            f"[{lo:.4f}, {hi:.4f}][/], indistinguishable on this sample: {shown}"
        )


def indistinguishable(study, best) -> list[tuple[int, str, float]]:
    """Completed trials with other parameters whose silhouette lies within the best trial's 95% interval
    (``silhouette_ci_low``..``_high``), best first: on this evaluation sample they cannot be told apart."""
    m = best.user_attrs.get("metrics") or {}
    lo = m.get("silhouette_ci_low")
    if lo is None or (m.get("silhouette") is None):
        return []
    seen, out = {tuple(sorted(best.params.items()))}, []
    for t in sorted(studies_complete(study), key=lambda t: -(t.value or -math.inf)):
        key = tuple(sorted(t.params.items()))
        v = (t.user_attrs.get("metrics") or {}).get("silhouette")
        if key in seen or v is None or v < lo:
            continue
        seen.add(key)
        out.append((t.number, ", ".join(f"{k}={console.fmt(x)}" for k, x in t.params.items()), float(v)))
    return out


def studies_complete(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def per_k(study) -> dict[int, tuple[float, float]]:
    """k -> (lowest inertia, best silhouette) over the trials that tried that k."""
    out: dict[int, tuple[float, float]] = {}
    for t in study.get_trials(deepcopy=False):
        m, k = t.user_attrs.get("metrics"), t.params.get("n_clusters")
        if not m or k is None or "inertia" not in t.user_attrs:
            continue
        sil = m.get("silhouette")
        sil = -math.inf if sil is None else sil
        inert = t.user_attrs["inertia"]
        old = out.get(k)
        out[k] = (min(inert, old[0]) if old else inert, max(sil, old[1]) if old else sil)
    return out


def log_elbow(handle, study, best) -> None:
    from rfmlab import plots

    by_k = per_k(study)
    if len(by_k) < 2:
        return
    ks = sorted(by_k)
    inertia = [by_k[k][0] for k in ks]
    sil = [by_k[k][1] if by_k[k][1] != -math.inf else np.nan for k in ks]
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


def log_search_plots(handle, study, algo, prep, space, best, params) -> None:
    from rfmlab import plots

    for name, (fig, html) in plots.optuna_figures(study, list(space)).items():
        if fig is not None:
            handle.log_figure(fig, f"search/{name}.png")
            plots.close(fig)
        if html is not None:
            handle.log_text(html, f"search/{name}.html")
    if "n_clusters" in space:
        log_elbow(handle, study, best)
    if algo == "dbscan" and "eps" in best.params:
        k = max(int(params.get("min_samples") or 5) - 1, 1)
        fig = plots.k_distance(search.k_distance(prep.X, k), float(best.params["eps"]), k)
        handle.log_figure(fig, "search/k_distance.png")
        plots.close(fig)
