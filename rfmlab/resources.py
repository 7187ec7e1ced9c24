"""Files that ship inside the package: the config tree ``conf/`` (Hydra's primary config directory).

In a clone, ``rfmlab/conf`` is a link to the repository's top-level ``conf/`` (the one place users edit); a built
wheel carries the files themselves, so an installed rfmlab composes its configs from anywhere.
"""

from __future__ import annotations

from pathlib import Path

CONF_DIR = str(Path(__file__).resolve().parent / "conf")


def group_config(group: str, name: str, *, refusal: str) -> dict:
    """``conf/GROUP/NAME.yaml`` read as YAML (no Hydra); a missing one is a ConfigError: ``refusal`` followed by the
    group's valid names."""
    import yaml

    from rfmlab.errors import ConfigError

    folder = Path(CONF_DIR) / group
    path = folder / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ConfigError(f"{refusal}; use one of {valid} (conf/{group}/)")
    return yaml.safe_load(path.read_text()) or {}


def scheme_config(name: str, option: str) -> dict:
    """The body of rule scheme ``name`` (``conf/segments/NAME.yaml``); ``option`` names where the user gave it."""
    body = group_config("segments", name, refusal=f"{option}={name!r} is not a scheme")
    return body.get(name) or {}


def dataset_config(name: str, *, seed: int = 42) -> dict:
    """The ``dataset`` group's config ``name`` (``conf/dataset/NAME.yaml``) as a plain dict, for the Python API
    (no Hydra): ``${seed}`` is ``seed`` (the main config's default, 42); ``???`` (required) values stay ``None``."""

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if v == "${seed}":
            return seed
        return None if v == "???" else v

    return plain(group_config("dataset", name, refusal=f"unknown dataset {name!r}"))


def algorithm_config(name: str) -> dict:
    """``conf/algorithm/NAME.yaml`` as a plain dict (its default ``params``), for the Python API."""
    return group_config("algorithm", name, refusal=f"unknown algorithm {name!r}")
