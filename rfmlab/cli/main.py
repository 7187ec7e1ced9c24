"""``rfmlab``: the Hydra app over ``conf/``.

Any key can be overridden (``algorithm.params.n_clusters=8``) and ``-m`` sweeps the grid. User errors
print one line and exit with code 2; a failed run is still recorded in MLflow as FAILED with its error.
"""

from __future__ import annotations

import os
import sys

from rfmlab.cli import CONF_DIR, sweep

_task_started = False


def plain_config(cfg) -> tuple[dict, str]:
    """The resolved config as a plain dict and as YAML; unresolvable or missing values are user errors."""
    from omegaconf import OmegaConf
    from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

    from rfmlab.errors import RfmlabError

    if OmegaConf.select(cfg, "dataset.uri") and OmegaConf.is_missing(cfg.dataset, "path"):
        cfg = OmegaConf.merge(cfg, {"dataset": {"path": None}})  # a database is the source: no file is asked for
    try:
        plain = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as e:
        key = getattr(e, "full_key", "") or str(e)
        also = " (or dataset.uri=DATABASE_URL with dataset.table)" if key == "dataset.path" else ""
        raise RfmlabError(f"{key} is required for this config{also}; set it on the command line, e.g. {key}=...") from e
    except InterpolationResolutionError as e:
        raise RfmlabError(f"config value cannot be resolved: {str(e).splitlines()[0]}") from e
    return plain, OmegaConf.to_yaml(cfg, resolve=True)


def _task(cfg) -> dict | None:
    global _task_started
    _task_started = True
    from rfmlab import jobs
    from rfmlab.errors import RfmlabError
    from rfmlab.report import console

    try:
        plain, cfg_yaml = plain_config(cfg)
        _scrub_output(plain.get("dataset") or {})
        plain["sweep_id"] = sweep.sweep_id()
        settings = jobs.Settings.from_config(plain)  # every section validated here, before any run starts
        return jobs.run(settings, config_yaml=cfg_yaml)
    except RfmlabError as e:
        console.error(str(e))
        if sweep.sweep_id() is not None:  # a sweep goes on with its other jobs; the exit code says it failed
            sweep.failures.append(str(e))
            return None
        sys.exit(2)
    except KeyboardInterrupt as e:
        from rfmlab.errors import Terminated

        what = f"stopped by {e.name}" if isinstance(e, Terminated) else "interrupted"
        console.error(f"{what}; the run is marked KILLED in MLflow and a search can resume (search.resume=true)")
        sys.exit(128 + e.signum if isinstance(e, Terminated) else 130)


def _scrub_output(dataset: dict) -> None:
    """Hydra has written the config and the command line into its output folder (``.hydra/*.yaml``, and a sweep's
    ``multirun.yaml``) before the task runs: the dataset's secrets (a password in ``dataset.uri``, Spark's conf
    secrets, a Spark Connect token; ``locations.section_secrets``) are taken out of them."""
    import os
    import tempfile
    from pathlib import Path

    from hydra.core.hydra_config import HydraConfig

    from rfmlab.data import locations, sql

    if not locations.section_secrets(dataset) or not HydraConfig.initialized():
        return
    hc = HydraConfig.get()
    found = [Path(hc.sweep.dir) / "multirun.yaml"]  # a sweep's own copy of the command line, beside its jobs
    if hc.output_subdir is not None:
        found += (Path(hc.runtime.output_dir) / hc.output_subdir).glob("*.yaml")
    for f in (f for f in found if f.is_file()):
        text = f.read_text()
        uri = str(dataset.get("uri") or "")
        clean = locations.scrub_section(sql.scrub(text, uri) if uri else text, dataset)
        if clean != text:  # a sweep's jobs share multirun.yaml: replaced whole, never seen half-written
            fd, tmp = tempfile.mkstemp(dir=f.parent, prefix=f".{f.name}.")
            with os.fdopen(fd, "w") as out:
                out.write(clean)
            os.replace(tmp, f)


def _check_overrides(args: list[str]) -> None:
    from rfmlab.cli import overrides
    from rfmlab.errors import RfmlabError
    from rfmlab.report import console

    try:
        overrides.check(args)
    except RfmlabError as e:
        from rfmlab.data import sql

        message = str(e)
        for a in args:  # a database URL's password is never printed
            if a.lstrip("+").startswith("dataset.uri="):
                message = sql.scrub(message, a.split("=", 1)[1].strip("'\""))
        console.error(message)
        sys.exit(2)


def _on_signal(signum, frame) -> None:
    """SIGTERM / SIGHUP: the first unwinds like Ctrl-C (runs KILLED, the trial failed); a second exits at once."""
    import signal

    from rfmlab import interrupts

    signal.signal(signum, lambda s, f: os._exit(128 + s))
    interrupts.request(signum)


def main() -> None:
    import signal

    import hydra

    from rfmlab.cli import headless

    headless()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    os.environ.setdefault("HYDRA_FULL_ERROR", "0")
    _check_overrides(sys.argv[1:])
    app = hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="config")(_task)
    try:
        app()
    except ValueError as e:  # Hydra refusing a flag combination (-m with --cfg...), before any task ran
        if _task_started:
            raise
        from rfmlab.report import console

        console.error(f"{str(e).strip().splitlines()[0]}; see rfmlab --hydra-help")
        sys.exit(2)
    except BrokenPipeError:  # `rfmlab --help | head`: the reader left; nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except SystemExit as e:
        # Hydra exits 1 on a bad override or a missing config (before any task ran): a user error.
        if e.code == 1 and not _task_started:
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
