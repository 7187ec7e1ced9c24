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


if __name__ == "__main__":
    main()
