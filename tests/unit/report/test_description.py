"""The run's description (report.description) and the search's console tables read what the run holds."""

import matplotlib.figure
from helpers import network_references, plotly_bundles

from rfmlab import pipeline
from rfmlab.report import description, figures


def test_the_description_names_the_data_the_model_and_each_segment(small_prepared):
    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": 3, "n_init": 2}, seed=0)
    text = description.markdown(fit, prep=small_prepared, dataset="ecommerce", features="log_standard")
    n = small_prepared.customers.height
    assert text.startswith(f"### kmeans on ecommerce: 3 clusters, silhouette {fit.metrics['silhouette']:,.4g}")
    assert f"**{n:,} customers** as of {small_prepared.analysis_date}" in text
    assert "**Features** log_standard: log → standard on recency, frequency, monetary" in text
    for name in set(fit.names.values()):
        assert f"| {name} |" in text
    assert "Stability (20 bootstrap resamples)" in text


def test_the_figures_of_a_fit_are_figures_with_one_bar_per_cluster(small_prepared):
    fit = pipeline.fit(small_prepared, algorithm="kmeans", params={"n_clusters": 3, "n_init": 2}, seed=0)
    fig = figures.cluster_sizes(fit.profile, names=fit.names)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes[0].patches) == 3
    heat = figures.profile_heatmap(fit.profile, names=fit.names)
    assert heat.axes[0].get_images()[0].get_array().shape[0] == 3
    html = figures.scatter3d_html(fit.customers, names=fit.names, max_points=200, seed=0)
    assert html.count("scatter3d") >= 1 and plotly_bundles(html) == 1 and network_references(html) == []
    figures.close(fig)
    figures.close(heat)
