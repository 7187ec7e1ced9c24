"""Hydra callback (``hydra.callbacks.sweep`` in conf/config.yaml): a writable output folder for every run; the
stores and a summary for multiruns."""

from __future__ import annotations

import sys
from pathlib import Path

failures: list[str] = []  # user errors of the multirun jobs run in this process (cli.main appends)


def sweep_id() -> str | None:
    """The sweep's id (its directory name) inside a multirun job, None in a single run."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    if hc.mode is None or hc.mode.name != "MULTIRUN":
        return None
    return Path(hc.sweep.dir).name or None


def check_output_dir(folder: str, *, option: str) -> None:
    """Hydra writes each job's config and log into its output folder (``mlruns/.hydra/...``) and reports a folder it
    cannot create with a traceback; one in a read-only place is refused here in one line, exit 2, before Hydra
    tries. What is checked is the folder or, before Hydra creates it, the nearest folder above it that exists."""
    import os

    from rfmlab.report import console

    target = Path(folder).absolute()
    existing = next(p for p in (target, *target.parents) if p.exists())
    if existing.is_dir() and os.access(existing, os.W_OK):
        return
    if not existing.is_dir():
        reason = "a file, not a folder"
    else:
        reason = "read-only file system" if os.statvfs(existing).f_flag & os.ST_RDONLY else "permission denied"
    console.error(
        f"cannot write Hydra's output folder {target} ({existing}: {reason}); make it writable, run from another "
        f"folder, or set {option}=FOLDER"
    )
    sys.exit(2)


class SweepCallback:
    """Before a run or a multirun: check Hydra's output folder can be written (``check_output_dir``). Before a
    multirun's jobs: create the MLflow and Optuna stores once, so parallel jobs (joblib launcher) do not
    race to create their schemas. After: one table of every search in the sweep, exit 2 if any failed.
    """

    def on_run_start(self, config, **kwargs) -> None:
        check_output_dir(config.hydra.run.dir, option="hydra.run.dir")

    def on_multirun_start(self, config, **kwargs) -> None:
        from rfmlab.errors import RfmlabError
        from rfmlab.mlflow_edge import tracking
        from rfmlab.report import console

        check_output_dir(config.hydra.sweep.dir, option="hydra.sweep.dir")
        try:
            tracking.init_store(tracking.store_uri(config.tracking.get("uri")))
            if config.search.get("name") == "optuna":
                from rfmlab.search import studies

                studies.storage_for(config.search.get("storage") or studies.default_storage())
        except RfmlabError as e:  # a store no job could use (Hydra would only warn about a callback's error)
            console.error(str(e))
            sys.exit(2)

    def on_multirun_end(self, config, **kwargs) -> None:
        from rfmlab.mlflow_edge import lookup, tracking
        from rfmlab.report import console

        sid = Path(config.hydra.sweep.dir).name
        try:
            runs = lookup.sweep_runs(tracking.store_uri(config.tracking.get("uri")), sid)
        except Exception as e:  # a summary must never turn a finished sweep into a failure, nor hide one
            console.error(f"sweep summary unavailable: {str(e).strip().splitlines()[0] if str(e).strip() else e!r}")
            runs = []
        if runs:
            console.sweep_table(sid, runs=runs)
            console.console.print(f"filter in the MLflow UI: tags.rfmlab.sweep_id = '{sid}'")
        failed = len(failures) or sum(r.info.status == "FAILED" for r in runs)
        if failed:
            console.error(f"{failed} job(s) of sweep {sid} failed; see the errors above")
            sys.exit(2)

    def __getattr__(self, name):  # the other Callback hooks: nothing to do
        if name.startswith("on_"):
            return lambda *a, **k: None
        raise AttributeError(name)
