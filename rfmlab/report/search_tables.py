"""A finished search on the console: the best (or chosen) trial, the Pareto front, the number-of-clusters picks."""

from __future__ import annotations

from rfmlab import evaluate, search
from rfmlab.report import console
from rfmlab.search import studies


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
    close = search.indistinguishable(study, best=best)
    if "silhouette" not in spec.names:
        return
    if close:
        lo, hi = best.user_attrs["metrics"]["silhouette_ci_low"], best.user_attrs["metrics"]["silhouette_ci_high"]
        shown = "; ".join(f"trial {n} ({p}) {v:.4f}" for n, p, v in close[:5]) + (" ..." if len(close) > 5 else "")
        console.console.print(
            f"  [yellow]{len(close)} other parameter set(s) within the best's 95% silhouette interval "
            f"[{lo:.4f}, {hi:.4f}][/], indistinguishable on this sample: {shown}"
        )


def _params(params: dict) -> str:
    return ", ".join(f"{k}={console.fmt(v)}" for k, v in params.items())


def front_table(study, *, spec, chosen) -> None:
    """The Pareto front on the console, best first by the first objective; the chosen trial marked."""
    from rich.table import Table

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


def k_table(picks: dict, *, chosen: int) -> None:
    from rich.table import Table

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
