"""Command-line edge: the only module that knows Hydra.

``rfmlab`` is a Hydra app over ``conf/``: any key can be overridden (``algorithm.params.n_clusters=8``)
and ``-m`` sweeps the grid. User errors print one line and exit with code 2; a failed run is still
recorded in MLflow as FAILED with its error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")

_task_started = False
_failures: list[str] = []  # user errors of multirun jobs run in this process


def _task(cfg) -> dict | None:
    global _task_started
    _task_started = True
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

    from rfmlab import console, job
    from rfmlab.errors import RfmlabError

    try:
        try:
            plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        except MissingMandatoryValue as e:
            key = getattr(e, "full_key", "") or str(e)
            raise RfmlabError(f"{key} is required for this config; set it on the command line, e.g. {key}=...") from e
        except InterpolationResolutionError as e:
            raise RfmlabError(f"config value cannot be resolved: {str(e).splitlines()[0]}") from e
        cfg_yaml = OmegaConf.to_yaml(cfg, resolve=True)
        plain["sweep_id"] = _sweep_id()
        return job.run(plain, cfg_yaml)
    except RfmlabError as e:
        console.error(str(e))
        if _sweep_id() is not None:  # a sweep goes on with its other jobs; the exit code says it failed
            _failures.append(str(e))
            return None
        sys.exit(2)
    except KeyboardInterrupt:
        console.error("interrupted; the run is marked KILLED in MLflow")
        sys.exit(130)


class SweepCallback:
    """Hydra callback (``hydra.callbacks``) for multiruns.

    Before the jobs: create the MLflow and Optuna stores once, so parallel jobs (joblib launcher) do not
    race to create their schemas. After: one table of every search in the sweep, exit 2 if any failed.
    """

    def on_multirun_start(self, config, **kwargs) -> None:
        from rfmlab import tracking

        tracking.init_store(tracking.store_uri(config.tracking.get("uri")))
        if config.search.get("name") == "optuna":
            from rfmlab import search

            search.storage_for(config.search.get("storage") or search.default_storage())

    def on_multirun_end(self, config, **kwargs) -> None:
        from rfmlab import console, tracking

        try:
            sweep_id = Path(config.hydra.sweep.dir).name
            uri = tracking.store_uri(config.tracking.get("uri"))
            runs = tracking.sweep_runs(uri, sweep_id)
        except Exception as e:  # a summary must never turn a finished sweep into a failure
            console.error(f"sweep summary unavailable: {e}")
            return
        if runs:
            console.sweep_table(sweep_id, runs)
            console.console.print(f"filter in the MLflow UI: tags.rfmlab.sweep_id = '{sweep_id}'")
        failed = len(_failures) or sum(r.info.status == "FAILED" for r in runs)
        if failed:
            console.error(f"{failed} job(s) of sweep {sweep_id} failed; see the errors above")
            sys.exit(2)

    def __getattr__(self, name):  # the other Callback hooks: nothing to do
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)


def _sweep_id() -> str | None:
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    if hc.mode is None or hc.mode.name != "MULTIRUN":
        return None
    return Path(hc.sweep.dir).name or None


def main() -> None:
    import hydra

    os.environ.setdefault("HYDRA_FULL_ERROR", "0")
    app = hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")(_task)
    try:
        app()
    except SystemExit as e:
        # Hydra exits 1 on a bad override or a missing config (before any task ran): a user error.
        if e.code == 1 and not _task_started:
            sys.exit(2)
        raise


TRACKING_URI_HELP = "default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db"


def _run_command(ap, argv, body) -> None:
    """Parse ``argv`` and run ``body(args)``: a user error prints one line and exits 2 (no traceback)."""
    from rfmlab import console
    from rfmlab.errors import RfmlabError

    ap.add_argument("--tracking-uri", default=None, help=TRACKING_URI_HELP)
    args = ap.parse_args(argv)
    try:
        body(args)
    except RfmlabError as e:
        console.error(str(e))
        sys.exit(2)


def compare_main(argv: list[str] | None = None) -> None:
    """``rfmlab-compare``: a leaderboard and the pairwise ARI matrix of runs, printed and logged."""
    import argparse

    ap = argparse.ArgumentParser(prog="rfmlab-compare", description=compare_main.__doc__)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--experiment", help="every finished top-level run of this experiment")
    which.add_argument("--sweep", help="every finished run tagged rfmlab.sweep_id=ID")
    which.add_argument("--runs", help="comma-separated run ids")
    ap.add_argument("--sort-by", default="silhouette", help="leaderboard order (default silhouette)")
    _run_command(ap, argv, _compare)


def _compare(args) -> dict:
    import polars as pl

    from rfmlab import compare, console, plots, tracking
    from rfmlab.errors import RfmlabError

    uri = tracking.store_uri(args.tracking_uri)
    runs = tracking.find_runs(uri, args.experiment, args.sweep, args.runs.split(",") if args.runs else None)
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
        table = tracking.load_table(uri, r.info.run_id)
        if table is not None:
            tables[r.info.run_id] = table.select("customer_id", "cluster")
    if len(tables) < 2:
        raise RfmlabError(
            f"need at least 2 runs with a customer table to compare, found {len(tables)}; "
            "check --experiment / --sweep / --runs"
        )
    board = compare.leaderboard([r for r in rows if r["run_id"] in tables], args.sort_by)
    ari, common = compare.ari_matrix({rid: tables[rid] for rid in board["run_id"]})
    short = {rid: rid[:8] for rid in ari["run_id"]}
    console.compare_tables(board, ari, short)

    first = runs[0]
    exp_name = tracking.experiment_name(uri, first.info.experiment_id)
    scope = args.experiment or (f"sweep {args.sweep}" if args.sweep else f"{len(tables)} runs")
    with tracking.start_run(
        uri,
        exp_name,
        f"compare-{len(tables)}-runs",
        {"rfmlab.kind": "comparison", "rfmlab.compared": ",".join(tables)[:5000]},
    ) as h:
        h.log_params({"compare.scope": scope, "compare.n_runs": len(tables)})
        ari_named = ari.with_columns(pl.col("run_id").replace(short)).rename(short)
        common_df = pl.DataFrame({"run_id": list(short), **{short[k]: common[:, i] for i, k in enumerate(short)}})
        tables_out = {"leaderboard.csv": board, "ari_matrix.csv": ari, "common_customers.csv": common_df}
        tracking.log_table(h, tables_out, "compare")
        h.log_text(
            plots.segments_html(
                f"Comparison: {scope}",
                [
                    ("Leaderboard", f"sorted by {args.sort_by}", board),
                    ("Pairwise adjusted Rand index", "on the customers both runs share", ari_named),
                ],
            ),
            "compare/comparison.html",
        )
        fig = plots.ari_heatmap(ari_named)
        h.log_figure(fig, "compare/ari_matrix.png")
        plots.close(fig)
    console.console.print(
        f"logged as run {h.run_id} ({tracking.run_url('http://127.0.0.1:5000', h.experiment_id, h.run_id)})"
    )
    return {"run_id": h.run_id, "leaderboard": board, "ari": ari}


def promote_main(argv: list[str] | None = None) -> None:
    """``rfmlab-promote``: register a run's model and point an alias (default ``champion``) at it."""
    import argparse

    ap = argparse.ArgumentParser(prog="rfmlab-promote", description=promote_main.__doc__)
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
    _run_command(ap, argv, _promote)


def _promote(args) -> None:
    from rfmlab import console, tracking
    from rfmlab.errors import RfmlabError

    if args.best and not args.experiment:
        raise RfmlabError("--best needs --experiment NAME")
    metric = args.metric or ("silhouette" if args.best else None)
    uri = tracking.store_uri(args.tracking_uri)
    res = tracking.promote(uri, args.run_id, args.experiment, metric, args.filter, args.name, args.alias)
    m = {k: v for k, v in res["metrics"].items() if v is not None}
    console.console.print(
        f"promoted run {res['run_id']} as [bold]{res['name']}[/] version {res['version']} "
        f"(alias {res['alias']}); " + ", ".join(f"{k} {console.fmt(v)}" for k, v in m.items())
    )
    console.console.print(res["uri"])


def score_main(argv: list[str] | None = None) -> None:
    """``rfmlab-score``: segment new customers (a customer table or a transaction log) with a model."""
    import argparse

    ap = argparse.ArgumentParser(prog="rfmlab-score", description=score_main.__doc__)
    ap.add_argument("--model", required=True, help="e.g. models:/rfm-segmenter@champion or runs:/ID/model")
    ap.add_argument("--input", required=True, help="CSV or parquet: customers (customer_id, recency, ...) or a log")
    ap.add_argument("--output", required=True, help="CSV or parquet (by extension)")
    ap.add_argument(
        "--dataset",
        default=None,
        help="dataset config whose layout and cleaning read a log (default: the one the model was trained on)",
    )
    ap.add_argument(
        "--as-of", default=None, help="analysis date for logs, YYYY-MM-DD (default: day after the last row)"
    )
    _run_command(ap, argv, _score)


def _dataset_config(name: str) -> dict:
    from hydra import compose, initialize_config_dir
    from hydra.errors import MissingConfigException
    from omegaconf import OmegaConf

    from rfmlab.errors import ConfigError

    try:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"dataset={name}"])
    except MissingConfigException as e:
        options = sorted(p.stem for p in (Path(CONF_DIR) / "dataset").glob("*.yaml"))
        raise ConfigError(f"unknown dataset {name!r}; use one of {options}") from e
    return OmegaConf.to_container(cfg.dataset, resolve=False)


def _score(args) -> None:
    from rich.progress import Progress

    from rfmlab import console, tracking
    from rfmlab.data import load
    from rfmlab.errors import RfmlabError

    uri = tracking.store_uri(args.tracking_uri)
    with console.stage(f"load model {args.model}"):
        segmenter = tracking.load_segmenter(args.model, uri)
    dataset = _dataset_config(args.dataset) if args.dataset else dict(segmenter.dataset)
    spec = load.DatasetSpec.from_dict(
        {**{k: v for k, v in dataset.items() if k != "synthetic"}, "path": args.input, "download": {}, "synthetic": {}}
    )
    with console.stage(f"read {args.input}"):
        raw = load.read(spec)
    if not segmenter.is_customer_table(raw):
        console.console.print(f"  [dim]input is a transaction log: RFM with the {dataset.get('name')} layout[/]")
    with Progress(console=console.console, transient=True) as bar:
        task = bar.add_task("scoring", total=None)
        out = segmenter.score(
            raw,
            as_of=args.as_of,
            dataset=dataset,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    target = Path(args.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".parquet":
        out.write_parquet(target)
    elif target.suffix in (".csv", ".txt"):
        out.write_csv(target)
    else:
        raise RfmlabError(f"--output must end in .csv or .parquet, not {target.suffix!r}")
    counts = out["segment"].value_counts(sort=True)
    console.console.print(
        f"scored {out.height:,} customers -> {target}: " + ", ".join(f"{s} {n:,}" for s, n in counts.iter_rows())
    )


if __name__ == "__main__":
    main()
