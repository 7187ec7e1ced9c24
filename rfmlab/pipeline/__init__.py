"""The stages in order, as plain functions over polars/numpy (no Hydra, no MLflow).

``prepare`` runs load -> clean -> features -> transform once; ``fit`` clusters, evaluates and profiles.
A search calls ``fit`` many times on one ``Prepared``. ``stage`` is a context-manager factory used for
progress display (the CLI passes the console's); ``on_stage`` receives each finished stage's output.
"""

from rfmlab.pipeline._customers import CleanLog, clean_log, customer_table, no_stage, reading
from rfmlab.pipeline._fit import Fit, fit, stability_of
from rfmlab.pipeline._prepare import Prepared, prepare, prepare_table
from rfmlab.pipeline._reports import k_report
from rfmlab.pipeline._segmenter import DRIFT_FEATURES, OUTPUT_COLUMNS, Segmenter, build_segmenter

__all__ = [
    "OUTPUT_COLUMNS",
    "CleanLog",
    "Fit",
    "Prepared",
    "Segmenter",
    "clean_log",
    "customer_table",
    "fit",
    "prepare",
    "prepare_table",
    "stability_of",
    "no_stage",
    "reading",
    "DRIFT_FEATURES",
    "build_segmenter",
    "k_report",
]
