"""Search spaces: data-derived bounds, Optuna suggestions, grids, DBSCAN's k-distances."""

from __future__ import annotations

import math

import numpy as np

from rfmlab.errors import ConfigError


def k_distance(X: np.ndarray, k: int, *, max_points: int = 200_000, seed: int = 0) -> np.ndarray:
    """Sorted distance of each point to its k-th nearest neighbour (the DBSCAN k-distance curve)."""
    from sklearn.neighbors import NearestNeighbors

    Q = X
    if len(X) > max_points:
        Q = X[np.random.default_rng(seed).choice(len(X), max_points, replace=False)]
    nn = NearestNeighbors(n_neighbors=min(k + 1, len(X))).fit(X)
    d, _ = nn.kneighbors(Q)
    return np.sort(d[:, -1])


def resolve_space(algorithm: str, *, space: dict, X: np.ndarray, min_share: float = 0.0) -> dict:
    """Validate the config's space and fill data-derived bounds (DBSCAN eps from k-distances).

    ``min_cluster_size`` starts at ``min_share`` (``search.min_cluster_share``) of the customers fitted: a smaller
    one only makes clusters the search prunes (on a 50,000-customer fit, every value of the default 5-500)."""
    if not space:
        raise ConfigError(f"algorithm.search_space is empty for {algorithm}; give at least one parameter")
    out = {}
    for name, p in space.items():
        p = dict(p)
        kind = p.get("type")
        if kind not in ("int", "float", "categorical"):
            raise ConfigError(f"algorithm.search_space.{name}.type must be int, float or categorical")
        if kind == "categorical" and not p.get("choices"):
            raise ConfigError(f"algorithm.search_space.{name} needs choices")
        derivable = algorithm == "dbscan" and name == "eps"  # from the k-distances below
        if kind != "categorical" and (p.get("low") is None or p.get("high") is None) and not derivable:
            raise ConfigError(f"algorithm.search_space.{name} needs low and high")
        out[name] = p
    # size-like bounds cannot exceed what the data allows (a 500-customer sample cannot hold 500-customer clusters)
    n = len(X)
    mcs = out.get("min_cluster_size")
    floor = int(math.ceil(min_share * n))
    if mcs and mcs["type"] == "int" and floor > int(mcs["low"]):
        width = int(mcs["high"]) / max(int(mcs["low"]), 1)  # keep the range's ratio (100x for 5-500)
        mcs["low"], mcs["high"] = floor, max(int(mcs["high"]), int(floor * min(width, 10)))
        mcs["scaled"] = True
    caps = {"min_cluster_size": max(2, n // 4), "min_samples": max(1, n // 10), "n_clusters": max(2, n // 5)}
    for name, cap in caps.items():
        p = out.get(name)
        if p and p["type"] == "int" and int(p["high"]) > cap:
            p["low"] = min(int(p["low"]), cap)
            p["high"] = max(cap, int(p["low"]))
            p["capped"] = True
    if algorithm == "dbscan" and "eps" in out and (out["eps"].get("low") is None or out["eps"].get("high") is None):
        ms = out.get("min_samples", {"low": 5, "high": 5})
        lo_k, hi_k = int(ms.get("low", 5)), int(ms.get("high", 5))
        lo = float(np.quantile(k_distance(X, max(lo_k - 1, 1)), 0.10))
        hi = float(np.quantile(k_distance(X, max(hi_k - 1, 1)), 0.99))
        eps = out["eps"]
        eps["low"] = eps["low"] if eps.get("low") is not None else max(lo, 1e-6)
        eps["high"] = eps["high"] if eps.get("high") is not None else max(hi, eps["low"] * 1.01)
        eps["derived"] = True
    return out


def suggest(trial, space: dict) -> dict:
    params = {}
    for name, p in space.items():
        if p["type"] == "int":
            params[name] = trial.suggest_int(name, int(p["low"]), int(p["high"]), log=bool(p.get("log", False)))
        elif p["type"] == "float":
            params[name] = trial.suggest_float(
                name, float(p["low"]), float(p["high"]), log=bool(p.get("log", False)), step=p.get("step")
            )
        else:
            params[name] = trial.suggest_categorical(name, list(p["choices"]))
    return params


def grid(space: dict, points: int) -> dict[str, list]:
    out = {}
    for name, p in space.items():
        if p["type"] == "categorical":
            out[name] = list(p["choices"])
        elif p["type"] == "int":
            lo, hi = int(p["low"]), int(p["high"])
            if p.get("log") and hi - lo + 1 > points * 3:
                out[name] = sorted({int(round(v)) for v in np.geomspace(lo, hi, points * 2)})
            else:
                out[name] = list(range(lo, hi + 1, int(p.get("step") or 1)))
        else:
            lo, hi = float(p["low"]), float(p["high"])
            vals = np.geomspace(lo, hi, points) if p.get("log") else np.linspace(lo, hi, points)
            out[name] = [float(v) for v in vals]
    return out


def grid_size(space: dict, points: int) -> int:
    return math.prod(len(v) for v in grid(space, points).values())


# --------------------------------------------------------------------------- objective
