"""The pyfunc model's answers as MLflow's scoring server sends them: strict JSON, and a bad request refused in one
line naming the column or value (the served round trip is in tests/e2e/test_registry.py)."""

import io
import json
import math

import pandas as pd
import pytest
from mlflow.pyfunc.scoring_server import predictions_to_json

from rfmlab import pipeline
from rfmlab.mlflow_edge.pyfunc import RequestError, RfmSegmenterModel, ServingError


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def model(small_prepared):
    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": 4, "n_init": 4}, seed=0)
    return RfmSegmenterModel(pipeline.build_segmenter(fit, prep=small_prepared, dataset={"name": "ecommerce"}))


GOOD = {"customer_id": ["a", "b"], "recency": [3, 300], "frequency": [40, 1], "monetary": [25000.0, 12]}


def test_a_good_request_answers_strict_json_with_null_outlier_scores(model):
    out = model.predict(None, pd.DataFrame(GOOD))
    buf = io.StringIO()
    predictions_to_json(out, buf)  # what the scoring server sends
    text = buf.getvalue()
    preds = _strict(text)["predictions"]
    assert [p["customer_id"] for p in preds] == ["a", "b"] and "NaN" not in text
    assert [p["outlier_score"] for p in preds] == [None, None] and [p["is_outlier"] for p in preds] == [False] * 2
    assert preds[0]["segment"] != preds[1]["segment"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"monetary": None}, ["column(s) 'monetary' missing", "customer_id, recency, frequency, monetary"]),
        ({"recency": [3, "abc"]}, ["column 'recency' holds 'abc' in row 1", "number"]),
        ({"frequency": [math.nan, 1]}, ["column 'frequency' has no value in row 0 (null or NaN)"]),
        ({"monetary": [None, 12.0]}, ["column 'monetary' has no value in row 0"]),
        ({"monetary": [math.inf, 12.0]}, ["column 'monetary' holds inf in row 0", "finite"]),
        ({"recency": [True, 3]}, ["column 'recency' holds True in row 0"]),
        ({"customer_id": [None, "b"]}, ["column 'customer_id' has no value in row 0"]),
    ],
)
def test_a_bad_request_is_one_line_naming_the_column(model, change, words):
    body = {**GOOD, **change}
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(RequestError) as e:
        model.predict(None, pd.DataFrame(body))
    # the scoring server prefixes the whole request frame to an MlflowException's message: ignored here
    e.value.message = f"Failed to predict data '{pd.DataFrame(body)}'. \nError: {e.value.message}"
    answer = json.loads(e.value.serialize_as_json())
    assert e.value.get_http_status_code() == 400 and answer["error_code"] == "INVALID_PARAMETER_VALUE"
    assert (
        "\n" not in answer["message"] and "stack_trace" not in answer and "Failed to predict" not in answer["message"]
    )
    assert all(w in answer["message"] for w in words), answer["message"]


def test_no_rows_and_not_a_table_are_refused(model):
    with pytest.raises(RequestError, match="the request has no rows"):
        model.predict(None, pd.DataFrame({c: [] for c in GOOD}))
    with pytest.raises(RequestError, match="must be a table"):
        model.predict(None, [[1, 2, 3]])


def test_an_unexpected_failure_is_a_one_line_500_without_the_traceback(model, monkeypatch):
    monkeypatch.setattr(model.segmenter.assigner, "predict", lambda X: 1 / 0)
    with pytest.raises(ServingError) as e:
        model.predict(None, pd.DataFrame(GOOD))
    assert e.value.get_http_status_code() == 500
    assert e.value.message == "rfmlab could not score the request (ZeroDivisionError); the server log has the details"
