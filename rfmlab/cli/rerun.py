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
    from omegaconf import OmegaConf

    import rfmlab
    from rfmlab import jobs
    from rfmlab.mlflow_edge import reruns, tracking
    from rfmlab.report import console

    uri = tracking.store_uri(args.tracking_uri)
    tracking.check_server(uri)
    rec = reruns.record(uri, args.run_id)
    console.console.print(f"re-running [bold]{rec.run_id}[/] from its recorded config")
    if rec.version and rec.version != rfmlab.__version__:
        console.console.print(f"  [yellow]recorded with rfmlab {rec.version}, running {rfmlab.__version__}[/]")
    commit = tracking.git_commit()
    if rec.commit and commit and rec.commit != commit:
        console.console.print(f"  [yellow]recorded at commit {rec.commit[:10]}, running at {commit[:10]}[/]")
    cfg = reruns.config_for_rerun(rec, uri=uri)
    result = jobs.run(jobs.Settings.from_config(cfg), config_yaml=OmegaConf.to_yaml(OmegaConf.create(cfg)))
    new = result["run_id"]
    cmp = reruns.compare(uri, rec.run_id, new)
    digest = reruns.data_digest(uri, new)
    if rec.digest and digest and digest != rec.digest:
        console.console.print(f"  [yellow]the data changed: digest {rec.digest[:12]} then, {digest[:12]} now[/]")
    _report(uri, new, cmp)
    if not cmp.identical:
        sys.exit(3)


def _report(uri: str, run_id: str, cmp) -> None:
    from rfmlab.mlflow_edge import reruns
    from rfmlab.report import console

    verdict = "identical" if cmp.identical else "DIFFERENT"
    reruns.mark_identical(uri, run_id, identical=cmp.identical)
    console.console.print(
        f"[bold]{verdict}[/]: {cmp.metrics_compared - len(cmp.metric_diffs)} of {cmp.metrics_compared} metrics "
        f"equal; {cmp.customers - cmp.label_diffs - cmp.missing_customers:,} of {cmp.customers:,} customers in the "
        f"same cluster (re-run {run_id})"
    )
    for k, (a, b) in list(cmp.metric_diffs.items())[:10]:
        console.console.print(f"  {k}: {a!r} then, {b!r} now")


if __name__ == "__main__":
    main()
