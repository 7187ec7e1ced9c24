"""How one trial is chosen from a multi-objective search's Pareto front (arrays in, index out; the front itself
is Optuna's ``study.best_trials``, see ``studies.pareto_front``).

``search.select`` (the rule, logged with its reason):
- ``rule: knee`` (default): the front trial closest to the ideal point once each objective is scaled to 0-1
  over the front (0 = the front's worst value, 1 = its best): the balanced compromise where giving up a little
  of one objective stops buying much of the other.
- ``rule: best, metric: M, floor: {N: v}``: the best front trial by objective M among those whose objective N
  is at least v (at most v for a minimised one). With no floor met, the best by M on the whole front (said so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SELECT_RULES = ("knee", "best")


@dataclass(frozen=True, kw_only=True)
class Select:
    rule: str = "knee"
    metric: str | None = None
    floor: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict | None, objectives: list[str]) -> Select:
        from rfmlab.errors import ConfigError, options

        sel = options(cls, d=d, where="search.select")
        floor = {k: float(v) for k, v in (sel.floor or {}).items() if v is not None}  # null: no floor
        sel = cls(rule=sel.rule or "knee", metric=sel.metric, floor=floor)
        if sel.rule not in SELECT_RULES:
            raise ConfigError(f"search.select.rule={sel.rule!r}; use knee or best")
        if sel.rule == "best" and sel.metric not in objectives:
            raise ConfigError(f"search.select.rule=best needs search.select.metric, one of {objectives}")
        bad = sorted(set(sel.floor) - set(objectives))
        if bad:
            raise ConfigError(f"search.select.floor names {bad}, which are not objectives; use {objectives}")
        return sel


def oriented(values: np.ndarray, directions: list[str]) -> np.ndarray:
    """Values with every objective turned into 'larger is better'."""
    sign = np.array([1.0 if d == "maximize" else -1.0 for d in directions])
    return np.asarray(values, dtype=float) * sign


def closest_to_ideal(values: np.ndarray, directions: list[str]) -> int:
    """Row of ``values`` (a front) closest to the ideal point, each objective scaled to 0-1 over the rows."""
    v = oriented(values, directions)
    lo, span = v.min(0), np.ptp(v, axis=0)
    scaled = np.where(span > 0, (v - lo) / np.where(span > 0, span, 1.0), 1.0)
    return int(np.argmin(np.linalg.norm(1.0 - scaled, axis=1)))


def _fmt(names: list[str], row: np.ndarray) -> str:
    return ", ".join(f"{n} {x:.4g}" for n, x in zip(names, row, strict=True))


def choose(values: np.ndarray, *, names: list[str], directions: list[str], select: Select) -> tuple[int, str]:
    """(row, reason): the front row ``select`` picks; ``values`` are the front's (rows x objectives)."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if select.rule == "knee":
        i = closest_to_ideal(values, directions)
        return i, f"knee of the Pareto front ({n} trial(s)): closest to the ideal point, {_fmt(names, values[i])}"
    col = names.index(select.metric)
    ok = np.ones(n, dtype=bool)
    for name, floor in select.floor.items():
        j = names.index(name)
        ok &= values[:, j] >= floor if directions[j] == "maximize" else values[:, j] <= floor
    floors = " and ".join(
        f"{k} {'>=' if directions[names.index(k)] == 'maximize' else '<='} {v}" for k, v in select.floor.items()
    )
    pool = np.flatnonzero(ok) if ok.any() else np.arange(n)
    sign = 1.0 if directions[col] == "maximize" else -1.0
    i = int(pool[np.argmax(sign * values[pool, col])])
    if not select.floor:
        why = f"best {select.metric} on the Pareto front ({n} trial(s))"
    elif ok.any():
        why = f"best {select.metric} among the {len(pool)} of {n} front trial(s) with {floors}"
    else:
        why = f"no front trial has {floors}: best {select.metric} on the whole front ({n} trial(s))"
    return i, f"{why}: {_fmt(names, values[i])}"
