"""Segments stage: rule-based RFM schemes, business names for clusters, profiles and marketing summaries.

A **scheme** (one YAML in ``conf/segments/``) turns R, F, M (and extras) into named segments:

- ``scores``: each key (``R``, ``F``, ``M``, ``FM``...) scores one column, or the mean percentile of
  several (``FM`` = frequency and monetary together), into ``bins`` levels by its average-rank percentile
  (``method: quantile``, the default), by the column's linearly interpolated percentiles as pandas'
  ``quantile`` gives them, a value at or below the i-th cut falling in bin i (``method: percentile``,
  one column; the stock-market study's quartile scoring), or into 2 levels by the mean (``method: mean``).
  ``best: low`` marks columns where less is better (recency).
  ``scale: best_first`` numbers the best level 1 (quartile scheme: 1 best); ``best_last`` numbers it
  ``bins`` (rfm11: 5 best).
- **Ties** (many customers with frequency 1): equal values always share a score under every method; bins
  can then hold more or fewer customers than 1/bins of them (``quantile`` ranks a tie group at its average
  rank, ``percentile`` puts it at or below the first cut it does not exceed).
- ``grid``: a name for every combination of scores (``code`` builds the key, e.g. ``"{R}{FM}"``), or
  ``rules``: conditions on scores (lists of allowed levels) and on raw columns (``min`` / ``max``),
  first match wins, with a ``fallback``. A scheme that can leave a combination unassigned is refused
  when the config loads.
- ``actions``: the suggested marketing action per segment.

**Cluster names** come from a naming scheme (``segments.naming``): each cluster's median R, F, M (and
the extras a scheme reads) is placed in the population's distribution (its percentile), scored with
the scheme's bins and assigned like a customer (its natural name). Names depend only on cluster profiles, so they
do not change when cluster ids are permuted, and every cluster gets a distinct name, never a number: clusters
sharing a natural name are named together by a one-to-one assignment that maximises the share of their customers
the scheme puts under their names (a name no cluster claims is taken only where it fits better than the natural
one), and the clusters still sharing one get a qualifier saying what separates them (``Champions: high spend``,
``Champions: frequent``); noise is ``Outliers``. The rule is ``_naming``'s and ``_qualify``'s module doc.
"""

from rfmlab.segments._agreement import agreement
from rfmlab.segments._naming import OUTLIERS, name_clusters
from rfmlab.segments._profiles import cluster_profile, contingency, summary
from rfmlab.segments._schemes import METHODS, RFM, Rule, Scheme, Score, SegmentsSpec, apply, load_schemes

__all__ = [
    "METHODS",
    "OUTLIERS",
    "RFM",
    "Rule",
    "Scheme",
    "Score",
    "SegmentsSpec",
    "agreement",
    "apply",
    "cluster_profile",
    "contingency",
    "load_schemes",
    "name_clusters",
    "summary",
]
