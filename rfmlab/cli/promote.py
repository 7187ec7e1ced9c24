"""``rfmlab-promote``: register a run's model and point an alias (default ``champion``) at it."""

from __future__ import annotations

from rfmlab.cli.command import Parser, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-promote``: register a run's model and point an alias (default ``champion``) at it."""

    ap = Parser(prog="rfmlab-promote", description=main.__doc__)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--run-id", help="the run whose model to promote")
    which.add_argument("--best", action="store_true", help="the best finished run of --experiment by --metric")
    ap.add_argument("--experiment", help="with --best: where to look")
    ap.add_argument(
        "--metric", default=None, help="with --best: silhouette (default), davies_bouldin (lower wins), ..."
    )
    ap.add_argument(
        "--filter", default=None, help="with --best: extra MLflow filter, e.g. \"tags.rfmlab.algorithm = 'kmeans'\""
    )
    ap.add_argument("--name", default="rfm-segmenter", help="registered model name (default rfm-segmenter)")
    ap.add_argument("--alias", default="champion", help="alias to point at the new version (default champion)")
    run_command(ap, argv=argv, body=_promote)


def _promote(args) -> None:
    from rfmlab import api
    from rfmlab.report import console

    res = api.promote(
        args.run_id,
        best=args.best,
        experiment=args.experiment,
        metric=args.metric,
        filter_string=args.filter,
        name=args.name,
        alias=args.alias,
        tracking_uri=args.tracking_uri,
    )
    m = {k: v for k, v in res["metrics"].items() if v is not None}
    console.console.print(
        f"promoted run {res['run_id']} as [bold]{res['name']}[/] version {res['version']} "
        f"(alias {res['alias']}); " + ", ".join(f"{k} {console.fmt(v)}" for k, v in m.items())
    )
    console.console.print(res["uri"])


if __name__ == "__main__":
    main()
