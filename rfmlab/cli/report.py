"""``rfmlab-report``: a run's report page (one self-contained HTML file; ``--pdf`` prints it with Chromium)."""

from __future__ import annotations

from rfmlab.cli.command import Parser, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-report``: a run's report page for the people who act on it, rebuilt from what the run logged."""

    ap = Parser(prog="rfmlab-report", description=main.__doc__)
    ap.add_argument("run_id", help="a single-fit, search (parent) or over-time run")
    ap.add_argument("--output", default=None, help="the HTML file (default report-<run id prefix>.html)")
    ap.add_argument("--pdf", action="store_true", help="also print it to PDF beside the HTML (headless Chromium)")
    ap.add_argument("--overwrite", action="store_true", help="replace --output (and its PDF) if they exist")
    ap.add_argument("--ui-url", default=None, help="the MLflow UI the page links to (default: the tracking server's)")
    run_command(ap, argv=argv, body=_report)


def _report(args) -> None:
    from rfmlab import api
    from rfmlab.report import console

    path = api.report_page(
        args.run_id,
        output=args.output,
        pdf=args.pdf,
        overwrite=args.overwrite,
        tracking_uri=args.tracking_uri,
        ui_url=args.ui_url,
    )
    kb = path.stat().st_size / 1024
    console.console.print(
        f"report page -> {path} ({kb:,.0f} KB)" + (f" and {path.with_suffix('.pdf')}" if args.pdf else "")
    )


if __name__ == "__main__":
    main()
