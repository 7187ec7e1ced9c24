"""Every artifact path a run holds, named once: jobs write to these paths and the readers (``rfmlab-compare``,
``rfmlab-rerun``, ``rfmlab-score``, the over-time command, notebooks) read from them. Users compare runs by these
names (docs: the run record), so a change here is a change of contract."""

from __future__ import annotations

# every run
CONFIG = "config/config.yaml"  # the resolved config
CLEANING_REPORT = "data/cleaning_report.json"
REPORT = "report.html"  # the page for the people who act on the segmentation (self-contained, offline)
ERROR = "error.txt"  # a failed or killed run's traceback
MODEL = "model"  # the logged pyfunc model (MLflow 3: a LoggedModel named so)

# a fit's tables
CUSTOMERS = "tables/customers.parquet"  # every customer: features, cluster, segment, one column per scheme
CUSTOMERS_CSV = "tables/customers.csv"
PROFILE = "tables/profile.csv"
CLUSTER_SIZES = "tables/cluster_sizes.json"
CLUSTER_NAMES = "tables/cluster_names.json"
SEGMENTS = "tables/segments.csv"  # clusters under their business names
STABILITY = "tables/stability.csv"
SEGMENTS_PAGE = "segments/summary.html"


def scheme_segments(scheme: str) -> str:
    return f"tables/segments_{scheme}.csv"


def contingency(scheme: str) -> str:
    return f"tables/contingency_{scheme}.csv"


# a fit's figures
SCATTER_3D = "plots/rfm_scatter_3d.png"
SCATTER_3D_HTML = "plots/rfm_scatter_3d.html"
CLUSTER_SIZES_PNG = "plots/cluster_sizes.png"
BOXPLOTS = "plots/rfm_boxplots.png"
PROFILE_HEATMAP = "plots/profile_heatmap.png"
STABILITY_PNG = "plots/stability.png"


def contingency_png(scheme: str) -> str:
    return f"plots/contingency_{scheme}.png"


# customer lifetime value (clv.enabled)
CLV_PARAMS = "clv/params.json"  # fitted BG/NBD and Gamma-Gamma parameters and the prediction settings
CLV_SUMMARY = "clv/summary.parquet"  # per customer: frequency, recency, T, monetary_value (the fits' input)
CLV_HOLDOUT = "clv/holdout_calibration.csv"  # mean actual vs predicted holdout purchases/spend by frequency
CLV_HOLDOUT_CUSTOMERS = "clv/holdout_customers.parquet"  # per customer: actual vs predicted holdout
CLV_P_ALIVE_PNG = "plots/clv_p_alive.png"
CLV_PURCHASES_PNG = "plots/clv_expected_purchases.png"
CLV_SEGMENTS_PNG = "plots/clv_by_segment.png"
CLV_HOLDOUT_PNG = "plots/clv_holdout.png"


# a search's
PARETO_FRONT = "search/pareto_front.csv"
ELBOW = "search/elbow.png"
ELBOW_JSON = "search/elbow.json"
K_DISTANCE = "search/k_distance.png"
N_CLUSTERS = "search/n_clusters.csv"
N_CLUSTERS_PNG = "search/n_clusters.png"


SEARCH_CHARTS_PAGE = "search/charts.html"  # every Optuna chart, interactive, on one page (plotly.js inlined once)


def optuna_chart(name: str) -> str:
    """One of Optuna's study charts (``optimization_history``, ``slice``, ...) as a PNG; the interactive ones are
    all on ``SEARCH_CHARTS_PAGE`` (anchor ``#<name>``)."""
    return f"search/{name}.png"


# the over-time run's
PATHS = "tables/paths.parquet"
SEGMENT_COUNTS = "tables/segment_counts.csv"
ACTIVITY = "tables/activity.csv"
PSI = "tables/psi.csv"
SEGMENT_SHARES_PNG = "plots/segment_shares.png"
SANKEY = "plots/sankey.html"
SANKEY_PNG = "plots/sankey.png"
PSI_PNG = "plots/psi.png"


def transitions(a, b) -> str:
    return f"tables/transitions/{a}_to_{b}.csv"


def transitions_png(a, b) -> str:
    return f"plots/transitions/{a}_to_{b}.png"


# a comparison run's
COMPARISON_PAGE = "compare/comparison.html"
ARI_MATRIX_PNG = "compare/ari_matrix.png"
LEADERBOARD = "compare/leaderboard.csv"
ARI_MATRIX = "compare/ari_matrix.csv"
COMMON_CUSTOMERS = "compare/common_customers.csv"
