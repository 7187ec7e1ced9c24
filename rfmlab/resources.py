"""Files that ship inside the package: the config tree ``conf/`` (Hydra's primary config directory).

In a clone, ``rfmlab/conf`` is a link to the repository's top-level ``conf/`` (the one place users edit); a built
wheel carries the files themselves, so an installed rfmlab composes its configs from anywhere.
"""

from __future__ import annotations

from pathlib import Path

CONF_DIR = str(Path(__file__).resolve().parent / "conf")


def scheme_config(name: str, option: str) -> dict:
    """The body of rule scheme ``name`` (``conf/segments/NAME.yaml``); ``option`` names where the user gave it."""
    import yaml

    from rfmlab.errors import ConfigError

    folder = Path(CONF_DIR) / "segments"
    path = folder / f"{name}.yaml"
    if not path.exists():
        valid = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ConfigError(f"{option}={name!r} is not a scheme; use one of {valid} (conf/segments/)")
    return (yaml.safe_load(path.read_text()) or {}).get(name) or {}


def dataset_config(name: str, *, seed: int = 42) -> dict:
    """The ``dataset`` group's config ``name`` (``conf/dataset/NAME.yaml``) as a plain dict, for the Python API
    (no Hydra): ``${seed}`` is ``seed`` (the main config's default, 42); ``???`` (required) values stay ``None``."""
    import yaml

    from rfmlab.errors import ConfigError

    folder = Path(CONF_DIR) / "dataset"
    path = folder / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ConfigError(f"unknown dataset {name!r}; use one of {valid} (conf/dataset/)")

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if v == "${seed}":
            return seed
        return None if v == "???" else v

    return plain(yaml.safe_load(path.read_text()) or {})


def algorithm_config(name: str) -> dict:
    """``conf/algorithm/NAME.yaml`` as a plain dict (its default ``params``), for the Python API."""
    import yaml

    from rfmlab.errors import ConfigError

    folder = Path(CONF_DIR) / "algorithm"
    path = folder / f"{name}.yaml"
    if not path.is_file():
        valid = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise ConfigError(f"unknown algorithm {name!r}; use one of {valid}")
    return yaml.safe_load(path.read_text()) or {}
