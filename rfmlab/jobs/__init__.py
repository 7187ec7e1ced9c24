"""Tracked jobs: the pipeline's stages inside MLflow runs, then the console summary.

- ``single``: ``search=none``, one fit with ``algorithm.params``.
- ``search``: ``search=optuna``, a parent run per search, one child run per trial (``trials``), then the
  refit of the best trial with every artifact (``artifacts``) and the search charts (``search_report``).

Jobs take the resolved config as a plain dict (the CLI converts Hydra's), so they run from tests and
notebooks without Hydra. Artifacts are logged as soon as their stage finishes, so a failure later keeps
them; the run then ends FAILED with ``error.txt``.
"""

from __future__ import annotations

from rfmlab.errors import ConfigError
from rfmlab.jobs.context import algorithm_params

__all__ = ["algorithm_params", "run"]


def run(cfg: dict, *, config_yaml: str) -> dict:
    """Run one experiment (a single fit or a search); returns ids, metrics and the run link."""
    mode = (cfg.get("search") or {}).get("name", "none")
    if mode == "optuna":
        from rfmlab.jobs import search

        return search.run(cfg, config_yaml=config_yaml)
    if mode != "none":
        raise ConfigError(f"search={mode!r} is not a search mode; use search=none or search=optuna")
    from rfmlab.jobs import single

    return single.run(cfg, config_yaml=config_yaml)
