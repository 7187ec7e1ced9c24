"""Console output with rich: stage progress and the end-of-run summary."""

from __future__ import annotations

import contextlib
import sys
import time

from rich.console import Console
from rich.table import Table

console = Console(stderr=False, highlight=False)
if not console.is_terminal:  # logs and CI: wide enough for the tables
    console.width = 140
err_console = Console(stderr=True, highlight=False)


def mute_bars() -> bool:
    """Jupyter without ipywidgets: rich's live displays (spinners, progress bars) warn there and draw nothing."""
    import importlib.util

    return console.is_jupyter and importlib.util.find_spec("ipywidgets") is None


def live() -> bool:
    """Whether a spinner can redraw in place: a terminal, or Jupyter with ipywidgets."""
    return console.is_terminal and not mute_bars()


@contextlib.contextmanager
def stage(name: str):
    """Spinner while a stage runs, then one line with its duration."""
    t0 = time.perf_counter()
    if live():
        with console.status(f"[bold]{name}[/]..."):
            yield
    else:
        yield
    console.print(f"  [green]✓[/] {name} [dim]({time.perf_counter() - t0:.1f} s)[/]")


def error(message: str) -> None:
    """One line on stderr; with ``RFMLAB_DEBUG=1`` the traceback of the error being handled first."""
    import os
    import sys
    import traceback

    if os.environ.get("RFMLAB_DEBUG") == "1" and sys.exc_info()[0] is not None:
        traceback.print_exc()
    err_console.print(f"[bold red]rfmlab: error:[/] {message}", soft_wrap=True)


def fmt(v) -> str:
    if isinstance(v, float):
        return "—" if v != v else f"{v:,.4g}"
    return str(v)


def summary(title: str, *, rows: dict[str, object], metrics: dict[str, float], footer: list[str]) -> None:
    t = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    t.add_column(style="bold cyan")
    t.add_column()
    for k, v in rows.items():
        t.add_row(k, fmt(v))
    for k, v in metrics.items():
        t.add_row(k, fmt(v))
    console.print()
    console.print(t)
    for line in footer:
        console.print(line, soft_wrap=True)
    sys.stdout.flush()


def sweep_table(sweep_id: str, *, runs: list) -> None:
    """One row per search / run of a sweep: what was searched and the best it found."""
    t = Table(title=f"sweep {sweep_id}: best trial per search", title_justify="left")
    cols = ("dataset", "features", "algorithm", "status", "best params", "silhouette", "stability", "davies_b.", "k")
    for col in (*cols, "noise"):
        t.add_column(col, overflow="fold")
    for r in runs:
        tags, m = r.data.tags, r.data.metrics
        best = {k[5:]: v for k, v in tags.items() if k.startswith("best.") and k != "best.trial"}
        t.add_row(
            tags.get("rfmlab.dataset", "?"),
            tags.get("rfmlab.features", "?"),
            tags.get("rfmlab.algorithm", "?"),
            r.info.status,
            ", ".join(f"{k}={v}" for k, v in best.items()) or "-",
            fmt(m.get("silhouette", float("nan"))),
            fmt(m.get("stability", float("nan"))),
            fmt(m.get("davies_bouldin", float("nan"))),
            fmt(m.get("n_clusters", float("nan"))),
            fmt(m.get("noise_fraction", float("nan"))),
        )
    console.print(t)


def cleaning_report(report) -> None:
    """Rows in, dropped per reason, rows and customers out: nothing is dropped silently. A customer table's report
    says what it cannot (no cleaning, no return rate without a column)."""
    if report.source:
        line = f"    [dim]{report.customers_out:,} customers read as they are[/] ({report.note})"
        console.print(line, soft_wrap=True)
        return
    parts = [f"{report.rows_in:,} rows in" + (f" (where {report.filter}: dataset.filter)" if report.filter else "")]
    parts += [f"-{n:,} {reason.replace('_', ' ')}" for reason, n in report.dropped.items() if n]
    parts.append(f"= {report.rows_out:,} rows, {report.customers_out:,} customers")
    if report.returns_kept:
        parts.append(f"({report.returns_kept:,} return lines netted)")
    console.print("    [dim]" + "  ".join(parts) + "[/]", soft_wrap=True)


def compare_tables(board, *, ari, short: dict[str, str]) -> None:
    t = Table(title="leaderboard", title_justify="left")
    cols = [
        "run",
        "name",
        "dataset",
        "features",
        "algorithm",
        "params",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "n_clusters",
        "noise_fraction",
    ]
    for c in cols:
        t.add_column(c.replace("_", " "), overflow="fold")
    for r in board.iter_rows(named=True):
        t.add_row(short[r["run_id"]], *(fmt(r[c]) if r[c] is not None else "-" for c in cols[1:]))
    console.print(t)
    a = Table(title="pairwise ARI (common customers)", title_justify="left")
    a.add_column("run")
    ids = list(ari["run_id"])
    for rid in ids:
        a.add_column(short[rid], justify="right")
    for row in ari.iter_rows(named=True):
        a.add_row(short[row["run_id"]], *(f"{row[r]:.3f}" for r in ids))
    console.print(a)
