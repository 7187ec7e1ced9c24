"""``rfmlab-timeline`` (formerly ``rfmlab-track``, still installed under that name for one release): follow a
log's customers through snapshots (month, week or quarter ends), segmented by a
promoted model or a rule scheme, and log their migration and feature drift in one MLflow run."""

from __future__ import annotations

from rfmlab.cli.command import Parser, in_command_terms, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-timeline``: segments over time (shares, transitions, Sankey, paths, drift) in one MLflow run."""
    import os
    import sys

    if os.path.basename(sys.argv[0]) == "rfmlab-track":
        print("rfmlab-track is now rfmlab-timeline (the old name goes in the next release)", file=sys.stderr)
    ap = Parser(prog="rfmlab-timeline", description=main.__doc__)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="e.g. models:/rfm-segmenter@champion: its RFM settings and segments")
    which.add_argument("--scheme", help="a rule scheme of conf/segments/ (rfm11, quartile...) instead of a model")
    ap.add_argument(
        "--input",
        required=True,
        help="the transaction log (CSV, .csv.gz, parquet, xlsx; a folder or glob of parts; an s3:// gs:// az:// URL; "
        "a database URL with --table or --query)",
    )
    ap.add_argument("--table", default=None, help="with a database URL as --input: the table to read (schema.table)")
    ap.add_argument("--query", default=None, help="with a database URL as --input: the SQL whose rows are read")
    ap.add_argument("--dataset", default=None, help="its layout and cleaning (default: the model's; with --scheme: "
                                                    "required unless the log is in the ecommerce layout)")  # fmt: skip
    ap.add_argument("--every", default="month", choices=["week", "month", "quarter"], help="snapshot spacing")
    ap.add_argument("--start", default=None, help="first snapshot date, YYYY-MM-DD (default: end of the first period)")
    ap.add_argument("--end", default=None, help="last snapshot date, YYYY-MM-DD (default: the day after the log ends)")
    ap.add_argument("--experiment", default="timeline", help="MLflow experiment (default: timeline)")
    ap.add_argument("--psi-threshold", type=float, default=0.2, help="PSI above which drift is flagged (0.2)")
    run_command(ap, argv=argv, body=_track)


def _track(args) -> None:
    from rfmlab import api
    from rfmlab.report import console

    with in_command_terms(args.dataset or ("model's" if args.model else "ecommerce")):
        out = api.over_time(
            args.input,
            model=args.model,
            scheme=args.scheme,
            dataset=args.dataset,
            every=args.every,
            start=args.start,
            end=args.end,
            experiment=args.experiment,
            psi_threshold=args.psi_threshold,
            tracking_uri=args.tracking_uri,
            table=args.table,
            query=args.query,
        )
    snaps = out["snapshots"]
    console.console.print(f"tracked {len(snaps)} snapshots ({snaps[0]} .. {snaps[-1]})")
    console.console.print(f"[bold]this run[/]  {out['url']}")


if __name__ == "__main__":
    main()
