"""The ``rfmlab`` command line checked before Hydra runs: an unknown key or group option becomes one
``rfmlab: error:`` line with the nearest valid names and the valid choices (Hydra's own message is six lines
advising ``+key=...``, which would add the typo to the config)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from rfmlab.cli import CONF_DIR
from rfmlab.errors import ConfigError

SKIP_FLAGS = {"-h", "--help", "--hydra-help", "-i", "--info", "-c", "--cfg", "--shell-completion", "-sc"}
SWEEP_FUNCS = re.compile(r"^(range|choice|interval|glob|sort|shuffle|tag)\(")


def first_values(args: list[str]) -> list[str] | None:
    """The overrides of ``args`` with a sweep's first value (``k=a,b`` -> ``k=a``); None when Hydra only
    prints something (``--help``, ``--cfg``)."""
    if any(a in SKIP_FLAGS for a in args):
        return None
    out = []
    for a in args:
        if a.startswith("-") or "=" not in a:
            continue
        key, value = a.split("=", 1)
        if SWEEP_FUNCS.match(value):
            continue
        if not value.startswith(("[", "{", "'", '"')):
            value = value.split(",")[0]
        out.append(f"{key}={value}")
    return out


def _near(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (Path(CONF_DIR) / group).glob("*.yaml"))


def check(args: list[str]) -> None:
    """Compose the config as Hydra will; a composition error is raised as one ConfigError."""
    overrides = first_values(args)
    if not overrides:
        return
    _check_group_values(args)
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    try:
        _compose(overrides)
    except MissingConfigException as e:
        m = re.search(r"Could not (?:find|load) '([^/']+)/([^']+)'", str(e))
        if not m:
            raise ConfigError(str(e).strip().splitlines()[0]) from e
        group, opt = m.groups()
        valid = options(group)
        raise ConfigError(f"unknown {group} option {opt!r}{_near(opt, valid)}; choose one of {', '.join(valid)}") from e
    except ConfigCompositionException as e:
        m = re.search(r"Could not override '([^']+)'", str(e))
        if not m:
            raise ConfigError(f"bad override: {str(e).strip().splitlines()[0]}") from e
        if m.group(1).startswith("dataset.storage_options."):  # a mapping of free keys: each one is added
            raise ConfigError(f"a storage option is added with a +: +{m.group(1)}=VALUE") from e
        raise ConfigError(_unknown_key(m.group(1), [o for o in overrides if not o.startswith(m.group(1) + "=")])) from e
    except OverrideParseException as e:
        if any(a.startswith("dataset.filter=") and not a[15:].startswith(("'", '"')) for a in args):
            raise ConfigError(
                "quote dataset.filter's condition for the command line, e.g. "
                '"dataset.filter=\\"Country = \'United Kingdom\'\\""  (the outer quotes are the shell\'s)'
            ) from e
        raise ConfigError(f"cannot parse the command line: {str(e).strip().splitlines()[0]}; write key=value") from e


def _check_group_values(args: list[str]) -> None:
    """Every value of a group override, a sweep's (``algorithm=kmeans,hdbscn``) and a list's, is an option."""
    groups = {p.name for p in Path(CONF_DIR).iterdir() if p.is_dir()}
    for a in args:
        key, _, value = a.partition("=")
        group = key.lstrip("+~")
        if a.startswith("-") or not value or group not in groups or SWEEP_FUNCS.match(value):
            continue
        valid = options(group)
        for opt in (v.strip() for v in value.strip("[]").split(",")):
            if opt and opt not in valid:
                near = _near(opt, valid)
                raise ConfigError(f"unknown {group} option {opt!r}{near}; choose one of {', '.join(valid)}")


def _compose(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def _unknown_key(key: str, others: list[str]) -> str:
    """'unknown config key a.b.c (did you mean a.bb.c?); a has: ...' from the config the other overrides give."""
    from omegaconf import DictConfig

    try:
        node = _compose(others)
    except Exception:  # noqa: BLE001 - the others are broken too: name the key alone
        return f"unknown config key {key!r}; see rfmlab --help for the config"
    parts, path = key.lstrip("+~").split("."), []
    for part in parts:
        if not isinstance(node, DictConfig) or part not in node:
            keys = sorted(str(k) for k in node) if isinstance(node, DictConfig) else []
            where = ".".join(path) or "the config"
            groups = [g for g in ("dataset", "features", "algorithm", "search", "segments", "tracking")
                      if not path and g not in keys]  # fmt: skip
            near = _near(part, keys + groups)
            fixed = ".".join([*path, near.split("'")[1], *parts[len(path) + 1 :]]) if near else None
            hint = f" (did you mean {fixed}?)" if fixed else ""
            shown = ", ".join(keys[:15]) + (", ..." if len(keys) > 15 else "")
            return f"unknown config key {key!r}{hint}; {where} has: {shown}"
        node, path = node[part], [*path, part]
    return f"cannot override {key!r}; see rfmlab --help for the config"
