"""Metric keys built from segment names (the over-time run's stepped shares) are keys MLflow accepts."""

import pytest
from mlflow.utils.validation import _validate_metric_name

from rfmlab.mlflow_edge import tracking

NAMES = [
    "Core/Loyal",
    "At Risk",
    "a//b",
    "x/",
    "/x",
    "../up",
    "a/./b",
    "=cmd|' /C calc'!A0",
    "Champions: high spend",
    "//",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_segment_name_gives_a_key_mlflow_accepts(name):
    key = tracking.metric_key("segment_share", name)
    _validate_metric_name(key)  # raises MlflowException for a key MLflow refuses
    assert key.startswith("segment_share.") and "//" not in key


def test_ordinary_names_are_kept_as_they_read():
    assert tracking.metric_key("segment_share", "Core/Loyal") == "segment_share.Core/Loyal"
    assert tracking.metric_key("segment_count", "At Risk") == "segment_count.At Risk"
    assert tracking.metric_key("segment_share", "a//b") == "segment_share.a/b"
    assert tracking.metric_key("segment_share", "Champions: high spend") == "segment_share.Champions_ high spend"
