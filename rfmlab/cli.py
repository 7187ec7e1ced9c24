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


def _task(cfg) -> dict | None:
    global _task_started
    _task_started = True
    from omegaconf import OmegaConf

    from rfmlab import console, job
    from rfmlab.errors import RfmlabError

    try:
        cfg_yaml = OmegaConf.to_yaml(cfg, resolve=True)
        plain = OmegaConf.to_container(cfg, resolve=True)
        plain["sweep_id"] = _sweep_id()
        return job.run(plain, cfg_yaml)
    except RfmlabError as e:
        console.error(str(e))
        sys.exit(2)
    except KeyboardInterrupt:
        console.error("interrupted; the run is marked KILLED in MLflow")
        sys.exit(130)


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
