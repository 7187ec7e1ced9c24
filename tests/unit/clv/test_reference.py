"""BG/NBD and Gamma-Gamma on the CDNOW sample (tests/reference/inputs/cdnow_summary.csv) against the values Fader,
Hardie & Lee (2005) publish, and rfmlab's closed-form predictions against pymc-marketing's own methods."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

pytest.importorskip("pymc_marketing")

from rfmlab import clv  # noqa: E402

CDNOW = Path(__file__).parents[2] / "reference" / "inputs" / "cdnow_summary.csv"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005, Marketing Science 24(2)
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}  # FHL 2005, "RFM and CLV", JMR 42(4)


@pytest.fixture(scope="module")
def cdnow() -> pl.DataFrame:
    raw = pl.read_csv(CDNOW)
    return raw.select(
        pl.col("ID").cast(pl.String).alias("customer_id"),
        pl.col("x").alias("frequency"),
        pl.col("t_x").alias("recency"),
        pl.col("T"),
        pl.col("zbar").alias("monetary_value"),
    )


@pytest.fixture(scope="module")
def fitted(cdnow):
    bg = clv.fit_bgnbd(cdnow)
    gg = clv.fit_gamma_gamma(cdnow)
    return clv.ClvParams(**bg, **gg, time_unit="weeks", horizon_days=91, horizon_months=12, discount_rate=0.01)


def test_flat_prior_map_reproduces_the_published_values(fitted):
    for name, value in PUBLISHED_BGNBD.items():
        assert round(getattr(fitted, name), 3) == value, name
    for name, value in PUBLISHED_GG.items():  # published to 2 decimals; the ML optimum gives v = 15.448
        assert getattr(fitted, name) == pytest.approx(value, abs=0.01), name


def test_spend_is_nearly_independent_of_frequency(cdnow):
    # FHL 2005 ("RFM and CLV", p. 420) report a correlation of 0.11 between frequency and mean spend
    assert round(clv.spend_correlation(cdnow), 2) == 0.11


def test_predictions_equal_pymc_marketings(cdnow, fitted):
    import pandas as pd
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value

    data = pd.DataFrame({c: cdnow[c].to_numpy() for c in cdnow.columns})
    bg, gg = BetaGeoModel(), GammaGammaModel()
    bg.build_model(data)
    gg.build_model(data)
    bg.idata = _point_idata({k: getattr(fitted, k) for k in ("r", "alpha", "a", "b")})
    gg.idata = _point_idata({k: getattr(fitted, k) for k in ("p", "q", "v")})
    ours = clv.predict(cdnow, fitted)
    np.testing.assert_allclose(ours["p_alive"], bg.expected_probability_alive(data).values.ravel(), rtol=1e-10)
    theirs = bg.expected_purchases(data, future_t=13).values.ravel()
    np.testing.assert_allclose(ours["expected_purchases"], theirs, rtol=1e-10)
    spend = gg.expected_customer_spend(data).values.ravel()
    np.testing.assert_allclose(ours["expected_spend"], theirs * spend, rtol=1e-10)
    value = customer_lifetime_value(bg, data.assign(future_spend=spend), future_t=12, discount_rate=0.01, time_unit="W")
    np.testing.assert_allclose(ours["clv"], value.values.ravel(), rtol=1e-10)
    assert (ours.filter(cdnow["frequency"] == 0)["p_alive"] == 1.0).all()


def _point_idata(values: dict):
    import arviz as az

    return az.from_dict(posterior={k: np.array([[v]]) for k, v in values.items()})
