"""What the argparse commands share: ``--tracking-uri``, one-line user errors (exit 2), errors in their terms."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import re
import sys

TRACKING_URI_HELP = "default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``rfmlab: error: <prog>: ...`` with the nearest option (did you mean) and
    this command's own options, exit code 2."""

    def parse_args(self, args=None, *, namespace=None):
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_args(args, namespace)

    def error(self, message: str):
        from rfmlab.report import console

        opts = sorted({o for a in self._actions for o in a.option_strings if o.startswith("--")} - {"--help"})
        unknown = [a.split("=")[0] for a in getattr(self, "_argv", []) if a.startswith("--")]
        unknown = [a for a in unknown if not any(o.startswith(a) for o in opts + ["--help"])]
        if unknown:  # a typo explains the rest (a required option "missing"): name it first
            close = difflib.get_close_matches(unknown[0], opts, n=1, cutoff=0.7)
            message = f"unknown option {unknown[0]}" + (f" (did you mean {close[0]}?)" if close else "")
        console.error(f"{self.prog}: {message}; options: {', '.join(opts)} (see {self.prog} --help)")
        sys.exit(2)


def run_command(ap, *, argv, body) -> None:
    """Parse ``argv`` and run ``body(args)``: a user error, or a fault of the store (corrupt, read-only, full),
    prints one line and exits 2 (no traceback)."""
    from rfmlab.cli import headless
    from rfmlab.errors import RfmlabError
    from rfmlab.mlflow_edge import store_faults
    from rfmlab.report import console

    headless()
    ap.add_argument("--tracking-uri", default=None, help=TRACKING_URI_HELP)
    args = ap.parse_args(argv)
    try:
        with store_faults.translated(store_faults.uri_of(args.tracking_uri)):
            body(args)
    except RfmlabError as e:
        console.error(str(e))
        sys.exit(2)


@contextlib.contextmanager
def in_command_terms(layout: str | None):
    """Log-reading errors name the main command's ``dataset.*`` options: say them in an argparse command's terms
    (its ``--dataset`` layout, its ``--input``). ``layout``: the layout's name, or None for the one the error
    carries (``e.layout``, set where the layout was chosen: a model's own)."""
    from rfmlab.errors import RfmlabError

    try:
        yield
    except RfmlabError as e:
        layout = layout or getattr(e, "layout", None) or "training data"
        cols = rf"the {layout} layout's \1 column; --dataset NAME for another layout"
        msg = re.sub(r"dataset\.columns\.(\w+)", cols, str(e))
        msg = re.sub(
            r"dataset\.(date_format|encoding|separator)", rf"the \1 of the {layout} layout (conf/dataset/)", msg
        )
        msg = msg.replace("set dataset.path to an existing file", "give an existing --input")
        msg = re.sub(r"dataset\.(table|query)\b", r"--\1", msg.replace("dataset.uri=", "--input "))
        raise type(e)(msg) from e
