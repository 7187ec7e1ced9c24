"""The report page: built from a run's tables, self-contained, telling each segment's story with real numbers."""

import re

import polars as pl
import pytest

from rfmlab.report import page, page_timeline

PROFILE = pl.DataFrame({
    "cluster": [0, 1], "segment": ["Champions", "At Risk"], "size": [100, 300], "share": [0.25, 0.75],
    "revenue_share": [0.8, 0.2], "recency_mean": [10.0, 200.0], "frequency_mean": [20.0, 2.0],
    "monetary_mean": [17030.5, 150.0],
})  # fmt: skip
SEGMENTS = pl.DataFrame({"segment": ["Champions", "At Risk"], "action": ["Reward them", "Reconnect <now>"]})
STABILITY = pl.DataFrame({"cluster": [0, 1], "stability": [0.95, 0.55], "reading": ["highly stable", "dissolving"]})


def facts(**kw) -> page.Facts:
    base = dict(title="Customer segments: shop", run_id="abcdef1234", url="http://127.0.0.1:5000/#/runs/abcdef1234",
                experiment="shop", status="FINISHED", when="2026-12-01 10:00 UTC", dataset="shop",
                source="orders.csv", analysis_date="2011-12-10",
                cleaning={"rows_in": 1000, "rows_out": 900, "customers_out": 400, "dropped": {"duplicate": 100}},
                algorithm="kmeans", params="n_clusters=2", features="recency, frequency, monetary",
                metrics={"n_clusters": 2.0, "silhouette": 0.41, "stability": 0.75}, profile=PROFILE,
                segments=SEGMENTS, stability=STABILITY, images={"Customers per segment": b"\x89PNG fake"})  # fmt: skip
    return page.Facts(**{**base, **kw})


def test_each_segment_gets_a_card_with_its_numbers_against_the_average():
    html = page.segmentation_page(facts())
    cards = re.findall(r"<div class='card'.*?</div></div>", html)
    assert len(cards) == 2 and "At Risk" in cards[0] and "Champions" in cards[1]  # largest first
    assert "300 customers (75.0%) · 20.0% of revenue" in cards[0]
    # the average is the size-weighted mean: recency (100*10 + 300*200)/400 = 152.5; 200/152.5 = 1.31
    assert "200 days since last purchase · 1.3× average" in cards[0]
    assert "17,030 spend" in cards[1] and "e+" not in html  # readable numbers, no exponents
    assert "Reconnect &lt;now&gt;" in cards[0] and "stability 0.55: dissolving" in cards[0]
    assert "Cleaning removed 100 duplicate lines" in html and "<b>400</b>" in html


def test_the_page_is_self_contained():
    html = page.segmentation_page(facts())
    assert "<script" not in html.lower() and "@import" not in html
    external = re.findall(r"""(?:src|href)\s*=\s*['"]?((?:https?:)?//[^'" >]+)""", html)
    assert set(external) == {"http://127.0.0.1:5000/#/runs/abcdef1234"}  # only the links to the run
    assert "src='data:image/png;base64,iVBOR" in html  # the figure inside the file


@pytest.mark.parametrize(("value", "text"), [(17030.5, "17,030"), (0.4123, "0.412"), (None, "n/a"), (3, "3"),
                                             (float("nan"), "n/a"), (152.5, "152")])  # fmt: skip
def test_numbers_for_readers(value, text):
    assert page.num(value) == text


def test_a_qualified_name_takes_its_base_names_action_and_a_search_says_how_it_chose():
    prof = PROFILE.with_columns(pl.Series("segment", ["Champions: high spend", "At Risk"]))
    search = {"trials": 12.0, "objective": "silhouette", "best": "trial 3 (n_clusters=2)",
              "picks": pl.DataFrame({"k": [2, 3], "silhouette": [0.41, 0.38]})}  # fmt: skip
    html = page.segmentation_page(facts(profile=prof, search=search))
    assert "Champions: high spend" in html and "Reward them" in html
    assert "12 trials by silhouette; the chosen trial is trial 3 (n_clusters=2)" in html
    assert "<td>0.41</td>" in html


def test_the_timelines_largest_movements_and_shares():
    m1 = pl.DataFrame({"from": ["A", "B"], "A": [50, 7], "B": [3, 40]})
    m2 = pl.DataFrame({"from": ["A", "B"], "A": [30, 20], "B": [1, 9]})
    moves = page_timeline.movements({("2011-01-01", "2011-04-01"): m1, ("2011-04-01", "2011-07-01"): m2})
    assert moves.row(0) == ("B", "A", 20, "2011-04-01 → 2011-07-01")
    assert moves.row(1) == ("B", "A", 7, "2011-01-01 → 2011-04-01") and moves.height == 4
    counts = pl.DataFrame({"snapshot": ["2011-01-01"] * 2 + ["2011-07-01"] * 2, "segment": ["A", "B"] * 2,
                           "customers": [60, 40, 25, 75]})  # fmt: skip
    shares = page_timeline.shares(counts)
    assert shares.row(0) == ("B", 0.4, 0.75, pytest.approx(0.35))
    psi = pl.DataFrame({"snapshot": ["2011-07-01"], "feature": ["recency"], "psi": [0.31]})
    html = page_timeline.timeline_page(page_timeline.TimelineFacts(
        title="Customers over time", run_id="r" * 32, url="http://ui/run", experiment="timeline", when="now",
        source="orders.csv", segmented_by="rfm11", every="quarter", counts=counts,
        transitions={("2011-01-01", "2011-07-01"): m1}, psi=psi, threshold=0.2))  # fmt: skip
    assert "Drift warning:" in html and "recency (0.31)" in html and "<script" not in html
