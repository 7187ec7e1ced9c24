"""``rfmlab-score``: segment new customers (a customer table or a transaction log) with a model."""

from __future__ import annotations

from pathlib import Path

from rfmlab.cli.command import Parser, dataset_config, in_command_terms, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-score``: segment new customers (a customer table or a transaction log) with a model."""

    ap = Parser(prog="rfmlab-score", description=main.__doc__)
    ap.add_argument("--model", required=True, help="e.g. models:/rfm-segmenter@champion or runs:/ID/model")
    ap.add_argument("--input", required=True, help="CSV or parquet: customers (customer_id, recency, ...) or a log")
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

    from rfmlab.data import load
    from rfmlab.mlflow_edge import registry, tracking
    from rfmlab.report import console
    from rfmlab.report.exports import spreadsheet_safe

    target = _check_paths(args)
    uri = tracking.store_uri(args.tracking_uri)
    tracking.check_server(uri)
    with console.stage(f"load model {args.model}"):
        segmenter = registry.load_segmenter(args.model, uri)
    dataset = dataset_config(args.dataset) if args.dataset else dict(segmenter.dataset)
    spec = load.DatasetSpec.from_dict(
        {**{k: v for k, v in dataset.items() if k != "synthetic"}, "path": args.input, "download": {}, "synthetic": {}}
    )
    with console.stage(f"open {args.input}"):
        src = load.scan(spec, with_digest=False)  # a log is streamed: load -> clean -> RFM never hold it in memory
    if segmenter.looks_like_customer_table(src.head):
        segmenter.check_customer_table(src.head, source=f"--input {args.input}")
    else:
        console.console.print(f"  [dim]input is a transaction log: RFM with the {dataset.get('name')} layout[/]")
    with Progress(console=console.console, transient=True) as bar, in_command_terms(dataset.get("name")):
        task = bar.add_task("scoring", total=None)
        out = segmenter.score(
            src,
            as_of=args.as_of,
            dataset=dataset,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".parquet":
        out.write_parquet(target)  # raw values: parquet is read by programs, not evaluated by spreadsheets
    else:
        spreadsheet_safe(out).write_csv(target)
    counts = out["segment"].value_counts(sort=True)
    console.console.print(
        f"scored {out.height:,} customers -> {target}: " + ", ".join(f"{s} {n:,}" for s, n in counts.iter_rows())
    )


def _check_paths(args) -> Path:
    """The output path, once the input exists and the output is neither the input nor an existing file (without
    ``--overwrite``): refused before the model is loaded, so nothing is written."""
    from rfmlab.errors import RfmlabError

    target = Path(args.output)
    if target.suffix not in (".parquet", ".csv", ".txt"):
        raise RfmlabError(f"--output must end in .csv or .parquet, not {target.suffix!r}")
    if not Path(args.input).is_file():
        what = "is a directory" if Path(args.input).is_dir() else "does not exist"
        raise RfmlabError(f"--input {args.input} {what}; give a CSV or parquet file")
    if target.exists() and target.samefile(args.input):  # the same file by any path (links included)
        raise RfmlabError(f"--output {args.output} is the --input file; write the scores to another file")
    if target.is_dir():
        raise RfmlabError(f"--output {args.output} is a directory; give a .csv or .parquet file name")
    if target.exists() and not args.overwrite:
        raise RfmlabError(f"--output {args.output} exists; pass --overwrite to replace it, or choose another file")
    return target


if __name__ == "__main__":
    main()
