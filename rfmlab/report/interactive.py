"""Interactive pages that work without a network: plotly figures in one HTML file with plotly.js inlined once.

Plotly's own ``to_html(include_plotlyjs="cdn")`` loads plotly.js from its CDN, so the page is blank where that
host cannot be reached (air-gapped machines, corporate proxies); inlining it costs ~4.8 MB a page, so several
figures share one page and one copy (docs: architecture, Decisions).
"""

from __future__ import annotations

import html

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em 2em;color:#222}h2{margin:1.6em 0 .3em;font-size:1.15em}"
    "nav a{margin-right:1.2em}.d{color:#666;margin:.2em 0 .6em}"
)


def _anchor(heading: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "-" for c in heading.lower()).strip("-") or "figure"


def page(figures, *, title: str, note: str = "", height: str = "520px") -> str:
    """A self-contained HTML page of plotly figures: ``figures`` is a list of (heading or None, figure); plotly.js
    is inlined once, before every figure; nothing is fetched (no CDN, font or stylesheet from elsewhere). With
    several headed figures the page starts with links to each (``#anchor``, in the page). ``height`` applies to
    figures whose layout sets none."""
    from plotly.offline import get_plotlyjs

    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script charset="utf-8" type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
    ]
    if len(figures) > 1 or note:  # a page of one figure is that figure (its own title), as plotly writes it
        parts.append(f"<h1>{html.escape(title)}</h1>" + (f"<p class='d'>{html.escape(note)}</p>" if note else ""))
    headed = [h for h, _ in figures if h]
    if len(headed) > 1:
        parts.append("<nav>" + "".join(f"<a href='#{_anchor(h)}'>{html.escape(h)}</a>" for h in headed) + "</nav>")
    for heading, fig in figures:
        if heading:
            parts.append(f"<h2 id='{_anchor(heading)}'>{html.escape(heading)}</h2>")
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, default_height=height))
    parts.append("</body></html>")
    return "\n".join(parts)
