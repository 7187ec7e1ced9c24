"""The house rules, checked: import contracts (pyproject.toml [tool.importlinter]), module and function sizes, no
private name imported across packages, keyword-only options."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "rfmlab"
MAX_MODULE_LINES, MAX_FUNCTION_LINES, MAX_POSITIONAL = 400, 60, 3


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "conf" not in p.relative_to(PACKAGE).parts)


def test_import_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    res = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "5 kept, 0 broken" in res.stdout


def test_no_module_over_400_lines_and_no_function_over_60():
    long_modules, long_functions = [], []
    for path in modules():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(str(path.relative_to(ROOT)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({n} lines)")
    assert long_modules == [] and long_functions == []


def _owner(module: str) -> str:
    """The package a private module or name belongs to: the part of the path before its first private part."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_"):
            return ".".join(parts[:i])
    return module


def test_no_private_name_is_imported_from_another_package():
    """``from rfmlab.x._mod import y`` or ``from rfmlab.x.mod import _y`` only inside the package that owns it."""
    found = []
    for path in modules():
        rel = path.relative_to(ROOT).with_suffix("")
        here = ".".join(rel.parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rfmlab")):
                continue
            names = [a.name for a in node.names]
            if any(n.startswith("_") for n in names):
                owner = (
                    node.module.rsplit(".", 1)[0]
                    if not (PACKAGE.parent / node.module.replace(".", "/")).is_dir()
                    else node.module
                )
                owner = _owner(owner)
            elif "._" in node.module:
                owner = _owner(node.module)
            else:
                continue
            if here != owner and not here.startswith(owner + "."):
                found.append(f"{rel}: from {node.module} import {', '.join(names)}")
    assert found == []


def test_public_functions_take_options_by_keyword():
    """After the data they work on, public functions and constructors take their options by keyword: at most
    three positional parameters (two or three only where each is data, e.g. ``transitions(before, after)``)."""
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef) or (node.name.startswith("_") and node.name != "__init__"):
                continue
            pos = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
            if len(pos) > MAX_POSITIONAL:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}({', '.join(pos)})")
    assert found == []
