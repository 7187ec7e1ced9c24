"""Write ``reference/commands.md``: each console script's ``--help``, run from this checkout.

Run by the mkdocs-gen-files plugin on every docs build (see ``mkdocs.yml``); standalone it prints the page:
``python docs/gen_commands.py > /tmp/commands.md``. Each command is run as ``python -m <module> --help`` with this
checkout first on ``PYTHONPATH`` and a fixed terminal width, so the page shows the options of the code being
documented. A command that fails to print its help stops the build with its error output.

The argparse commands import only the standard library and rich before printing their help; ``rfmlab --help``
(the Hydra app) needs hydra-core: both come with ``pip install -e .``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "reference/commands.md"

# console script -> (module run with -m, one line on what it is for, guide page relative to reference/)
COMMANDS = [
    ("rfmlab-compare", "rfmlab.cli.compare", "runs side by side: a leaderboard and pairwise ARI, logged as a run",
     "../guides/promote-score-serve.md#compare-runs"),
    ("rfmlab-promote", "rfmlab.cli.promote", "register a run's model and point an alias at it",
     "../guides/promote-score-serve.md#promote-a-model"),
    ("rfmlab-score", "rfmlab.cli.score", "segment new customers (a customer table or a transaction log)",
     "../guides/promote-score-serve.md#score-new-customers"),
    ("rfmlab-rerun", "rfmlab.cli.rerun", "run a recorded run again and compare the two",
     "run-record.md#re-running-a-run"),
    ("rfmlab-timeline", "rfmlab.cli.timeline", "segments over time in one MLflow run (alias: `rfmlab-track`)",
     "../guides/over-time.md"),
    ("rfmlab-report", "rfmlab.cli.report", "a run's report page for marketing (self-contained HTML; --pdf)",
     "../guides/report.md"),
]  # fmt: skip


def help_text(module: str, *args: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["COLUMNS"] = "100"
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`python -m {module} {' '.join(args)}` exited {proc.returncode} while generating {PAGE}:\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout.rstrip()


def main_help() -> tuple[str, str]:
    """``rfmlab --help`` without its trailing config dump, and the flag list of ``rfmlab --hydra-help``."""
    text = help_text("rfmlab.cli", "--help")
    head, sep, _ = text.partition("== Config ==")
    app = head.rstrip() + (
        "\n\n== Config ==  (the composed config follows; see the configuration reference)" if sep else ""
    )
    hydra = help_text("rfmlab.cli", "--hydra-help")
    flags, keep = [], False
    for line in hydra.splitlines():
        if line.startswith("== Flags =="):
            keep = True
            continue
        if keep and line.startswith("== "):
            break
        # the shell-completion recipe names this machine's paths: keep the flag lines and their wrapped text only
        if keep and (line.startswith("--") or line.startswith("Overrides") or re.match(r"^\s{8,}\S", line)):
            flags.append(line)
    return app, "\n".join(flags)


def fence(text: str) -> list[str]:
    return ["```text", text, "```", ""]


def render() -> str:
    app, flags = main_help()
    out = [
        "# Commands",
        "",
        '!!! note "Generated page"',
        "    Written on every docs build by `docs/gen_commands.py`, which runs each command's `--help` from this",
        "    checkout. To change an option's text, change the command's parser in `rfmlab/cli/`.",
        "",
        "Every command prints a user error (a bad option, a missing file, an unknown run) as one line",
        "`rfmlab: error: ...` and exits with code 2; `RFMLAB_DEBUG=1` shows the traceback.",
        "The commands that read or write runs take `--tracking-uri` and otherwise honour `MLFLOW_TRACKING_URI`.",
        "",
        "| command | what it does |",
        "|---|---|",
        "| [`rfmlab`](#rfmlab) | the main job: one run or an Optuna search, or a sweep with `-m` "
        "([getting started](../getting-started.md)) |",
    ]
    for name, _, what, guide in COMMANDS:
        out.append(f"| [`{name}`](#{name}) | {what} ([guide]({guide})) |")
    out += [
        "",
        "## rfmlab {#rfmlab}",
        "",
        "The Hydra app (`python -m rfmlab.cli` is the same). Its arguments are Hydra overrides: `group=option`",
        "switches a config group, `key=value` sets any key of the [configuration](configuration.md),",
        "`+experiment=NAME` adds a [named study](../guides/searching.md#named-studies), and `-m` runs every",
        "combination of comma-separated values as its own job (a [sweep](../guides/searching.md#sweeps)).",
        "Overrides are checked before Hydra runs: an unknown key or option is refused in one line with the",
        "nearest valid name.",
        "",
        "`rfmlab --help`:",
        "",
    ]
    out += fence(app)
    out += ["Hydra's own flags (`rfmlab --hydra-help`):", ""]
    out += fence(flags)
    for name, module, _, guide in COMMANDS:
        out += [f"## {name} {{#{name}}}", ""]
        if name == "rfmlab-timeline":
            out += [
                "Formerly `rfmlab-track`: that name is still installed for one release, runs the same command and",
                "prints a note that it is now `rfmlab-timeline`.",
                "",
            ]
        out += [f"`{name} --help` ([guide]({guide})):", ""]
        out += fence(help_text(module, "--help"))
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
else:  # run by mkdocs-gen-files during a build
    import mkdocs_gen_files

    with mkdocs_gen_files.open(PAGE, "w") as fh:
        fh.write(render())
    mkdocs_gen_files.set_edit_path(PAGE, "gen_commands.py")
