"""``python -m rfmlab.cli_compare``: the same as the ``rfmlab-compare`` console script."""

from rfmlab.cli import compare_main

if __name__ == "__main__":
    compare_main()
