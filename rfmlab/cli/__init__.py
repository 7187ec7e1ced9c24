"""Command-line edge: the only package that knows Hydra and argparse.

- ``main``: the ``rfmlab`` Hydra app (``python -m rfmlab.cli``); ``sweep``: its multirun callback.
- ``compare``, ``promote``, ``score``: the ``rfmlab-compare``, ``rfmlab-promote`` and ``rfmlab-score``
  commands (``python -m rfmlab.cli.<name>``).
- ``command``: what the commands share (one-line errors with exit code 2); ``api``: ``rfmlab.run`` (Compose API).
"""

from rfmlab.resources import CONF_DIR


def headless() -> None:
    """The commands draw off-screen (Agg), set by each command's entry point: a notebook or a script that imports
    rfmlab keeps the backend its user chose (rfmlab's own figures never touch pyplot's; Optuna's charts do)."""
    import os

    os.environ.setdefault("MPLBACKEND", "Agg")


__all__ = ["CONF_DIR", "headless"]
