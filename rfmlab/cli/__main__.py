"""``python -m rfmlab.cli``: the same as the ``rfmlab`` command."""

from rfmlab.cli.main import main

main()
