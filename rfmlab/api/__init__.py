"""The Python API: what the commands do, as functions and a scikit-learn estimator (``rfmlab``'s top level
re-exports these names; ``rfmlab.run`` itself sits in ``rfmlab.cli``, the one package that knows Hydra).

The argparse commands (``rfmlab-promote``, ``-score``, ``-compare``, ``-rerun``, ``-timeline``) parse their options
and call these functions; errors are rfmlab's own exceptions with the commands' one-line messages.
"""

from rfmlab.api._compare import compare, rerun
from rfmlab.api._customers import customer_table, dataset_spec
from rfmlab.api._estimator import RFMSegmenter
from rfmlab.api._models import check_output, promote, score
from rfmlab.api._report import report_page
from rfmlab.api._results import RunResult, load_run
from rfmlab.api._timeline import over_time

__all__ = [
    "RFMSegmenter",
    "RunResult",
    "check_output",
    "compare",
    "customer_table",
    "dataset_spec",
    "load_run",
    "promote",
    "report_page",
    "rerun",
    "score",
    "over_time",
]
