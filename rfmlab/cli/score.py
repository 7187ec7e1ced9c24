"""``rfmlab-score``: segment new customers (a customer table or a transaction log) with a model."""

from __future__ import annotations

from rfmlab.cli.command import Parser, in_command_terms, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-score``: segment new customers (a customer table or a transaction log) with a model."""

    ap = Parser(prog="rfmlab-score", description=main.__doc__)
    ap.add_argument("--model", required=True, help="e.g. models:/rfm-segmenter@champion or runs:/ID/model")
    ap.add_argument(
        "--input",
        required=True,
        help="customers (customer_id, recency, ...) or a log: a CSV or parquet "
        "file, a folder or glob of parts, an s3:// gs:// az:// URL, or a database URL with --table or --query",
    )
    ap.add_argument("--table", default=None, help="with a database URL as --input: the table to read (schema.table)")
    ap.add_argument("--query", default=None, help="with a database URL as --input: the SQL whose rows are read")
    ap.add_argument(
        "--output",
        required=True,
        help="CSV or parquet (by extension); CSV text a spreadsheet would run as a formula (=, +, -, @) starts with '",
    )
    ap.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    ap.add_argument(
        "--dataset",
        default=None,
        help="dataset config whose layout and cleaning read a log (default: the one the model was trained on)",
    )
    ap.add_argument(
        "--as-of", default=None, help="analysis date for logs, YYYY-MM-DD (default: day after the last row)"
    )
    run_command(ap, argv=argv, body=_score)


def _score(args) -> None:
    from rich.progress import Progress

    from rfmlab import api
    from rfmlab.data import locations
    from rfmlab.report import console

    api.check_output(args.output, source=args.input, overwrite=args.overwrite)  # before the model is loaded
    with Progress(console=console.console, transient=True) as bar, in_command_terms(args.dataset):
        task = bar.add_task(f"scoring {locations.shown(args.input)} with {args.model}", total=None)
        out = api.score(
            args.model,
            args.input,
            dataset=args.dataset,
            as_of=args.as_of,
            output=args.output,
            overwrite=args.overwrite,
            tracking_uri=args.tracking_uri,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            table=args.table,
            query=args.query,
        )
    counts = out["segment"].value_counts(sort=True)
    console.console.print(
        f"scored {out.height:,} customers -> {args.output}: " + ", ".join(f"{s} {n:,}" for s, n in counts.iter_rows())
    )


if __name__ == "__main__":
    main()
