"""``rfmlab-compare``: a leaderboard and the pairwise ARI matrix of runs, printed and logged as a run."""

from __future__ import annotations

from rfmlab.cli.command import Parser, run_command


def main(argv: list[str] | None = None) -> None:
    """``rfmlab-compare``: a leaderboard and the pairwise ARI matrix of runs, printed and logged."""

    ap = Parser(prog="rfmlab-compare", description=main.__doc__)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--experiment", help="every finished top-level run of this experiment")
    which.add_argument("--sweep", help="every finished run tagged rfmlab.sweep_id=ID")
    which.add_argument("--runs", help="comma-separated run ids")
    ap.add_argument("--sort-by", default="silhouette", help="leaderboard order (default silhouette)")
    run_command(ap, argv=argv, body=_compare)


def _compare(args) -> dict:
    from rfmlab import api
    from rfmlab.report import console

    out = api.compare(
        experiment=args.experiment,
        sweep=args.sweep,
        runs=args.runs.split(",") if args.runs else None,
        sort_by=args.sort_by,
        tracking_uri=args.tracking_uri,
    )
    console.compare_tables(out["leaderboard"], ari=out["ari"], short=out["short"])
    console.console.print(f"logged as run {out['run_id']} ({out['url']})")
    return out


if __name__ == "__main__":
    main()
