"""The MLflow pyfunc model of a run (this module and ``tracking`` are the only MLflow importers).

The model wraps a ``pipeline.Segmenter``. It is logged *from code* (``model_code.py``, MLflow's
models-from-code) with the segmenter saved explicitly by joblib as the model's ``segmenter`` artifact, so
MLflow never cloudpickles a Python object and loading runs only rfmlab's own code.
``predict`` takes a pandas DataFrame (MLflow's boundary):
a customer table or a transaction log in the training dataset's layout, and ``params={"as_of":
"YYYY-MM-DD"}`` for logs. It returns customer_id, cluster, segment, is_outlier, outlier_score (None where the
algorithm gives none, so a served response is strict JSON: ``null``, never ``NaN``). A bad request is refused in
one line naming the column or value (``RequestError``: HTTP 400 with ``{"error_code": "INVALID_PARAMETER_VALUE",
"message": ...}``, no stack trace).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import mlflow
import pandas as pd
import polars as pl
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INTERNAL_ERROR, INVALID_PARAMETER_VALUE

import rfmlab
from rfmlab.data.schema import CLV_COLUMNS, FEATURE_COLUMNS
from rfmlab.pipeline import Segmenter


class RfmSegmenterModel(mlflow.pyfunc.PythonModel):
    def __init__(self, segmenter: Segmenter | None = None):
        self.segmenter = segmenter

    def load_context(self, context) -> None:
        if self.segmenter is None:
            import joblib

            alias_old_modules()
            self.segmenter = joblib.load(context.artifacts["segmenter"])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Segments of the customers in ``model_input``; a bad request raises ``RequestError`` (one line naming the
        column or value: HTTP 400 from ``mlflow models serve``), an unexpected failure a one-line ``INTERNAL_ERROR``
        (HTTP 500) with the traceback in the server's log only. ``outlier_score`` is None where there is none."""
        from rfmlab.errors import RfmlabError

        params = params or {}
        try:
            df = request_frame(model_input, **request_columns(self.segmenter))
            out = self.segmenter.score(df, as_of=params.get("as_of") or None)
        except RequestError:
            raise
        except RfmlabError as e:
            raise RequestError((str(e).strip().splitlines() or ["bad request"])[0]) from None
        except Exception as e:
            logging.getLogger(__name__).exception("rfmlab could not score a request")
            raise ServingError(f"rfmlab could not score the request ({type(e).__name__}); the server log has the "
                               "details", error_code=INTERNAL_ERROR) from None  # fmt: skip
        return response_frame(out)


class ServingError(MlflowException):
    """An error ``mlflow models serve`` answers with this one-line message and no stack trace.

    MLflow's scoring server (``mlflow.pyfunc.scoring_server.invocations``) answers any other exception from
    ``predict`` with a 400 carrying the Python stack trace (server paths included), and rewrites an
    ``MlflowException``'s message to ``Failed to predict data '<the whole request frame>'. Error: ...``, the request
    echoed back over many lines. The message here is fixed when the error is made; that rewrite is ignored.
    """

    @property
    def message(self) -> str:
        return self._message

    @message.setter
    def message(self, value: str) -> None:
        if not hasattr(self, "_message"):  # set by MlflowException.__init__; later assignments are ignored
            self._message = value


class RequestError(ServingError):
    """A bad request: HTTP 400 ``INVALID_PARAMETER_VALUE`` with one line naming the column or value."""

    def __init__(self, message: str):
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)


def _numbers(values: pd.Series, *, name: str) -> list[float]:
    """The column as floats; a missing, non-numeric or non-finite value is a ``RequestError`` naming it and its row."""
    out = []
    for row, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            raise RequestError(f"column {name!r} has no value in row {row} (null or NaN); every customer needs one")
        try:
            x = float(v) if not isinstance(v, bool) else math.nan
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x):
            raise RequestError(f"column {name!r} holds {v!r} in row {row}; it needs a finite number")
        out.append(x)
    return out


def request_columns(segmenter: Segmenter) -> dict:
    """The customer-table columns a request must and may give: with CLV, RFM's columns give CLV's
    (``Segmenter.with_clv``), so a clustering column p_alive or clv may be left out."""
    if not segmenter.clv:
        return {"columns": segmenter.columns}
    required = [c for c in segmenter.columns if c not in CLV_COLUMNS]
    return {"columns": required, "optional": [*FEATURE_COLUMNS, *CLV_COLUMNS]}


def request_frame(model_input, *, columns: list[str], optional=()) -> pl.DataFrame:
    """The request as a polars frame: a customer table (customer_id and ``columns``, checked value by value, and the
    ``optional`` columns it has) or a transaction log (columns with no value at all left out: the log layout's
    optional ones)."""
    if not isinstance(model_input, pd.DataFrame):
        raise RequestError("the request must be a table: send dataframe_split or dataframe_records")
    if len(model_input) == 0:
        raise RequestError("the request has no rows; send at least one customer")
    if "customer_id" in model_input.columns or any(c in model_input.columns for c in columns):
        missing = [c for c in ["customer_id", *columns] if c not in model_input.columns]
        if missing:
            raise RequestError(f"column(s) {', '.join(map(repr, missing))} missing; a customer table needs "
                               f"customer_id, {', '.join(columns)} (or send a transaction log)")  # fmt: skip
        ids = model_input["customer_id"].tolist()
        for row, v in enumerate(ids):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                raise RequestError(f"column 'customer_id' has no value in row {row}; every customer needs one")
        columns = [*columns, *(c for c in optional if c in model_input.columns and c not in columns)]
        data = {c: _numbers(model_input[c], name=c) for c in columns}
        return pl.DataFrame({"customer_id": [str(v) for v in ids], **data})
    log = model_input[[c for c in model_input.columns if model_input[c].notna().any()]]
    for c in log.columns:
        try:
            pl.from_pandas(log[[c]])
        except Exception:
            raise RequestError(f"column {c!r} mixes kinds of values (text and numbers); send one kind") from None
    return pl.from_pandas(log)


def response_frame(scores: pl.DataFrame) -> pd.DataFrame:
    """``Segmenter.score``'s frame for MLflow: ``outlier_score`` an object column, None where it is not finite, so
    the scoring server writes ``null`` (strict JSON) rather than ``NaN`` or ``Infinity``."""
    out = scores.to_pandas()
    for c in ("outlier_score", *(c for c in CLV_COLUMNS if c in scores.columns)):
        out[c] = pd.Series([float(x) if x is not None and math.isfinite(x) else None for x in scores[c].to_list()],
                           dtype=object)  # fmt: skip
    return out


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
            *(ColSpec("double", c, required=False) for c in (CLV_COLUMNS if segmenter.clv else [])),
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
