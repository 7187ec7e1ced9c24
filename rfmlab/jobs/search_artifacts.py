"""A finished search's report: the best-trial table on the console, Optuna's charts, the elbow chart with
its knee (algorithms with ``n_clusters``) and the k-distance chart (DBSCAN)."""

from __future__ import annotations

import math

import numpy as np

from rfmlab import evaluate, search
from rfmlab.report import console


def best_table(study, *, spec, counts: dict, best, seconds: float, selection: str | None = None) -> None:
    from rich.table import Table

    t = Table(title="best trial" if not spec.multi else "chosen trial", title_justify="left")
    for col in ("study", "trials (ok/pruned/failed)", "trial", "params", *spec.names, "n_clusters", "time"):
        t.add_column(col)
    m = best.user_attrs.get("metrics", {})
    t.add_row(
        study.study_name,
        f"{counts['n_trials_complete']}/{counts['n_trials_pruned']}/{counts['n_trials_failed']}",
        str(best.number),
        _params(best.params),
        *(f"{v:.4f}" for v in best.values),
        str(int(m.get("n_clusters", 0))),
        f"{seconds:.1f} s",
    )
    console.console.print(t)
    if spec.multi:
        front_table(study, spec=spec, chosen=best)
        console.console.print(f"  chosen by search.select ({spec.select.rule}): {selection}", soft_wrap=True)
    close = indistinguishable(study, best=best)
    if "silhouette" not in spec.names:
        return
    if close:
        lo, hi = best.user_attrs["metrics"]["silhouette_ci_low"], best.user_attrs["metrics"]["silhouette_ci_high"]
        shown = "; ".join(f"trial {n} ({p}) {v:.4f}" for n, p, v in close[:5]) + (" ..." if len(close) > 5 else "")
        console.console.print(
            f"  [yellow]{len(close)} other parameter set(s) within the best's 95% silhouette interval "
            f"[{lo:.4f}, {hi:.4f}][/], indistinguishable on this sample: {shown}"
        )


def indistinguishable(study, *, best) -> list[tuple[int, str, float]]:
    """Completed trials with other parameters whose silhouette lies within the best trial's 95% interval
    (``silhouette_ci_low``..``_high``: a trial's interval is the influence-function one, which lets each point's a(i),
    b(i) move with the sample and so covers 95%), best first: on this evaluation sample they cannot be told apart."""
    m = best.user_attrs.get("metrics") or {}
    lo = m.get("silhouette_ci_low")
    if lo is None or (m.get("silhouette") is None):
        return []
    seen, out = {tuple(sorted(best.params.items()))}, []

    def silhouette(t) -> float:
        v = (t.user_attrs.get("metrics") or {}).get("silhouette")
        return -math.inf if v is None else float(v)

    for t in sorted(studies_complete(study), key=lambda t: -silhouette(t)):
        key = tuple(sorted(t.params.items()))
        v = (t.user_attrs.get("metrics") or {}).get("silhouette")
        if key in seen or v is None or v < lo:
            continue
        seen.add(key)
        out.append((t.number, ", ".join(f"{k}={console.fmt(x)}" for k, x in t.params.items()), float(v)))
    return out


def _params(params: dict) -> str:
    return ", ".join(f"{k}={console.fmt(v)}" for k, v in params.items())


def front_table(study, *, spec, chosen) -> None:
    """The Pareto front on the console, best first by the first objective; the chosen trial marked."""
    from rich.table import Table

    from rfmlab.search import studies

    front = studies.pareto_front(study)
    sign = 1.0 if spec.directions[0] == "maximize" else -1.0
    t = Table(title=f"Pareto front ({len(front)} trials)", title_justify="left")
    for col in ("", "trial", "params", *spec.names, "n_clusters"):
        t.add_column(col)
    for tr in sorted(front, key=lambda tr: -sign * tr.values[0]):
        n = (tr.user_attrs.get("metrics") or {}).get("n_clusters", 0)
        mark = "→" if tr.number == chosen.number else ""
        t.add_row(mark, str(tr.number), _params(tr.params), *(f"{v:.4f}" for v in tr.values), str(int(n or 0)))
    console.console.print(t)


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


def log_elbow(handle, *, study, best) -> None:
    from rfmlab.report import figures, figures_search

    by_k = per_k(study)
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
    handle.log_figure(fig, "search/elbow.png")
    figures.close(fig)
    handle.log_dict(
        {
            "k": ks,
            "inertia": inertia,
            "silhouette": [None if s != s else s for s in sil],
            "knee_k": ks[kn] if kn is not None else None,
            "knee": f"k={ks[kn]}" if kn is not None else "none: the curve has no knee (Kneedle, S=1)",
        },
        "search/elbow.json",
    )


def log_search_plots(handle, *, study, spec, algo, prep, space, best, params) -> None:
    from rfmlab.report import figures, figures_search

    for name, (fig, html) in figures_search.optuna_figures(
        study, params=list(space), objectives=spec.names if spec.multi else None
    ).items():
        if fig is not None:
            handle.log_figure(fig, f"search/{name}.png")
            figures.close(fig)
        if html is not None:
            handle.log_text(html, f"search/{name}.html")
    if "n_clusters" in space:
        log_elbow(handle, study=study, best=best)
    if algo == "dbscan" and "eps" in best.params:
        k = max(int(params.get("min_samples") or 5) - 1, 1)
        fig = figures_search.k_distance(search.k_distance(prep.X, k), float(best.params["eps"]), k=k)
        handle.log_figure(fig, "search/k_distance.png")
        figures.close(fig)


def log_k_report(handle, *, prep, algo: str, params: dict, space: dict, spec, seed: int, figure: bool = True):
    """The number-of-clusters report (``rfmlab.nclusters``) for every k of the space, on the stability sample:
    ``search/n_clusters.csv`` and ``.png``, each criterion's pick as metric ``k_pick_<criterion>``, and the picks
    returned for ``k_table``; None when the search has no integer ``n_clusters`` or the report is off."""
    from rfmlab import evaluate
    from rfmlab.report import figures, figures_search

    p, rep = space.get("n_clusters"), spec.k_report
    if not rep.enabled or algo not in evaluate.K_ALGORITHMS or p is None or p["type"] != "int":
        return None
    ks = list(range(int(p["low"]), int(p["high"]) + 1))
    ev = prep.evaluator
    X = prep.X[ev.sample[ev.stability_rows(rep.sample_size)]]
    stab = evaluate.StabilitySpec(n_resamples=rep.n_resamples, method=prep.stability.method)
    with console.stage(f"number-of-clusters report (k={ks[0]}-{ks[-1]}, {len(X):,} customers)"):
        table = evaluate.k_table(X, algorithm=algo, params=params, ks=ks, seed=seed, spec=stab, n_refs=rep.gap_refs)
    chosen = int(params["n_clusters"])
    picks = evaluate.k_picks(table)
    handle.log_text(table.write_csv(), "search/n_clusters.csv")
    handle.log_metrics({f"k_pick_{name}": k for name, k in picks.items() if k is not None})
    if picks.get("gap") == 1:  # k=1 by the 1-SE rule: the data look like one cluster to the gap statistic
        handle.set_tags({"k_report.gap": evaluate.NO_STRUCTURE})
    if figure:
        fig = figures_search.n_clusters_report(table, picks=picks, chosen_k=chosen)
        handle.log_figure(fig, "search/n_clusters.png")
        figures.close(fig)
    return picks


def k_table(picks: dict, *, chosen: int) -> None:
    from rich.table import Table

    from rfmlab import evaluate

    t = Table(title=f"number of clusters: each criterion's pick (chosen k={chosen})", title_justify="left")
    for col in ("criterion", "preferred k", "rule"):
        t.add_column(col)
    for name, k in picks.items():
        shown = "none (no knee)" if name == "inertia" and k is None else "—" if k is None else str(k)
        t.add_row(name, shown, evaluate.K_CRITERIA[name])
    console.console.print(t)
    if picks.get("gap") == 1:
        console.console.print(f"  [yellow]{evaluate.NO_STRUCTURE}[/] (its 1-SE rule picks k=1)")
    agree, voting, other = evaluate.k_agreement(chosen, picks)
    if voting and agree * 2 < voting:
        most = f"; k={other[0]} by {other[1]}" if other else ""
        console.console.print(
            f"  [yellow]the chosen k={chosen} differs from most criteria: {agree} of {voting} prefer it{most}[/] "
            "(see search/n_clusters.png)"
        )
    elif voting and agree * 2 == voting and other:
        console.console.print(
            f"  the criteria split: {agree} of {voting} prefer the chosen k={chosen}, {other[1]} prefer k={other[0]}"
        )
