"""Tables for the clv_2010 study (experiments/clv_2010.yaml), read from the latest run of experiment study_clv_2010:
value per segment (clusters and the rfm11 scheme), P(alive) inside rfm11's At Risk / Lost / Hibernating, the
holdout errors and calibration table. Run after ``rfmlab +experiment=clv_2010``:

    python experiments/clv_2010.py [--tracking-uri sqlite:///mlruns/mlflow.db]
"""

import argparse
import tempfile

import polars as pl
from mlflow.tracking import MlflowClient

pl.Config.set_tbl_rows(30)
pl.Config.set_tbl_cols(12)
pl.Config.set_tbl_width_chars(160)
pl.Config.set_float_precision(3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracking-uri", default="sqlite:///mlruns/mlflow.db")
    args = ap.parse_args()
    client = MlflowClient(args.tracking_uri)
    exp = client.get_experiment_by_name("study_clv_2010")
    run = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)[0]
    tmp = tempfile.mkdtemp()
    customers = pl.read_parquet(client.download_artifacts(run.info.run_id, "tables/customers.parquet", tmp))
    calibration = pl.read_csv(client.download_artifacts(run.info.run_id, "clv/holdout_calibration.csv", tmp))
    m = run.data.metrics
    print(f"run {run.info.run_id}: {customers.height:,} customers")
    print({k: round(v, 4) for k, v in sorted(m.items()) if k.startswith("clv.")})
    grand = customers["clv"].sum()
    for by in ("segment", "rfm11"):
        print(f"\nvalue by {by}")
        print(
            customers.group_by(by)
            .agg(
                pl.len().alias("customers"),
                (pl.len() / customers.height).alias("customer_share"),
                (pl.col("monetary").sum() / customers["monetary"].sum()).alias("revenue_share"),
                pl.col("clv").sum().alias("clv_total"),
                (pl.col("clv").sum() / grand).alias("clv_share"),
                pl.col("clv").mean().alias("clv_mean"),
                pl.col("p_alive").mean().alias("p_alive_mean"),
                pl.col("p_alive").median().alias("p_alive_median"),
                (pl.col("frequency") == 1).mean().alias("one_invoice_share"),
                (pl.col("p_alive") < 0.5).mean().alias("p_alive_below_half"),
            )
            .sort("clv_total", descending=True)
        )
    print("\nP(alive) of rfm11's At Risk, Lost and Hibernating, repeat buyers only (one-invoice customers have 1)")
    print(
        customers.filter(pl.col("rfm11").is_in(["At Risk", "Lost", "Hibernating", "Cannot Lose Them"]))
        .filter(pl.col("frequency") > 1)
        .group_by("rfm11")
        .agg(
            pl.len().alias("repeat_customers"),
            pl.col("p_alive").quantile(0.25).alias("p_alive_q25"),
            pl.col("p_alive").median().alias("p_alive_median"),
            pl.col("p_alive").quantile(0.75).alias("p_alive_q75"),
            (pl.col("p_alive") > 0.5).mean().alias("share_above_half"),
            pl.col("expected_purchases").mean().alias("expected_purchases_90d"),
        )
        .sort("rfm11")
    )
    print("\nholdout calibration (91 days)")
    print(calibration)


if __name__ == "__main__":
    main()
