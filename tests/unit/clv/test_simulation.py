"""Known answers: a log simulated from the BG/NBD and Gamma-Gamma generative processes with known parameters
(``clv.simulate``) is fitted back, predicted and validated on its own holdout period.

Tolerances: over 8 seeds of this setting (10,000 customers, 274 calibration days) the largest relative errors
were r 2.5%, alpha 8.1%, a 4.4%, b 5.9%, p 7.5%, q 3.0%, v 11.6%; alpha sits about 4% high because a customer's
purchases on one day are one purchase day (the summary's definition), which lowers the fastest buyers' rates.
"""

import numpy as np
import polars as pl
import pytest

pytest.importorskip("pymc_marketing")

from rfmlab import clv  # noqa: E402

BG = {"r": 0.75, "alpha": 5.0, "a": 0.8, "b": 2.5}
GG = {"p": 6.0, "q": 4.0, "v": 15.0}
TOLERANCE = {"r": 0.05, "alpha": 0.12, "a": 0.08, "b": 0.10, "p": 0.12, "q": 0.05, "v": 0.18}
DAYS, HOLDOUT = 365, 91


@pytest.fixture(scope="module")
def simulated():
    log = clv.simulate(10_000, bgnbd=BG, gg=GG, days=DAYS, seed=0)
    days = clv.purchase_days(log)
    cal, start = clv.split(days, as_of=clv.end_of(DAYS), holdout_days=HOLDOUT, time_unit="weeks")
    spec = clv.ClvSpec(enabled=True)
    params = clv.fit_params(cal, spec=spec)
    return days, cal, start, params


def test_the_fit_recovers_the_known_parameters(simulated):
    _, _, _, params = simulated
    for name, true in {**BG, **GG}.items():
        assert abs(getattr(params, name) / true - 1) <= TOLERANCE[name], (name, getattr(params, name), true)
    mean_spend = params.p * params.v / (params.q - 1)  # the population's mean spend, better identified than p, v
    assert mean_spend == pytest.approx(GG["p"] * GG["v"] / (GG["q"] - 1), rel=0.03)


def test_p_alive_is_one_without_repeat_purchases_and_purchases_grow_with_frequency(simulated):
    _, cal, _, params = simulated
    out = clv.predict(cal, params)
    assert (out.filter(cal["frequency"] == 0)["p_alive"] == 1.0).all()
    assert (out.filter(cal["frequency"] > 0)["p_alive"] < 1.0).all()
    grid = pl.DataFrame({"customer_id": ["x"] * 8, "frequency": range(8), "recency": [30.0] * 8, "T": [39.0] * 8})
    expected = clv.expected_purchases(grid, params, t=13.0)
    assert (np.diff(expected) > 0).all()


def test_the_holdout_of_a_correct_model_is_calibrated_within_sampling_error(simulated):
    days, cal, start, params = simulated
    holdout = clv.validate(days, cal, start=start, end=clv.end_of(DAYS), params=params)
    table = holdout.calibration
    assert table["frequency"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    se = table["actual_sd"] / table["customers"].cast(pl.Float64).sqrt()
    gap = (table["actual"] - table["predicted"]).abs()
    assert (gap <= 3 * se + 0.02).all(), table  # 0.02: the same-day merging above, a bias of that size
    assert abs(holdout.metrics["clv.holdout.total_error_pct"]) < 5
    assert abs(holdout.metrics["clv.holdout.spend_total_error_pct"]) < 8
    assert holdout.metrics["clv.holdout.customers"] == cal.height
