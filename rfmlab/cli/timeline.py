"""``rfmlab-timeline`` (formerly ``rfmlab-track``, still installed under that name for one release): follow a
log's customers through snapshots (month, week or quarter ends), segmented by a
promoted model or a rule scheme, and log their migration and feature drift in one MLflow run."""

from __future__ import annotations

from rfmlab.cli.command import Parser, dataset_config, in_command_terms, run_command


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
    ap.add_argument("--input", required=True, help="the transaction log (CSV, .csv.gz, parquet, xlsx)")
    ap.add_argument("--dataset", default=None, help="its layout and cleaning (default: the model's; with --scheme: "
                                                    "required unless the log is in the ecommerce layout)")  # fmt: skip
    ap.add_argument("--every", default="month", choices=["week", "month", "quarter"], help="snapshot spacing")
    ap.add_argument("--start", default=None, help="first snapshot date, YYYY-MM-DD (default: end of the first period)")
    ap.add_argument("--end", default=None, help="last snapshot date, YYYY-MM-DD (default: the day after the log ends)")
    ap.add_argument("--experiment", default="timeline", help="MLflow experiment (default: timeline)")
    ap.add_argument("--psi-threshold", type=float, default=0.2, help="PSI above which drift is flagged (0.2)")
    run_command(ap, argv=argv, body=_track)


def _track(args) -> None:
    from pathlib import Path

    from rfmlab import features
    from rfmlab.errors import RfmlabError
    from rfmlab.jobs import timeline
    from rfmlab.mlflow_edge import tracking
    from rfmlab.report import console
    from rfmlab.timeline import TimelineSpec

    if not Path(args.input).is_file():
        raise RfmlabError(f"--input {args.input} does not exist; give a transaction log file")
    uri = tracking.store_uri(args.tracking_uri)
    tracking.check_server(uri)
    if args.model:
        segment, dataset, reference, tags, source = _model(args.model, uri)
    else:
        segment, reference, tags, source = _scheme(args.scheme), None, {"rfmlab.scheme": args.scheme}, args.scheme
        dataset = dataset_config(args.dataset or "ecommerce")
    if args.dataset and args.model:
        dataset = dataset_config(args.dataset)
    spec = TimelineSpec(
        dataset=dataset,
        input=args.input,
        every=args.every,
        start=features.parse_date(args.start),
        end=features.parse_date(args.end),
        experiment=args.experiment,
        psi_threshold=args.psi_threshold,
    )
    with in_command_terms(dataset.get("name")):
        out = timeline.run(spec, segment=segment, reference=reference, tags=tags, uri=uri, source=source)
    snaps = out["snapshots"]
    console.console.print(f"tracked {len(snaps)} snapshots ({snaps[0]} .. {snaps[-1]})")
    console.console.print(f"[bold]this run[/]  {out['url']}")


def _model(model_uri: str, uri: str):
    from rfmlab.mlflow_edge import registry

    segmenter = registry.load_segmenter(model_uri, uri)
    name, version, alias = registry.model_version(model_uri, uri)

    def segment(table):
        return segmenter.score(table).select("customer_id", "segment")

    tags = {"rfmlab.model": name or model_uri, "rfmlab.model_version": str(version or ""),
            "rfmlab.model_alias": alias or "", "rfmlab.model_uri": model_uri}  # fmt: skip
    return segment, dict(segmenter.dataset), getattr(segmenter, "reference", None) or None, tags, model_uri


def _scheme(name: str):
    import polars as pl

    from rfmlab import segments
    from rfmlab.resources import scheme_config

    scheme = segments.Scheme.from_dict(name, scheme_config(name, "--scheme"))

    def segment(table):
        return segments.apply(scheme, table).select("customer_id", pl.col(name).alias("segment"))

    return segment


if __name__ == "__main__":
    main()
