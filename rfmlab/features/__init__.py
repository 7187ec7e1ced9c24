"""Features stage: per-customer RFM and its extras, snapshots over time, and the transforms before clustering.

- ``aggregate`` / ``table`` / ``rfm``: the customer table of a canonical log (streamed, or eager).
- ``snapshots``: customer tables at a series of dates from one cleaning pass.
- ``transforms``: log / minmax / standard chains (fitted scikit-learn pipelines).
"""

from rfmlab.features._rfm import PROBE_ROWS, RUNS_CHUNK_ROWS, aggregate, parse_date, rfm, table
from rfmlab.features._spec import FeatureSpec

__all__ = ["FeatureSpec", "PROBE_ROWS", "RUNS_CHUNK_ROWS", "aggregate", "parse_date", "rfm", "table"]
