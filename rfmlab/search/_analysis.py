"""Reading a finished study: trials per k (for the elbow) and the trials indistinguishable from the best."""

from __future__ import annotations

import math


def complete_trials(study) -> list:
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

    for t in sorted(complete_trials(study), key=lambda t: -silhouette(t)):
        key = tuple(sorted(t.params.items()))
        v = (t.user_attrs.get("metrics") or {}).get("silhouette")
        if key in seen or v is None or v < lo:
            continue
        seen.add(key)
        out.append((t.number, ", ".join(f"{k}={_fmt(x)}" for k, x in t.params.items()), float(v)))
    return out


def _fmt(v) -> str:
    if isinstance(v, float):
        return "—" if v != v else f"{v:,.4g}"
    return str(v)
