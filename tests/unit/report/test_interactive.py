"""Interactive pages need no network: plotly.js inlined once per page, however many figures it holds."""

from datetime import date

import plotly.graph_objects as go
import polars as pl
from helpers import network_references, plotly_bundles
from plotly.offline import get_plotlyjs

from rfmlab.report import figures_search, figures_timeline, interactive


def bar(name: str) -> go.Figure:
    return go.Figure(go.Bar(x=["a", "b"], y=[1, 2], name=name))


def test_several_figures_share_one_inlined_plotly_js_and_fetch_nothing():
    page = interactive.page([("slice", bar("one")), ("optimization_history", bar("two"))], title="Charts <&>")
    assert plotly_bundles(page) == 1 and page.count("plotly.js v") == 1  # the bundle's header comment, once
    assert network_references(page) == []
    assert page.count('class="plotly-graph-div"') == 2 and page.count("Plotly.newPlot") == 2
    assert page.index(get_plotlyjs()) < page.index("plotly-graph-div")  # loaded before the first figure draws
    assert "<title>Charts &lt;&amp;&gt;</title>" in page and "<h1>Charts &lt;&amp;&gt;</h1>" in page
    assert "<a href='#slice'>slice</a>" in page and "<h2 id='optimization_history'>" in page


def test_a_page_of_one_figure_is_that_figure_without_headings():
    page = interactive.page([(None, bar("one"))], title="One")
    assert plotly_bundles(page) == 1 and network_references(page) == []
    assert page.count('class="plotly-graph-div"') == 1 and "<h1>" not in page and "<nav>" not in page


def test_the_check_finds_what_plotly_writes_for_its_cdn_and_lets_plain_links_be():
    cdn = bar("one").to_html(include_plotlyjs="cdn", full_html=True)
    assert plotly_bundles(cdn) == 0 and any("cdn.plot.ly" in ref for ref in network_references(cdn))
    for page in ("<link rel='stylesheet' href='//fonts.example.org/x.css'>", "<img src=http://x.org/a.png>",
                 "<style>@import url('https://x.org/a.css')</style>", "<div style='background:url(//x.org/a)'>",
                 "<script>s.src = 'https://x.org/a.js'</script>"):  # fmt: skip
        assert network_references(page), page
    assert network_references("<a href='https://mlflow.org/docs/latest/'>docs</a><a href=\"#slice\">") == []


def test_optuna_charts_and_the_sankey_are_offline_pages():
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: (t.suggest_int("k", 2, 8) - 4) ** 2 + t.suggest_float("x", 0, 1), n_trials=8)
    charts = {name: ply for name, (_, ply) in figures_search.optuna_figures(study, params=["k", "x"]).items()}
    assert {"optimization_history", "param_importances", "slice", "contour"} <= set(charts)
    page = figures_search.charts_page(charts, title="Search")
    assert plotly_bundles(page) == 1 and network_references(page) == []
    assert page.count('class="plotly-graph-div"') == len(charts)
    snapshots = [date(2020, 1, 1)] * 2 + [date(2020, 2, 1)] * 2
    path = pl.DataFrame({"customer_id": [1, 2, 1, 2], "snapshot": snapshots, "segment": ["a", "b", "b", "b"]})
    page = figures_timeline.sankey_html(path)
    assert plotly_bundles(page) == 1 and network_references(page) == [] and '"type":"sankey"' in page
