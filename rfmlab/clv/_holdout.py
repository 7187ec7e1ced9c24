"""Validation on a holdout period: a fit on the calibration period predicts each customer's purchases and spend
in the holdout, compared with what they did (errors and the classic calibration table, Fader, Hardie & Lee 2005
fig. 3: mean actual vs predicted holdout purchases by calibration frequency 0, 1, ..., 7+)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from rfmlab.clv import _predict
from rfmlab.clv._spec import DAYS_PER_UNIT
from rfmlab.clv._summary import before, period_purchases, summary

TOP_BUCKET = 7  # frequencies 7 and above share the last row ("7+")


@dataclass(frozen=True, kw_only=True)
class Holdout:
    start: date  # the first holdout day (the calibration's analysis date)
    end: date  # the analysis date
    customers: pl.DataFrame  # customer_id, frequency, purchases, predicted, spend, predicted_spend
    calibration: pl.DataFrame  # frequency bucket, customers, actual/predicted mean purchases and spend
    metrics: dict[str, float]


def split(days: pl.DataFrame, *, as_of: date, holdout_days: int, time_unit: str) -> tuple[pl.DataFrame, date]:
    """The calibration summary (customers whose first purchase is before the holdout) and the holdout's start."""
    start = as_of - timedelta(days=holdout_days)
    return summary(before(days, start), as_of=start, time_unit=time_unit), start


def _errors(actual: np.ndarray, predicted: np.ndarray, prefix: str) -> dict[str, float]:
    diff = predicted - actual
    total = float(actual.sum())
    return {
        f"{prefix}mae": float(np.abs(diff).mean()),
        f"{prefix}rmse": float(np.sqrt((diff**2).mean())),
        f"{prefix}total_error_pct": float(100 * diff.sum() / total) if total else float("nan"),
    }


def calibration_table(customers: pl.DataFrame) -> pl.DataFrame:
    """Mean actual and predicted holdout purchases and spend by calibration frequency (0, 1, ..., 7+)."""
    bucket = pl.col("frequency").clip(upper_bound=TOP_BUCKET).alias("bucket")
    return (
        customers.group_by(bucket)
        .agg(
            pl.len().alias("customers"),
            pl.col("purchases").mean().alias("actual"),
            pl.col("predicted").mean().alias("predicted"),
            pl.col("spend").mean().alias("actual_spend"),
            pl.col("predicted_spend").mean().alias("predicted_spend"),
            pl.col("purchases").std().alias("actual_sd"),
        )
        .sort("bucket")
        .with_columns(pl.col("bucket").cast(pl.String).replace({str(TOP_BUCKET): f"{TOP_BUCKET}+"}).alias("frequency"))
        .select("frequency", "customers", "actual", "predicted", "actual_spend", "predicted_spend", "actual_sd")
    )


def validate(days: pl.DataFrame, cal: pl.DataFrame, *, start: date, end: date, params: _predict.ClvParams) -> Holdout:
    """Each calibration customer's predicted vs actual holdout purchases and spend (0 for no purchase)."""
    t = (end - start).days / DAYS_PER_UNIT[params.time_unit]
    predicted = _predict.expected_purchases(cal, params, t=t)
    spend_each = _predict.expected_spend(cal, params)
    actual = period_purchases(days, start=start, end=end)
    customers = (
        cal.select("customer_id", "frequency")
        .with_columns(pl.Series("predicted", predicted), pl.Series("predicted_spend", predicted * spend_each))
        .join(actual, on="customer_id", how="left")
        .with_columns(pl.col("purchases").fill_null(0), pl.col("spend").fill_null(0.0))
        .select("customer_id", "frequency", "purchases", "predicted", "spend", "predicted_spend")
    )
    a, p = customers["purchases"].cast(pl.Float64).to_numpy(), customers["predicted"].to_numpy()
    metrics = {
        **_errors(a, p, "clv.holdout."),
        **_errors(customers["spend"].to_numpy(), customers["predicted_spend"].to_numpy(), "clv.holdout.spend_"),
        "clv.holdout.customers": float(customers.height),
        "clv.holdout.days": float((end - start).days),
    }
    return Holdout(start=start, end=end, customers=customers, calibration=calibration_table(customers), metrics=metrics)
