"""``python -m rfmlab.cli_promote``: the ``rfmlab-promote`` console script."""

from rfmlab.cli import promote_main

if __name__ == "__main__":
    promote_main()
