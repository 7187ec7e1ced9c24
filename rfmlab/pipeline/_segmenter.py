"""Score new customers with a fitted segmentation (plain Python: no MLflow, no Hydra).

A ``Segmenter`` bundles everything a run learned: the dataset layout and cleaning policy (to read
transaction logs), the feature columns and fitted transform, the out-of-sample assigner and the
cluster names. ``score`` takes a customer table (``customer_id`` plus the clustering columns) or a
transaction log in the dataset's layout (RFM is then computed as of ``as_of``, by default the day
after its last transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from rfmlab import clv as clv_mod
from rfmlab import evaluate
from rfmlab.cluster import Assigner
from rfmlab.data import load
from rfmlab.data.schema import CLV_COLUMNS
from rfmlab.errors import DataError
from rfmlab.segments import OUTLIERS

OUTPUT_COLUMNS = ["customer_id", "cluster", "segment", "is_outlier", "outlier_score"]


@dataclass(kw_only=True)
class Segmenter:
    algorithm: str
    params: dict
    dataset: dict  # the DatasetSpec fields of the training data (layout + cleaning)
    columns: list[str]  # clustering columns, in order
    transform: object  # fitted sklearn Pipeline
    assigner: Assigner
    names: dict[int, str]  # cluster id -> segment name
    analysis_date: str  # of the training data (for the record)
    metadata: dict = field(default_factory=dict)
    reference: dict = field(default_factory=dict)  # feature -> training distribution (``evaluate.reference``)
    clv: dict | None = None  # the run's fitted CLV parameters (``clv.ClvParams.to_dict``) when clv.enabled

    @property
    def output_columns(self) -> list[str]:
        return [*OUTPUT_COLUMNS, *(CLV_COLUMNS if self.clv else [])]

    def is_customer_table(self, df: pl.DataFrame) -> bool:
        """customer_id and the clustering columns (CLV's may be computed from RFM's: ``with_clv``)."""
        computed = CLV_COLUMNS if self.clv and "tenure_days" in df.columns else []
        return "customer_id" in df.columns and all(c in df.columns or c in computed for c in self.columns)

    def looks_like_customer_table(self, df: pl.DataFrame) -> bool:
        """Has ``customer_id`` or any clustering column: meant as a customer table, even if incomplete."""
        return "customer_id" in df.columns or any(c in df.columns for c in self.columns)

    def check_customer_table(self, df: pl.DataFrame, *, source: str = "input") -> None:
        """Refuse an incomplete customer table naming what it lacks (not the log layout's columns)."""
        missing = [c for c in ["customer_id", *self.columns] if c not in df.columns]
        if missing:
            raise DataError(
                f"{source} looks like a customer table but lacks column(s) {missing} (it has {df.columns}); "
                f"give customer_id, {', '.join(self.columns)}, or a transaction log in the "
                f"{self.dataset.get('name')} layout (--dataset NAME for another layout)"
            )

    def customers_from_log(self, raw: pl.DataFrame | load.Source, *, as_of=None, dataset: dict | None = None):
        """The customer table of a transaction log (in memory, or a ``load.Source`` streamed from a file) with
        the training data's layout and cleaning (or ``dataset``'s)."""
        from rfmlab.pipeline import customer_table

        # the log is already open here: polars reads it, whatever engine or database the training data came from
        here = {"path": None, "download": {}, "engine": "polars", "uri": None, "table": None, "query": None}
        spec = load.DatasetSpec.from_dict({**(dataset or self.dataset), **here})
        src = raw if isinstance(raw, load.Source) else load.Source(lf=raw.lazy(), head=raw.head(2000), digest="")
        params = clv_mod.ClvParams.from_dict(self.clv) if self.clv else None
        customers, _, _, _ = customer_table(spec, source=src, analysis_date=as_of, clv=params)
        return customers

    def with_clv(self, customers: pl.DataFrame) -> pl.DataFrame:
        """A customer table's CLV columns (kept when it has them), else predicted from its RFM columns: frequency - 1
        repeat purchases, tenure_days - recency days between first and last, tenure_days of age, the mean order
        value as mean spend. A log gives the exact summary (days with a purchase, mean repeat spend); null without
        the columns."""
        if not self.clv or all(c in customers.columns for c in CLV_COLUMNS):
            return customers
        need = ("recency", "frequency", "tenure_days", "monetary")
        if not all(c in customers.columns for c in need):
            return customers.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in CLV_COLUMNS)
        params = clv_mod.ClvParams.from_dict(self.clv)
        unit = clv_mod.DAYS_PER_UNIT[params.time_unit]
        f = pl.col("frequency").cast(pl.Float64)
        summary = customers.select(
            "customer_id",
            (f - 1).clip(lower_bound=0).alias("frequency"),
            ((pl.col("tenure_days") - pl.col("recency")).clip(lower_bound=0) / unit).alias("recency"),
            (pl.col("tenure_days").clip(lower_bound=1) / unit).alias("T"),
            (pl.col("monetary") / f).alias("monetary_value"),
        )
        predicted = clv_mod.predict(summary, params).drop("customer_id")
        return customers.drop([c for c in CLV_COLUMNS if c in customers.columns]).hstack(predicted)

    def score(
        self,
        df: pl.DataFrame | load.Source,
        *,
        as_of=None,
        dataset: dict | None = None,
        chunk: int = 100_000,
        progress: Callable[[int, int], None] | None = None,
    ) -> pl.DataFrame:
        """customer_id, cluster, segment, is_outlier, outlier_score for each customer in ``df`` (a customer
        table, or a log in memory or streamed from a file as a ``load.Source``)."""
        head = df.head if isinstance(df, load.Source) else df
        if head.height == 0:
            raise DataError("nothing to score: the input has no rows")
        if self.is_customer_table(head):
            customers = self.with_clv(df.lf.collect() if isinstance(df, load.Source) else df)
        else:
            customers = self.customers_from_log(df, as_of=as_of, dataset=dataset)
        missing = [c for c in self.columns if c not in customers.columns]
        if missing:
            raise DataError(
                f"input lacks the clustering columns {missing}; give a customer table with "
                f"customer_id, {', '.join(self.columns)} or a transaction log"
            )
        X = customers.select(self.columns).cast(pl.Float64).to_numpy()
        labels, scores = np.empty(len(X), dtype=np.int64), np.empty(len(X))
        for lo in range(0, len(X), chunk):
            hi = min(lo + chunk, len(X))
            labels[lo:hi], scores[lo:hi] = self.assigner.predict(self.transform.transform(X[lo:hi]))
            if progress:
                progress(hi, len(X))
        names = {**self.names, -1: OUTLIERS}
        out = pl.DataFrame(
            {
                "customer_id": customers["customer_id"].cast(pl.String),
                "cluster": labels,
                "segment": [names.get(int(c), f"cluster {c}") for c in labels],
                "is_outlier": labels == -1,
                "outlier_score": scores,
            }
        )
        return out.hstack(customers.select(CLV_COLUMNS)) if self.clv else out


# features whose training distribution a segmenter keeps, for drift (PSI) when rfmlab-timeline follows it over time
DRIFT_FEATURES = ("recency", "frequency", "monetary", "tenure_days", "avg_order_value", "return_rate")


def build_segmenter(fit, *, prep, dataset: dict, metadata: dict | None = None) -> Segmenter:
    """What a fit learned, ready to score new customers: the dataset's layout and cleaning (``dataset``, the config
    section), the fitted transform, an out-of-sample assigner trained on the customers the estimator saw, the
    cluster names and each feature's training distribution (for drift)."""
    X, labels = fit.training_set(prep.X)
    customers = fit.customers
    return Segmenter(
        algorithm=fit.algorithm,
        params=fit.params,
        dataset=dataset,
        columns=prep.columns,
        transform=prep.transform,
        assigner=Assigner(fit.algorithm, estimator=fit.estimator, X=X, labels=labels),
        names=fit.names,
        analysis_date=prep.analysis_date.isoformat() if prep.analysis_date else "",
        metadata=dict(metadata or {}),
        reference={c: evaluate.reference(customers[c].to_numpy()) for c in DRIFT_FEATURES if c in customers.columns},
        clv=prep.clv.params.to_dict() if getattr(prep, "clv", None) is not None else None,
    )
