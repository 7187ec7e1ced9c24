"""BG/NBD and Gamma-Gamma fitted by pymc-marketing on the per-customer summary (never the transactions).

Flat priors (``HalfFlat``) by default, so the MAP estimate is the maximum-likelihood one the literature reports
(CDNOW: r=0.243, alpha=4.414, a=0.793, b=2.426; p=6.25, q=3.74, v=15.44, reproduced to three decimals in
tests/unit/clv/test_reference.py); ``priors="pymc"`` keeps pymc-marketing's default priors, which pull BG/NBD's a
and b 11-14% away from them on that data. pymc-marketing is imported here only: a run without CLV never pays its
import (about 4 s) or pytensor's C compilation (about 40 s the first time on a machine, then cached).
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager

import numpy as np
import polars as pl

from rfmlab.errors import ConfigError, DataError

INSTALL = "pip install 'rfmlab[clv]'"
BGNBD = ("r", "alpha", "a", "b")
GG = ("p", "q", "v")


def require() -> None:
    """Refuse ``clv.enabled`` at once (before any data is read) where pymc-marketing is not installed."""
    import importlib.util

    try:
        found = importlib.util.find_spec("pymc_marketing") is not None
    except ValueError:  # blocked in sys.modules (None): what an uninstalled package looks like to an import
        found = False
    if not found:
        raise ConfigError(
            f"clv.enabled=true needs pymc-marketing, which is not installed: {INSTALL} (or set clv.enabled=false)"
        )


def _pymc():
    try:
        from pymc_extras.prior import Prior
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel
    except ImportError as e:
        raise ConfigError(
            f"clv.enabled=true needs pymc-marketing, which is not installed: {INSTALL} (or set clv.enabled=false)"
        ) from e
    return Prior, BetaGeoModel, GammaGammaModel


@contextmanager
def _quiet():
    """pymc's and pytensor's progress, deprecation and compilation chatter off."""
    loggers = [logging.getLogger(n) for n in ("pymc", "pytensor", "pymc_marketing", "arviz")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _frame(summary: pl.DataFrame, columns: list[str]):
    """The pandas frame pymc-marketing reads (a library boundary): integer ids, so a million customers cost no
    strings in its coordinates."""
    import pandas as pd

    data = {c: summary[c].cast(pl.Float64).to_numpy() for c in columns}
    return pd.DataFrame({"customer_id": np.arange(summary.height), **data})


def _estimate(model, data, names, *, method: str, draws: int, chains: int, seed: int) -> dict[str, float]:
    with _quiet():
        if method == "map":
            model.fit(data, method="map", progressbar=False)
        else:
            model.fit(data, method="mcmc", draws=draws, chains=chains, cores=1, random_seed=seed, progressbar=False)
        post = model.idata.posterior
        return {k: float(post[k].mean()) for k in names}


def fit_bgnbd(
    summary: pl.DataFrame,
    *,
    method: str = "map",
    priors: str = "flat",
    draws: int = 500,
    chains: int = 2,
    seed: int = 0,
) -> dict[str, float]:
    """BG/NBD's r, alpha, a, b (posterior means for ``method="mcmc"``)."""
    Prior, BetaGeoModel, _ = _pymc()
    if summary.height < 2 or int((summary["frequency"] > 0).sum()) == 0:
        raise DataError("CLV needs customers with repeat purchases on another day; none here (set clv.enabled=false)")
    config = {k: Prior("HalfFlat") for k in BGNBD} if priors == "flat" else None
    data = _frame(summary, ["frequency", "recency", "T"])
    return _estimate(
        BetaGeoModel(model_config=config), data, BGNBD, method=method, draws=draws, chains=chains, seed=seed
    )


def repeaters(summary: pl.DataFrame) -> pl.DataFrame:
    """The customers Gamma-Gamma is fitted on: a repeat purchase and a positive mean repeat spend."""
    return summary.filter((pl.col("frequency") > 0) & (pl.col("monetary_value") > 0))


def fit_gamma_gamma(
    summary: pl.DataFrame, *, method: str = "map", draws: int = 500, chains: int = 2, seed: int = 0
) -> dict[str, float]:
    """Gamma-Gamma's p, q, v on the repeat customers (pymc-marketing's priors are already flat)."""
    _, _, GammaGammaModel = _pymc()
    rep = repeaters(summary)
    if rep.height < 2:
        raise DataError("CLV needs at least 2 customers with a repeat purchase to fit spend; set clv.enabled=false")
    data = _frame(rep, ["frequency", "monetary_value"])
    return _estimate(GammaGammaModel(), data, GG, method=method, draws=draws, chains=chains, seed=seed)


def spend_correlation(summary: pl.DataFrame) -> float:
    """Pearson correlation of frequency and mean repeat spend among repeat customers: Gamma-Gamma assumes spend
    independent of frequency, so it should be near 0 (Fader & Hardie call 0.11 on CDNOW weak)."""
    rep = repeaters(summary)
    if rep.height < 3:
        return float("nan")
    return float(np.corrcoef(rep["frequency"].cast(pl.Float64), rep["monetary_value"])[0, 1])
