"""Console output with rich: stage progress and the end-of-run summary."""

from __future__ import annotations

import contextlib
import sys
import time

from rich.console import Console
from rich.table import Table

console = Console(stderr=False, highlight=False)
err_console = Console(stderr=True, highlight=False)


@contextlib.contextmanager
def stage(name: str):
    """Spinner while a stage runs, then one line with its duration."""
    t0 = time.perf_counter()
    if console.is_terminal:
        with console.status(f"[bold]{name}[/]..."):
            yield
    else:
        yield
    console.print(f"  [green]✓[/] {name} [dim]({time.perf_counter() - t0:.1f} s)[/]")


def error(message: str) -> None:
    err_console.print(f"[bold red]rfmlab: error:[/] {message}", soft_wrap=True)


def fmt(v) -> str:
    if isinstance(v, float):
        return "—" if v != v else f"{v:,.4g}"
    return str(v)


def summary(title: str, rows: dict[str, object], metrics: dict[str, float], footer: list[str]) -> None:
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
