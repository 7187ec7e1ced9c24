"""``rfmlab.run``: the tracked experiment from Python, through the command's own code path (Hydra's Compose API
over the same ``conf/``, the same ``Settings`` and jobs), so a notebook run and a command-line run with the same
overrides give the same metrics and labels."""

from __future__ import annotations

import dataclasses
from os import PathLike
from typing import TYPE_CHECKING

from rfmlab.cli import CONF_DIR

if TYPE_CHECKING:
    from rfmlab.api import RunResult


def compose(overrides: list[str]) -> tuple[dict, str]:
    """The main config with ``overrides`` (the command line's ``key=value`` strings), resolved: a plain dict and
    its YAML. A wrong key, group or value is the command's one-line ConfigError."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from rfmlab.cli import overrides as checks
    from rfmlab.cli.main import plain_config
    from rfmlab.data import locations
    from rfmlab.errors import ConfigError

    checks.check(list(overrides))
    try:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as e:
        shown = [locations.shown(a) if "://" in a else a for a in overrides]  # a database URL's password stays out
        raise ConfigError(f"{str(e).strip().splitlines()[0]}; check the overrides {shown}") from None
    return plain_config(cfg)


def _quoted(value: str) -> str:
    """A value as a quoted Hydra override value (a URL's ``?``, ``=`` and ``&`` are not Hydra's grammar)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(
    overrides: list[str] | None = None,
    *,
    data: object | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
) -> RunResult:
    """Run one tracked experiment, as ``rfmlab OVERRIDES...`` does, and return it as a ``RunResult``.

    Args:
        overrides: the command line's ``key=value`` strings, e.g. ``["search=none", "algorithm.params.n_clusters=6"]``
            (no ``-m``: sweep from the shell or loop in Python).
        data: what the run reads, in the layout of the ``dataset`` config (choose it with ``dataset=NAME`` and
            ``dataset.columns.*`` overrides): an in-memory transaction log (polars or pandas DataFrame, polars
            LazyFrame), or a source as one string: a path, folder, glob or object-store URL (``dataset.path``) or a
            database URL (``dataset.uri``; give ``dataset.table=`` or ``dataset.query=`` among the overrides).
        tracking_uri: the MLflow store (default ``$MLFLOW_TRACKING_URI`` or ``sqlite:///mlruns/mlflow.db``).
        experiment: the MLflow experiment (default: the dataset's name).

    Returns:
        The run (``RunResult``): id, status, metrics, params, the UI link; its ``customers``, ``segments`` and
            ``figures`` are read from the run when first used.

    Raises:
        rfmlab.ConfigError, rfmlab.DataError: the one-line messages the command prints.

    Examples:
        >>> result = rfmlab.run(["search=none"], tracking_uri="sqlite:///mlruns/mlflow.db")  # doctest: +SKIP
        >>> result.metrics["silhouette"]
    """
    from rfmlab import jobs
    from rfmlab.api import load_run
    from rfmlab.data import frames, locations

    args = list(overrides or [])
    if tracking_uri:
        args.append(f"tracking.uri={tracking_uri}")
    if experiment:
        args.append(f"tracking.experiment={experiment}")
    if isinstance(data, str | PathLike):
        args.append(f"dataset.{'uri' if locations.is_sql(str(data)) else 'path'}={_quoted(str(data))}")
        data = None
    if data is not None and not any(a.startswith("dataset.path=") for a in args):
        args.append("dataset.path=null")  # the frame is the data (a layout's required path is not asked for)
    plain, cfg_yaml = compose(args)
    settings = jobs.Settings.from_config(plain)
    if data is not None:
        settings = dataclasses.replace(settings, data=frames.source_of(data))
    out = jobs.run(settings, config_yaml=cfg_yaml)
    return load_run(out["run_id"], tracking_uri=settings.tracking.uri, ui_url=settings.tracking.ui_url)
