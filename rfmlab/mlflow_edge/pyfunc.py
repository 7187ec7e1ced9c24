"""The MLflow pyfunc model of a run (this module and ``tracking`` are the only MLflow importers).

The model wraps a ``pipeline.Segmenter``. It is logged *from code* (``model_code.py``, MLflow's
models-from-code) with the segmenter saved explicitly by joblib as the model's ``segmenter`` artifact, so
MLflow never cloudpickles a Python object and loading runs only rfmlab's own code.
``predict`` takes a pandas DataFrame (MLflow's boundary):
a customer table or a transaction log in the training dataset's layout, and ``params={"as_of":
"YYYY-MM-DD"}`` for logs. It returns customer_id, cluster, segment, is_outlier, outlier_score.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import polars as pl

import rfmlab
from rfmlab.data.schema import FEATURE_COLUMNS
from rfmlab.pipeline import Segmenter


class RfmSegmenterModel(mlflow.pyfunc.PythonModel):
    def __init__(self, segmenter: Segmenter | None = None):
        self.segmenter = segmenter

    def load_context(self, context) -> None:
        if self.segmenter is None:
            import joblib

            alias_old_modules()
            self.segmenter = joblib.load(context.artifacts["segmenter"])


# modules of the flat layout (before the stage packages) that models logged then name: their model code imports
# rfmlab.serving, their pickled segmenter rfmlab.scoring and rfmlab.models.assign
OLD_MODULES = {
    "rfmlab.serving": "rfmlab.mlflow_edge.pyfunc",
    "rfmlab.scoring": "rfmlab.pipeline._segmenter",
    "rfmlab.models.assign": "rfmlab.cluster._assign",
}


def alias_old_modules() -> None:
    """Let a model logged by the flat-module layout load in this process: the old module paths name the new ones.
    (A served model runs the copy of rfmlab it was logged with, so it needs no alias.)"""
    import importlib
    import sys

    for old, new in OLD_MODULES.items():
        sys.modules.setdefault(old, importlib.import_module(new))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        params = params or {}
        df = pl.from_pandas(model_input) if not isinstance(model_input, pl.DataFrame) else model_input
        df = df.select([c for c in df.columns if df[c].null_count() < df.height])  # optional columns left out
        return self.segmenter.score(df, as_of=params.get("as_of") or None).to_pandas()


def _log_columns(dataset: dict) -> list[str]:
    names = []
    for v in (dataset.get("columns") or {}).values():
        if v is None:
            continue
        names += [v] if isinstance(v, str) else list(v)
    return names


def signature(segmenter: Segmenter, *, example, output):
    """Every input column optional: a customer table or a log in the training layout both validate."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema

    # Any: JSON clients send 100 as well as 100.0 (MLflow refuses int64 -> double); the segmenter casts
    cols = [ColSpec(AnyType(), "customer_id", required=False)]
    cols += [ColSpec(AnyType(), c, required=False) for c in FEATURE_COLUMNS]
    seen = {c.name for c in cols}
    cols += [ColSpec(AnyType(), c, required=False) for c in _log_columns(segmenter.dataset) if c not in seen]
    out = Schema(
        [
            ColSpec("string", "customer_id"),
            ColSpec("long", "cluster"),
            ColSpec("string", "segment"),
            ColSpec("boolean", "is_outlier"),
            ColSpec("double", "outlier_score", required=False),
        ]
    )
    return ModelSignature(Schema(cols), out, ParamSchema([ParamSpec("as_of", "string", "")]))


def log_model(segmenter: Segmenter, *, example: pl.DataFrame) -> str:
    """Log the model into the active run as ``model`` (MLflow 3 ``name=``); returns its model URI."""
    example_pd = example.select("customer_id", *[c for c in FEATURE_COLUMNS if c in example.columns]).to_pandas()
    output = segmenter.score(example).to_pandas()
    deps = ["mlflow", "scikit-learn", "hdbscan", "polars", "pyarrow", "numpy", "pandas", "scipy"]
    import tempfile
    from importlib.metadata import version

    import joblib

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "segmenter.joblib"
        joblib.dump(segmenter, path)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("model_code.py")),
            artifacts={"segmenter": str(path)},
            signature=signature(segmenter, example=example_pd, output=output),
            input_example=example_pd,
            code_paths=[str(Path(rfmlab.__file__).parent)],
            pip_requirements=[f"{d}=={version(d)}" for d in deps],
        )
    return info.model_uri
