"""``rfmlab-rerun``: run a recorded run again from its record and say whether metrics and labels are identical."""

from __future__ import annotations

import sys

from rfmlab.cli.command import Parser, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-rerun``: run a recorded run again from its record and say whether metrics and labels are identical.

    Exit code 0 when identical, 3 when the re-run differs (the differences are printed and tagged)."""

    ap = Parser(prog="rfmlab-rerun", description=main.__doc__)
    ap.add_argument("run_id", help="the run to re-execute (a single run or a search's parent run)")
    run_command(ap, argv=argv, body=_rerun)


def _rerun(args) -> None:
    from rfmlab import api
    from rfmlab.report import console

    console.console.print(f"re-running [bold]{args.run_id}[/] from its recorded config")
    out = api.rerun(args.run_id, tracking_uri=args.tracking_uri)
    for note in out["notes"]:
        console.console.print(f"  [yellow]{note}[/]")
    _report(out["rerun_id"], out["comparison"])
    if not out["identical"]:
        sys.exit(3)


def _report(run_id: str, cmp) -> None:
    from rfmlab.report import console

    verdict = "identical" if cmp.identical else "DIFFERENT"
    console.console.print(
        f"[bold]{verdict}[/]: {cmp.metrics_compared - len(cmp.metric_diffs)} of {cmp.metrics_compared} metrics "
        f"equal; {cmp.customers - cmp.label_diffs - cmp.missing_customers:,} of {cmp.customers:,} customers in the "
        f"same cluster (re-run {run_id})"
    )
    for k, (a, b) in list(cmp.metric_diffs.items())[:10]:
        console.console.print(f"  {k}: {a!r} then, {b!r} now")


if __name__ == "__main__":
    main()
