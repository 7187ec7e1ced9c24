"""Command-line edge: the only package that knows Hydra and argparse.

- ``main``: the ``rfmlab`` Hydra app (``python -m rfmlab.cli``); ``sweep``: its multirun callback.
- ``compare``, ``promote``, ``score``: the ``rfmlab-compare``, ``rfmlab-promote`` and ``rfmlab-score``
  commands (``python -m rfmlab.cli.<name>``).
- ``common``: what the commands share (one-line errors with exit code 2, the dataset configs).
"""

from rfmlab.resources import CONF_DIR

__all__ = ["CONF_DIR"]
