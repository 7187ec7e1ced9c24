"""Hydra callback for multiruns (``hydra.callbacks.sweep`` in conf/config.yaml)."""

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


class SweepCallback:
    """Before the jobs: create the MLflow and Optuna stores once, so parallel jobs (joblib launcher) do not
    race to create their schemas. After: one table of every search in the sweep, exit 2 if any failed.
    """

    def on_multirun_start(self, config, **kwargs) -> None:
        from rfmlab.mlflow_edge import tracking

        tracking.init_store(tracking.store_uri(config.tracking.get("uri")))
        if config.search.get("name") == "optuna":
            from rfmlab.search import studies

            studies.storage_for(config.search.get("storage") or studies.default_storage())

    def on_multirun_end(self, config, **kwargs) -> None:
        from rfmlab.mlflow_edge import lookup, tracking
        from rfmlab.report import console

        try:
            sid = Path(config.hydra.sweep.dir).name
            runs = lookup.sweep_runs(tracking.store_uri(config.tracking.get("uri")), sid)
        except Exception as e:  # a summary must never turn a finished sweep into a failure
            console.error(f"sweep summary unavailable: {e}")
            return
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
