"""Tracked jobs: the pipeline's stages inside MLflow runs, then the console summary.

- ``single``: ``search=none``, one fit with ``algorithm.params``.
- ``search``: ``search=optuna``, a parent run per search, one child run per trial (``trials``), then the
  refit of the best trial with every artifact (``artifacts``) and the search charts (``search_artifacts``).
- ``timeline``: the over-time command's run.

Jobs take the parsed config (``Settings``: each stage's typed section; the CLI parses Hydra's resolved dict once,
at the edge), so they run from tests and notebooks without Hydra. Artifacts are logged as soon as their stage
finishes, so a failure later keeps them; the run then ends FAILED with ``error.txt``.
"""

from __future__ import annotations

from rfmlab.jobs.settings import Settings

__all__ = ["Settings", "run"]


def run(settings: Settings | dict, *, config_yaml: str) -> dict:
    """Run one experiment (a single fit or a search); returns ids, metrics and the run link. ``settings``: the
    parsed config (``Settings.from_config``; a resolved dict is parsed here)."""
    s = settings if isinstance(settings, Settings) else Settings.from_config(settings)
    if s.search is not None:
        from rfmlab.jobs import search

        return search.run(s, config_yaml=config_yaml)
    from rfmlab.jobs import single

    return single.run(s, config_yaml=config_yaml)
