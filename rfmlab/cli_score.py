"""``python -m rfmlab.cli_score``: the ``rfmlab-score`` console script."""

from rfmlab.cli import score_main

if __name__ == "__main__":
    score_main()
