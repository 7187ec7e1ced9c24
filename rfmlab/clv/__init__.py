"""Customer lifetime value: BG/NBD (purchases, P(alive)) and Gamma-Gamma (spend) fitted by pymc-marketing.

- ``purchase_days`` / ``summary``: the standard per-customer summary (frequency, recency, T, monetary_value) of
  a cleaned log, in polars;
- ``fit_bgnbd`` / ``fit_gamma_gamma``: the fits (flat priors and MAP by default: the maximum-likelihood values);
- ``predict``: ``p_alive``, ``expected_purchases``, ``expected_spend``, ``clv`` from ``ClvParams`` (numpy);
- ``run``: the stage a run calls (with the holdout validation of ``clv.holdout_days``);
- ``by_group``: expected value per segment or cluster; ``simulate``: logs with known parameters.
"""

from rfmlab.clv._fit import INSTALL, fit_bgnbd, fit_gamma_gamma, repeaters, require, spend_correlation
from rfmlab.clv._holdout import Holdout, calibration_table, split, validate
from rfmlab.clv._predict import (
    PREDICTION_COLUMNS,
    ClvParams,
    expected_purchases,
    expected_spend,
    lifetime_value,
    p_alive,
    predict,
)
from rfmlab.clv._simulate import end_of, simulate
from rfmlab.clv._spec import DAYS_PER_UNIT, UNITS_PER_MONTH, ClvSpec
from rfmlab.clv._stage import ClvResult, fit_params, run
from rfmlab.clv._summary import SUMMARY_COLUMNS, before, from_timestamps, period_purchases, purchase_days, summary
from rfmlab.clv._value import by_group

__all__ = [
    "DAYS_PER_UNIT",
    "INSTALL",
    "PREDICTION_COLUMNS",
    "SUMMARY_COLUMNS",
    "UNITS_PER_MONTH",
    "ClvParams",
    "ClvResult",
    "ClvSpec",
    "Holdout",
    "before",
    "by_group",
    "calibration_table",
    "end_of",
    "expected_purchases",
    "expected_spend",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_params",
    "from_timestamps",
    "lifetime_value",
    "p_alive",
    "period_purchases",
    "predict",
    "purchase_days",
    "repeaters",
    "require",
    "run",
    "simulate",
    "spend_correlation",
    "split",
    "summary",
    "validate",
]
