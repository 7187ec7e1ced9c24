"""rfmlab: tracked, reproducible RFM customer segmentation experiments.

The Python API (the names below; ``import rfmlab`` stays light: each is imported when first used)::

    import rfmlab

    customers, report = rfmlab.customer_table("online_retail.csv", dataset="online_retail")
    model = rfmlab.RFMSegmenter(params={"n_clusters": 5}).fit(customers)    # a scikit-learn estimator
    result = rfmlab.run(["search=none"], tracking_uri="sqlite:///mlruns/mlflow.db")   # a tracked run
    rfmlab.promote(result.run_id); rfmlab.score("models:/rfm-segmenter@champion", customers)

Data flows one way through the sub-packages: data -> features -> cluster -> evaluate -> segments -> pipeline ->
search | timeline -> report -> mlflow_edge -> jobs -> api -> cli (``docs/architecture.md``; the import contract
in pyproject.toml is the rule).
"""

from __future__ import annotations

import importlib
import warnings

__version__ = "0.1.0"

# tqdm (imported by Optuna) warns in Jupyter without ipywidgets; rfmlab draws no tqdm bar
warnings.filterwarnings("ignore", message="IProgress not found")

_EXPORTS = {
    "customer_table": "rfmlab.api",
    "RFMSegmenter": "rfmlab.api",
    "run": "rfmlab.cli.api",
    "RunResult": "rfmlab.api",
    "load_run": "rfmlab.api",
    "promote": "rfmlab.api",
    "score": "rfmlab.api",
    "compare": "rfmlab.api",
    "rerun": "rfmlab.api",
    "over_time": "rfmlab.api",
    "report_page": "rfmlab.api",
    "RfmlabError": "rfmlab.errors",
    "ConfigError": "rfmlab.errors",
    "DataError": "rfmlab.errors",
    "TooFewCustomers": "rfmlab.errors",
}

__all__ = ["__version__", *_EXPORTS]  # types: rfmlab/__init__.pyi (a stub, so the import graph stays one-way)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rfmlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
