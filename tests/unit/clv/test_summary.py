"""The BG/NBD summary of a log, counted by hand."""

from datetime import date, datetime

import polars as pl
import pytest

from rfmlab import clv
from rfmlab.errors import ConfigError


def _log(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["customer_id", "invoice_id", "timestamp", "amount", "is_return"], orient="row"
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


LOG = _log(
    [
        ("a", "1", datetime(2020, 1, 1, 9), 10.0, False),
        ("a", "2", datetime(2020, 1, 1, 17), 5.0, False),  # the same day: one purchase day of 15
        ("a", "3", datetime(2020, 1, 15, 9), 20.0, False),
        ("a", "4", datetime(2020, 1, 16, 9), -8.0, True),  # a return is no purchase day, and is not netted
        ("a", "5", datetime(2020, 1, 29, 9), 40.0, False),
        ("b", "6", datetime(2020, 1, 22, 9), 7.0, False),
    ]
)


def test_frequency_recency_t_and_mean_repeat_spend():
    out = clv.from_timestamps(LOG, as_of=date(2020, 2, 5), time_unit="weeks").to_dicts()
    assert out == [
        {"customer_id": "a", "frequency": 2, "recency": 4.0, "T": 5.0, "monetary_value": 30.0},
        {"customer_id": "b", "frequency": 0, "recency": 0.0, "T": 2.0, "monetary_value": 0.0},
    ]
    days = clv.from_timestamps(LOG, as_of=date(2020, 2, 5), time_unit="days")
    assert days["recency"].to_list() == [28.0, 0.0] and days["T"].to_list() == [35.0, 14.0]


def test_exact_repeats_come_off_the_spend_but_not_the_days():
    repeats = LOG.slice(4, 1).with_columns(pl.lit(2).alias("_copies"))  # line 5 seen three times, kept once
    days = clv.purchase_days(pl.concat([LOG, LOG.slice(4, 1), LOG.slice(4, 1)]), repeats=repeats)
    assert days.sort("customer_id", "day").equals(clv.purchase_days(LOG).sort("customer_id", "day"))


def test_a_calibration_period_and_its_holdout():
    days = clv.purchase_days(LOG)
    cal, start = clv.split(days, as_of=date(2020, 2, 5), holdout_days=14, time_unit="weeks")
    assert start == date(2020, 1, 22)
    assert cal.to_dicts() == [{"customer_id": "a", "frequency": 1, "recency": 2.0, "T": 3.0, "monetary_value": 20.0}]
    after = clv.period_purchases(days, start=start, end=date(2020, 2, 5)).sort("customer_id").to_dicts()
    assert after == [
        {"customer_id": "a", "purchases": 1, "spend": 40.0},
        {"customer_id": "b", "purchases": 1, "spend": 7.0},
    ]


@pytest.mark.parametrize(
    ("key", "value"), [("time_unit", "months"), ("method", "advi"), ("priors", "weak"), ("horizon_days", 0)]
)
def test_bad_options_are_one_line_errors(key, value):
    with pytest.raises(ConfigError, match=f"clv.{key}"):
        clv.ClvSpec.from_dict({key: value})


def test_expected_value_per_group():
    customers = pl.DataFrame({"segment": ["A", "A", "B"], "clv": [10.0, 30.0, 60.0], "p_alive": [1.0, 0.5, 0.2]})
    out = clv.by_group(customers, by="segment").to_dicts()
    assert out[0] == {
        "segment": "B",
        "customers": 1,
        "clv_total": 60.0,
        "clv_mean": 60.0,
        "p_alive_mean": 0.2,
        "clv_share": 0.6,
    }
    assert out[1]["clv_total"] == 40.0 and out[1]["clv_mean"] == 20.0 and out[1]["clv_share"] == 0.4


def test_without_the_extra_a_fit_is_a_one_line_error_naming_the_install(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m.split(".")[0] == "pymc_marketing"] or ["pymc_marketing"]:
        monkeypatch.setitem(sys.modules, name, None)  # an import of it fails as when the package is absent
    summary = clv.from_timestamps(LOG, as_of=date(2020, 2, 5))
    with pytest.raises(ConfigError, match=r"pip install 'rfmlab\[clv\]'"):
        clv.fit_bgnbd(summary)


def test_without_the_extra_a_clv_run_is_refused_before_reading_data(monkeypatch, composed_config):
    import sys

    from rfmlab.jobs import Settings

    monkeypatch.setitem(sys.modules, "pymc_marketing", None)
    with pytest.raises(ConfigError, match=r"^clv.enabled=true needs pymc-marketing.*pip install 'rfmlab\[clv\]'"):
        Settings.from_config(composed_config(["clv.enabled=true"]))
