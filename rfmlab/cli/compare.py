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


def _collect(uri: str, runs) -> tuple[list[dict], dict]:
    """One leaderboard row per run, and each run's customer -> cluster table (runs without one are left out)."""
    from rfmlab.mlflow_edge import lookup

    rows, tables = [], {}
    for r in runs:
        t = r.data.tags
        best = {k[5:]: v for k, v in t.items() if k.startswith("best.") and k != "best.trial"}
        rows.append(
            {
                "run_id": r.info.run_id,
                "name": r.info.run_name,
                "dataset": t.get("rfmlab.dataset"),
                "features": t.get("rfmlab.features"),
                "algorithm": t.get("rfmlab.algorithm"),
                "params": str(best or r.data.params.get("algorithm.effective_params", "")),
                **r.data.metrics,
            }
        )
        table = lookup.load_table(uri, r.info.run_id)
        if table is not None:
            tables[r.info.run_id] = table.select("customer_id", "cluster")
    return rows, tables


def _log_comparison(uri: str, experiment_id: str, scope: str, sort_by: str, board, ari, common, short):
    """The comparison as a run of its own: tables, an HTML page and the ARI heatmap."""
    import polars as pl

    from rfmlab.mlflow_edge import catalog, lookup, tracking
    from rfmlab.report import figures

    exp_name = lookup.experiment_name(uri, experiment_id)
    tags = {"rfmlab.kind": "comparison", "rfmlab.compared": ",".join(short)[:5000]}
    with tracking.start_run(uri, experiment=exp_name, run_name=f"compare-{len(short)}-runs", tags=tags) as h:
        h.log_params({"compare.scope": scope, "compare.n_runs": len(short)})
        ari_named = ari.with_columns(pl.col("run_id").replace(short)).rename(short)
        common_df = pl.DataFrame({"run_id": list(short), **{short[k]: common[:, i] for i, k in enumerate(short)}})
        tracking.log_tables(
            h, {catalog.LEADERBOARD: board, catalog.ARI_MATRIX: ari, catalog.COMMON_CUSTOMERS: common_df}
        )
        sections = [
            ("Leaderboard", f"sorted by {sort_by}", board),
            ("Pairwise adjusted Rand index", "on the customers both runs share", ari_named),
        ]
        h.log_text(figures.segments_html(f"Comparison: {scope}", sections=sections), catalog.COMPARISON_PAGE)
        fig = figures.ari_heatmap(ari_named)
        h.log_figure(fig, catalog.ARI_MATRIX_PNG)
        figures.close(fig)
    return h


def _compare(args) -> dict:
    from rfmlab.errors import RfmlabError
    from rfmlab.mlflow_edge import lookup, tracking
    from rfmlab.report import comparison, console

    uri = tracking.store_uri(args.tracking_uri)
    tracking.check_server(uri)
    runs = lookup.find_runs(
        uri, experiment=args.experiment, sweep=args.sweep, run_ids=args.runs.split(",") if args.runs else None
    )
    rows, tables = _collect(uri, runs)
    if len(tables) < 2:
        raise RfmlabError(
            f"need at least 2 runs with a customer table to compare, found {len(tables)}; "
            "check --experiment / --sweep / --runs"
        )
    board = comparison.leaderboard([r for r in rows if r["run_id"] in tables], sort_by=args.sort_by)
    ari, common = comparison.ari_matrix({rid: tables[rid] for rid in board["run_id"]})
    short = {rid: rid[:8] for rid in ari["run_id"]}
    console.compare_tables(board, ari=ari, short=short)
    scope = args.experiment or (f"sweep {args.sweep}" if args.sweep else f"{len(tables)} runs")
    h = _log_comparison(uri, runs[0].info.experiment_id, scope, args.sort_by, board, ari, common, short)
    url = tracking.run_url(tracking.ui_url(None, uri), h.experiment_id, h.run_id)
    console.console.print(f"logged as run {h.run_id} ({url})")
    return {"run_id": h.run_id, "leaderboard": board, "ari": ari}


if __name__ == "__main__":
    main()
