"""``rfmlab.compare`` and ``rfmlab.rerun``: runs side by side (leaderboard, pairwise ARI, logged as a run) and a
recorded run executed again (what ``rfmlab-compare`` and ``rfmlab-rerun`` do; the commands call these)."""

from __future__ import annotations

import polars as pl

import rfmlab
from rfmlab import jobs
from rfmlab.errors import RfmlabError
from rfmlab.mlflow_edge import catalog, lookup, reruns, tracking
from rfmlab.report import comparison, figures


def _collect(uri: str, runs) -> tuple[list[dict], dict]:
    """One leaderboard row per run, and each run's customer -> cluster table (runs without one are left out)."""
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


def _log_comparison(uri: str, experiment_id: str, *, scope: str, sort_by: str, board, ari, common, short):
    """The comparison as a run of its own: tables, an HTML page and the ARI heatmap."""
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


def compare(
    *,
    experiment: str | None = None,
    sweep: str | None = None,
    runs: list[str] | None = None,
    sort_by: str = "silhouette",
    tracking_uri: str | None = None,
) -> dict:
    """Compare finished runs (every top-level run of ``experiment``, of ``sweep``, or the ``runs`` ids): a
    leaderboard and the pairwise adjusted Rand index on the customers they share, logged as a comparison run.

    Returns:
        ``{"run_id", "url", "leaderboard", "ari", "short"}``: the comparison run, the two tables (polars) and
        each run id's 8-character short form.
    """
    if sum(x is not None for x in (experiment, sweep, runs)) != 1:
        raise RfmlabError("compare needs exactly one of experiment, sweep or runs")
    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    found = lookup.find_runs(uri, experiment=experiment, sweep=sweep, run_ids=list(runs) if runs else None)
    rows, tables = _collect(uri, found)
    if len(tables) < 2:
        raise RfmlabError(
            f"need at least 2 runs with a customer table to compare, found {len(tables)}; "
            "check --experiment / --sweep / --runs"
        )
    board = comparison.leaderboard([r for r in rows if r["run_id"] in tables], sort_by=sort_by)
    ari, common = comparison.ari_matrix({rid: tables[rid] for rid in board["run_id"]})
    short = {rid: rid[:8] for rid in ari["run_id"]}
    scope = experiment or (f"sweep {sweep}" if sweep else f"{len(tables)} runs")
    h = _log_comparison(
        uri, found[0].info.experiment_id, scope=scope, sort_by=sort_by, board=board, ari=ari, common=common, short=short
    )
    url = tracking.run_url(tracking.ui_url(None, uri), h.experiment_id, h.run_id)
    return {"run_id": h.run_id, "url": url, "leaderboard": board, "ari": ari, "short": short}


def rerun(run_id: str, *, tracking_uri: str | None = None) -> dict:
    """Run a recorded run again from its record (config, seed, data) and compare metrics and labels.

    Returns:
        ``{"run_id", "rerun_id", "identical", "comparison", "notes"}``: ``comparison`` counts equal metrics and
        customers in the same cluster; ``notes`` says what differs in the setting (version, commit, data digest).
    """
    import yaml

    uri = tracking.store_uri(tracking_uri)
    tracking.check_server(uri)
    rec = reruns.record(uri, run_id)
    notes = []
    if rec.version and rec.version != rfmlab.__version__:
        notes.append(f"recorded with rfmlab {rec.version}, running {rfmlab.__version__}")
    commit = tracking.git_commit()
    if rec.commit and commit and rec.commit != commit:
        notes.append(f"recorded at commit {rec.commit[:10]}, running at {commit[:10]}")
    cfg = reruns.config_for_rerun(rec, uri=uri)
    result = jobs.run(jobs.Settings.from_config(cfg), config_yaml=yaml.safe_dump(cfg, sort_keys=False))
    new = result["run_id"]
    cmp = reruns.compare(uri, rec.run_id, new)
    digest = reruns.data_digest(uri, new)
    if rec.digest and digest and digest != rec.digest:
        notes.append(f"the data changed: digest {rec.digest[:12]} then, {digest[:12]} now")
    reruns.mark_identical(uri, new, identical=cmp.identical)
    return {"run_id": rec.run_id, "rerun_id": new, "identical": cmp.identical, "comparison": cmp, "notes": notes}
