"""Fixtures: the shared real data, a fresh MLflow store, a composed config, a small prepared dataset."""

import os
from pathlib import Path

import pytest
from helpers import shared_data_dir


@pytest.fixture(autouse=True)
def _mlflow_uris_restored():
    """MLflow's set_tracking_uri / set_registry_uri (called in-process by rfmlab.promote, rfmlab.score...) write
    MLFLOW_TRACKING_URI / MLFLOW_REGISTRY_URI into the environment; a later test in the same worker, and the
    commands it starts, would look for models in that store. Each test gets the environment back."""
    keys = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
    saved = {k: os.environ.get(k) for k in keys}
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is absent (set RFMLAB_SHARED_DATA)")
    return path


@pytest.fixture
def store(tmp_path) -> str:
    """A fresh SQLite MLflow store in a temporary directory."""
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture(scope="session")
def composed_config():
    """``compose(overrides)``: the resolved config of ``conf/`` with command-line overrides, as a plain dict (what
    the ``rfmlab`` command hands to ``jobs.Settings.from_config``)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from rfmlab.resources import CONF_DIR

    def make(overrides: list[str]) -> dict:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = compose("config", overrides=list(overrides))
        plain = OmegaConf.to_container(cfg, resolve=True)
        plain.pop("hydra", None)
        return plain

    return make


@pytest.fixture(scope="session")
def small_prepared(composed_config):
    """The embedded e-commerce data, 600 customers, prepared as the default config does (log then standard, every
    rule scheme, rfm11 naming, 20 stability resamples)."""
    from rfmlab import pipeline
    from rfmlab.jobs import Settings

    s = Settings.from_config(composed_config(["dataset.synthetic.n_customers=600", "seed=7"]))
    return pipeline.prepare(s.dataset, features=s.features, segments=s.segments, evaluation=s.evaluation, seed=s.seed)
