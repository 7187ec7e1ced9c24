"""``report.html``: one self-contained page per segmentation for the people who act on it (marketing, CRM).

Pure: the page is built from what a run logged (``Facts``: its record and tables, its PNG figures as bytes), so
the job that logs a run and ``rfmlab-report`` rebuilding an older one make the same page. Everything is inside
the file: styles inline, figures as base64 PNG, no script and no network request. Its size does not grow with the
customers (the scatter is drawn from a bounded sample): about 0.3-0.6 MB.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field

import polars as pl

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:2em 1.5em 4em}
h1{font-size:1.7em;margin:.2em 0}
h2{font-size:1.25em;margin:2em 0 .6em;border-bottom:2px solid #d9e2ec;padding-bottom:.2em}
.sub{color:#52606d;margin:0 0 1em}.facts{display:flex;flex-wrap:wrap;gap:.6em}
.fact{background:#fff;border-radius:8px;padding:.6em 1em;box-shadow:0 1px 2px #0002}
.fact b{display:block;font-size:1.3em}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1em}
.card{background:#fff;border-radius:10px;padding:1em 1.2em;box-shadow:0 1px 3px #0002;border-top:5px solid var(--c)}
.card h3{margin:0 0 .3em;font-size:1.15em}.card .n{color:#52606d;margin:0 0 .6em}
.bar{display:flex;align-items:center;gap:.5em;margin:.25em 0;font-size:.92em}.bar span:first-child{width:6.5em}
.bar i{display:block;height:.7em;border-radius:4px;background:var(--c)}.bar em{font-style:normal;color:#52606d}
.action{background:#f0f4f8;border-radius:6px;padding:.5em .7em;margin-top:.7em;font-size:.93em}
.stab{font-size:.85em;color:#52606d;margin-top:.5em}
figure{margin:1em 0;background:#fff;border-radius:8px;padding:.8em;box-shadow:0 1px 2px #0002}
figure img{max-width:100%;height:auto}figcaption{color:#52606d;font-size:.9em}
table{border-collapse:collapse;background:#fff;font-size:.92em}
th,td{padding:.3em .7em;border-bottom:1px solid #e4e7eb;text-align:right}
th:first-child,td:first-child{text-align:left}footer{margin-top:3em;color:#7b8794;font-size:.85em}
@media print{body{background:#fff}.card,figure,.fact{box-shadow:none;border:1px solid #d9e2ec}h2{break-after:avoid}
.card,figure{break-inside:avoid}}
"""
COLORS = ("#2f80ed", "#27ae60", "#f2994a", "#eb5757", "#9b51e0", "#56ccf2", "#f2c94c", "#6fcf97", "#bb6bd9", "#828282")
RFM_WORDS = {"recency": "days since last purchase", "frequency": "purchases", "monetary": "spend"}


@dataclass(kw_only=True)
class Facts:
    """What a segmentation run logged, as the page needs it."""

    title: str
    run_id: str
    url: str
    experiment: str
    status: str
    when: str  # the run's start, as text
    dataset: str
    source: str
    analysis_date: str
    cleaning: dict  # data/cleaning_report.json
    algorithm: str
    params: str  # the fitted parameters, as text
    features: str  # columns and transform, as text
    metrics: dict[str, float]
    profile: pl.DataFrame  # tables/profile.csv
    segments: pl.DataFrame | None = None  # tables/segments.csv (named clusters, with actions)
    stability: pl.DataFrame | None = None  # tables/stability.csv
    search: dict | None = None  # trials, objective, the chosen trial, the k picks (tables)
    images: dict[str, bytes] = field(default_factory=dict)  # caption -> PNG bytes


def esc(v: object) -> str:
    return html.escape(str(v))


def num(v: float | int | None, *, digits: int = 3) -> str:
    """A number for a reader: thousands separated, no exponent (17,030 rather than 1.7e+04)."""
    if v is None or v != v:
        return "n/a"
    if isinstance(v, int) or abs(v) >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    return f"{v:,.{digits}g}"


def image(png: bytes, *, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    img = f"<img alt='{esc(caption)}' src='data:image/png;base64,{data}'>"
    return f"<figure>{img}<figcaption>{esc(caption)}</figcaption></figure>"


def table(df: pl.DataFrame, *, digits: int = 3) -> str:
    head = "".join(f"<th>{esc(c.replace('_', ' '))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{num(v, digits=digits) if isinstance(v, float) else esc(v)}</td>" for v in r) + "</tr>"
        for r in df.iter_rows()
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _versus(profile: pl.DataFrame, row: dict) -> str:
    """Recency, frequency and monetary of one segment against the customers' average (the size-weighted mean)."""
    n = profile["size"].sum() or 1
    out, widest = [], 3.0
    for col, word in RFM_WORDS.items():
        if f"{col}_mean" not in profile.columns:
            continue
        avg = float((profile[f"{col}_mean"] * profile["size"]).sum() / n)
        ratio = row[f"{col}_mean"] / avg if avg else float("nan")
        width = 0 if ratio != ratio else min(ratio, widest) / widest * 100
        out.append(
            f"<div class='bar'><span>{col}</span><i style='width:{width:.0f}%'></i>"
            f"<em>{num(row[f'{col}_mean'])} {word} · {num(ratio, digits=2)}× average</em></div>"
        )
    return "".join(out)


def _value(row: dict) -> str:
    """A card's expected value line (runs with CLV): total, share, mean per customer and mean P(alive)."""
    if row.get("clv_total") is None:
        return ""
    return (
        f"<p class='n'>expected value {num(row['clv_total'])} ({row['clv_share']:.1%}) · {num(row['clv_mean'])} a "
        f"customer · P(alive) {num(row['p_alive_mean'], digits=2)}</p>"
    )


def cards(facts: Facts) -> str:
    """One card per cluster, largest first: name, customers and revenue shares, R/F/M against the average, the
    stability reading and the scheme's suggested action."""
    prof = facts.profile.sort("size", descending=True)
    actions = {}
    if facts.segments is not None and "action" in facts.segments.columns:
        actions = dict(facts.segments.select("segment", "action").iter_rows())
    stab = {} if facts.stability is None else {r["cluster"]: r for r in facts.stability.iter_rows(named=True)}
    out = []
    for i, row in enumerate(prof.iter_rows(named=True)):
        name = row.get("segment") or f"cluster {row['cluster']}"
        s = stab.get(row["cluster"])
        reading = (f"<div class='stab'>stability {num(s['stability'], digits=2)}: {esc(s['reading'])}</div>"
                   if s else "")  # fmt: skip
        action = actions.get(name) or actions.get(name.split(":")[0])
        out.append(
            f"<div class='card' style='--c:{COLORS[i % len(COLORS)]}'><h3>{esc(name)}</h3>"
            f"<p class='n'>{row['size']:,} customers ({row['share']:.1%}) · {row['revenue_share']:.1%} of revenue</p>"
            + _versus(facts.profile, row)
            + _value(row)
            + reading
            + (f"<div class='action'><b>Suggested action:</b> {esc(action)}</div>" if action else "")
            + "</div>"
        )
    return "<div class='cards'>" + "".join(out) + "</div>"


def _data_section(f: Facts) -> str:
    c = f.cleaning or {}
    dropped = {k: v for k, v in (c.get("dropped") or {}).items() if v}
    removed = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in dropped.items()) or "nothing"
    boxes = [
        ("customers", num(int(c.get("customers_out") or f.metrics.get("n_customers") or 0))),
        ("transaction lines read", num(int(c.get("rows_in", 0)))),
        ("lines kept", num(int(c.get("rows_out", 0)))),
        ("as of", esc(f.analysis_date)),
    ]
    facts = "".join(f"<div class='fact'>{k}<b>{v}</b></div>" for k, v in boxes)
    return (
        f"<h2>The data</h2><p>{esc(f.dataset)}: <code>{esc(f.source)}</code>. Recency is counted in days before "
        f"{esc(f.analysis_date)}. Cleaning removed {esc(removed)} lines.</p><div class='facts'>{facts}</div>"
    )


def _choice_section(f: Facts) -> str:
    m = f.metrics
    quality = (
        f"The clusters' silhouette is {num(m.get('silhouette'), digits=2)} (from -1 to 1; above 0.5 the groups are "
        f"clearly apart, 0.25-0.5 they overlap somewhat) and their average stability "
        f"{num(m.get('stability'), digits=2)} (the share of each cluster found again when customers are resampled; "
        "above 0.85 highly stable, below 0.6 it dissolves)."
    )
    text = f"<p>{esc(f.algorithm)} with {esc(f.params)} on {esc(f.features)}. {quality}</p>"
    s = f.search
    if s:
        text += (
            f"<p>The parameters were searched: {num(int(s.get('trials', 0)))} trials by {esc(s.get('objective'))}; "
            f"the chosen trial is {esc(s.get('best'))}.</p>"
        )
        if s.get("picks") is not None:
            text += "<p>What each criterion would choose as the number of clusters:</p>" + table(s["picks"])
    return "<h2>How this segmentation was chosen</h2>" + text


def segmentation_page(f: Facts) -> str:
    """The whole page (HTML text)."""
    n = int(f.metrics.get("n_clusters") or f.profile.height)
    figures = "".join(image(png, caption=cap) for cap, png in f.images.items())
    status = "" if f.status in ("RUNNING", "FINISHED") else f" ({esc(f.status)})"
    body = (
        f"<h1>{esc(f.title)}</h1><p class='sub'>{n} segments · {esc(f.experiment)} · {esc(f.when)} · "
        f"run <a href='{esc(f.url)}'>{esc(f.run_id[:8])}</a>{status}</p>"
        + _data_section(f)
        + "<h2>The segments</h2>"
        + cards(f)
        + ("<h2>Charts</h2>" + figures if figures else "")
        + _choice_section(f)
        + f"<footer>Made by rfmlab from MLflow run {esc(f.run_id)} in experiment {esc(f.experiment)}; "
        f"the run holds every table behind this page. <a href='{esc(f.url)}'>Open the run</a>.</footer>"
    )
    return page(f.title, body)


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>"
    )
