"""Write ``reference/configuration.md``: every YAML under ``conf/`` as tables of key, default and description.

Run by the mkdocs-gen-files plugin on every ``mkdocs build`` / ``mkdocs serve`` (see ``mkdocs.yml``), so the page
always matches ``conf/``. Standalone, it prints the page:
``python docs/gen_config_reference.py > /tmp/configuration.md``.

How a file is read:

- keys, their order and their values come from PyYAML's node tree (``yaml.compose``), which also gives each node's
  line and column in the file; a default is shown as written (``${seed}``, ``???``, ``"%m/%d/%Y %H:%M"``);
- a key's description is the ``# comment`` at the end of its line, after any comment lines directly above the key;
- the comment lines at the top of a file (before its first key) are the file's own header, shown as text;
- ``# @package _global_`` (the named studies in ``experiments/``) puts keys at the top level; any other file of a
  group ``G`` is mounted under ``G.``, as Hydra does.

(Line and column marks make a separate comment parser such as ruamel.yaml unnecessary: the comment is whatever
follows the value on the value's own line.)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"
PAGE = "reference/configuration.md"

# how each group is selected on the command line (experiment is added with +, not chosen from a default)
SELECT = {"experiment": "+experiment={name}"}


# ---------------------------------------------------------------------------------------------- reading a file


class Doc:
    """One YAML file: its lines, its node tree, its header comment and its package."""

    def __init__(self, path: Path):
        self.path = path
        self.text = path.read_text(encoding="utf-8")
        self.lines = self.text.splitlines()
        self.root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        first = self.root.start_mark.line if self.root is not None else len(self.lines)
        head = [ln for ln in self.lines[:first] if ln.strip()]
        self.package = None
        header = []
        for ln in head:
            m = re.match(r"#\s*@package\s+(\S+)", ln.strip())
            if m:
                self.package = m.group(1)
            elif ln.lstrip().startswith("#"):
                header.append(re.sub(r"^\s*# ?", "", ln))
        self.header = "\n".join(header).rstrip()

    def comment_after(self, line: int, col: int) -> str:
        """The ``# comment`` on ``line`` after column ``col`` (past a value, a key's colon, a list dash)."""
        rest = self.lines[line][col:] if line < len(self.lines) else ""
        m = re.match(r"\s*:?\s*(#\s?(.*))?$", rest)
        if m and m.group(1):
            return m.group(2).strip()
        m = re.search(r"(^|\s)#\s?(.*)$", rest)
        return m.group(2).strip() if m else ""

    def comments_above(self, line: int) -> str:
        """Comment lines directly above ``line`` (stopping at a blank or code line), after the file header."""
        out = []
        i = line - 1
        first = self.root.start_mark.line if self.root is not None else 0
        while i > first - 1 and i >= 0:
            s = self.lines[i].strip()
            if not s.startswith("#"):
                break
            out.append(re.sub(r"^#\s?", "", s))
            i -= 1
        return " ".join(reversed(out)).strip()

    def raw(self, node) -> str:
        """A value as written in the file (one line), or rebuilt in flow style when it spans lines."""
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                n = len(str(node.value).rstrip("\n").splitlines())
                return f"(text block, {n} lines)"
            if node.start_mark.line == node.end_mark.line:
                return self.text[node.start_mark.index : node.end_mark.index]
            return " ".join(str(node.value).split())
        if node.start_mark.line == node.end_mark.line or getattr(node, "flow_style", False):
            return " ".join(self.text[node.start_mark.index : node.end_mark.index].split())
        if isinstance(node, yaml.SequenceNode):
            return "[" + ", ".join(self.raw(v) for v in node.value) + "]"
        return "{" + ", ".join(f"{self.raw(k)}: {self.raw(v)}" for k, v in node.value) + "}"


def is_leaf(node) -> bool:
    """A row of its own: scalars, flow collections, lists of scalars."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return True
    if isinstance(node, yaml.SequenceNode):
        return all(isinstance(v, yaml.ScalarNode) for v in node.value)
    return False


def rows(doc: Doc, node, prefix: str):
    """(key, default, description) for every option below ``node``, in file order."""
    for knode, vnode in node.value:
        key = f"{prefix}{knode.value}"
        line = knode.start_mark.line
        above = doc.comments_above(line)
        if is_leaf(vnode):
            same_line = vnode.end_mark.line == line or (
                isinstance(vnode, yaml.ScalarNode) and vnode.start_mark.line == line and vnode.style not in ("|", ">")
            )
            after = doc.comment_after(line, vnode.end_mark.column if same_line else knode.end_mark.column)
            yield key, doc.raw(vnode), " ".join(x for x in (above, after) if x)
        elif isinstance(vnode, yaml.MappingNode):
            after = doc.comment_after(line, knode.end_mark.column)
            note = " ".join(x for x in (above, after) if x)
            if note:  # a section with its own comment gets a row; its keys follow
                yield key, "", note
            yield from rows(doc, vnode, key + ".")
        else:  # a block list of mappings (a scheme's rules): one row per item
            after = doc.comment_after(line, knode.end_mark.column)
            note = " ".join(x for x in (above, after) if x)
            for i, item in enumerate(vnode.value):
                item_note = doc.comment_after(item.end_mark.line, item.end_mark.column)
                desc = " ".join(x for x in ((note if i == 0 else ""), item_note) if x)
                yield f"{key}[{i}]", doc.raw(item), desc


def defaults_list(doc: Doc) -> tuple[list[tuple[str, str, str]], object]:
    """The Hydra defaults list as (entry, option, comment), and the tree without it."""
    if doc.root is None or not isinstance(doc.root, yaml.MappingNode):
        return [], doc.root
    entries, rest = [], []
    for knode, vnode in doc.root.value:
        if knode.value != "defaults":
            rest.append((knode, vnode))
            continue
        for item in vnode.value:
            note = doc.comment_after(item.end_mark.line, item.end_mark.column)
            if isinstance(item, yaml.ScalarNode):
                entries.append((item.value, "", note))
            else:
                for k, v in item.value:
                    entries.append((k.value, doc.raw(v), note))
    tree = yaml.MappingNode(doc.root.tag, rest, flow_style=False)
    tree.start_mark, tree.end_mark = doc.root.start_mark, doc.root.end_mark
    return entries, tree


# ---------------------------------------------------------------------------------------------- writing markdown


def cell(text: str) -> str:
    """Table-cell text: HTML-sensitive characters escaped outside `code spans`, pipes escaped everywhere."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            out.append(p)
        else:
            out.append(p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", r"\*"))
    return "".join(out).replace("|", r"\|")


def code(value: str) -> str:
    if value == "":
        return "*(section)*"
    tick = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return (f"{tick}{pad}{value}{pad}{tick}").replace("|", r"\|")


def table(doc: Doc, tree) -> list[str]:
    out = ["| key | default | description |", "|---|---|---|"]
    prefix = ""
    group = doc.path.parent.name
    if doc.path.parent != CONF and doc.package != "_global_":
        prefix = f"{doc.package or group}."
    n = 0
    for key, default, desc in rows(doc, tree, prefix) if tree is not None else ():
        out.append(f"| `{key}` | {code(default)} | {cell(desc)} |")
        n += 1
    return out if n else ["*(no options: selecting it is the setting)*"]


def header_block(doc: Doc) -> list[str]:
    if not doc.header:
        return []
    return ["```text", doc.header, "```", ""]


def rel(path: Path) -> str:
    """A path as the user sees it: conf/experiment/x.yaml stays under conf/ (the link to experiments/)."""
    return str(path.relative_to(ROOT))


def render() -> str:
    main = Doc(CONF / "config.yaml")
    main_defaults, main_tree = defaults_list(main)
    chosen = {}
    for entry, option, _ in main_defaults:
        chosen[entry] = option

    groups = sorted(p.name for p in CONF.iterdir() if p.is_dir())  # conf/experiment is a link: is_dir follows it
    order = [g for g, _, _ in main_defaults if g in groups] + [g for g in groups if g not in chosen]

    out = [
        "# Configuration reference",
        "",
        '!!! note "Generated page"',
        "    Written on every docs build by `docs/gen_config_reference.py` from the YAML files under `conf/`",
        "    (`conf/experiment` is a link to `experiments/`). To change a description, edit the `# comment`",
        "    beside the key in the YAML file, not this page.",
        "",
        "`rfmlab` composes its configuration with Hydra: the main config `conf/config.yaml` picks one option per",
        "group (its defaults list), and every key can be overridden on the command line as `key=value`",
        "(`search.n_trials=20`). A group is switched with `group=option` (`algorithm=hdbscan`). Defaults are shown",
        "as written in the files: `null` is empty, `???` must be given, `${...}` is an interpolation",
        "(`${seed}` is the top-level `seed`).",
        "",
        "| group | select with | options (default in bold) |",
        "|---|---|---|",
    ]
    for g in order:
        opts = sorted(p.stem for p in (CONF / g).glob("*.yaml"))
        dflt = chosen.get(g, "")
        dset = {s.strip() for s in dflt.strip("[]").split(",")} if dflt else set()
        links = ", ".join((f"[**{o}**](#{g}-{o})" if o in dset else f"[{o}](#{g}-{o})") for o in opts)
        sel = SELECT.get(g, f"{g}={{name}}").format(name="NAME")
        out.append(f"| [`{g}`](#group-{g}) | `{sel}` | {links} |")
    out += ["", f"## Main config: `{rel(main.path)}` {{#main-config}}", ""]
    out += header_block(main)
    out += ["Defaults list (one option per group, then this file's own keys):", ""]
    out += ["| group | default option | note |", "|---|---|---|"]
    out += [f"| `{e}` | {code(o) if o else ''} | {cell(n)} |" for e, o, n in main_defaults]
    out += ["", "Top-level keys:", ""]
    out += table(main, main_tree)
    out.append("")

    for g in order:
        files = sorted((CONF / g).glob("*.yaml"))
        sel = SELECT.get(g, f"{g}={{name}}").format(name="NAME")
        where = f"conf/{g}/" + (" (a link to `experiments/`)" if (CONF / g).is_symlink() else "")
        out += [f"## Group `{g}` {{#group-{g}}}", "", f"Selected with `{sel}`; one file per option in `{where}`."]
        if g in chosen:
            out.append(f"Default: `{chosen[g]}`.")
        if g == "experiment":
            out.append("Each file starts with `# @package _global_`: its keys are top-level keys, and its defaults "
                       "list overrides the main config's choices.")  # fmt: skip
        out.append("")
        for f in files:
            doc = Doc(f)
            defaults, tree = defaults_list(doc)
            out += [f"### `{g}={f.stem}` {{#{g}-{f.stem}}}", "", f"File: `{rel(f)}`", ""]
            out += header_block(doc)
            if defaults:
                out += ["Defaults list:", "", "| entry | option |", "|---|---|"]
                out += [f"| `{e}` | {code(o) if o else ''} |" for e, o, _ in defaults]
                out.append("")
            out += table(doc, tree)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
else:  # run by mkdocs-gen-files during a build
    import mkdocs_gen_files

    with mkdocs_gen_files.open(PAGE, "w") as fh:
        fh.write(render())
    mkdocs_gen_files.set_edit_path(PAGE, "gen_config_reference.py")
