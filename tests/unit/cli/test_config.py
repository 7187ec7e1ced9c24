"""Every config option composes, and every composed config builds its objects (lightning-hydra-template style)."""

import itertools
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from rfmlab import cluster, jobs
from rfmlab.cli import CONF_DIR
from rfmlab.data import load
from rfmlab.features import transforms

GROUPS = {
    g: sorted(p.stem for p in (Path(CONF_DIR) / g).glob("*.yaml"))
    for g in ("dataset", "features", "algorithm", "search", "tracking", "segments")
}
EXPERIMENTS = sorted(p.stem for p in (Path(CONF_DIR) / "experiment").glob("*.yaml"))


def compose_cfg(overrides=()):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=False)
    return OmegaConf.to_container(cfg, resolve=True)


def test_groups_have_the_documented_options():
    assert set(GROUPS["dataset"]) == {
        "ecommerce",
        "stock_market",
        "online_retail",
        "online_retail_ii",
        "ecommerce_us",
        "transactions",
        "customers",
    }
    assert set(GROUPS["segments"]) == {"mean_split_8", "quartile", "rfm11", "four_tier", "value_risk"}
    assert GROUPS["features"] == ["log", "log_minmax", "log_standard", "minmax", "standard"]
    assert GROUPS["algorithm"] == ["agglomerative", "dbscan", "hdbscan", "kmeans"]
    assert "none" in GROUPS["search"]


@pytest.mark.parametrize(
    "dataset, feats, algorithm",
    list(itertools.product(GROUPS["dataset"], GROUPS["features"], GROUPS["algorithm"])),
)
def test_every_combination_composes_and_builds(dataset, feats, algorithm):
    cfg = compose_cfg([f"dataset={dataset}", f"features={feats}", f"algorithm={algorithm}"])
    assert cfg["dataset"]["name"] == dataset and cfg["features"]["name"] == feats
    load.DatasetSpec.from_dict(cfg["dataset"])
    transforms.build(cfg["features"]["transform"])
    cluster.make(cfg["algorithm"]["name"], params=jobs.Settings.from_config(cfg).algorithm.params, seed=cfg["seed"])
    assert cfg["tracking"]["experiment"] == cfg["dataset"]["name"]


def test_overrides_reach_the_objects():
    cfg = compose_cfg(
        ["algorithm=kmeans", "algorithm.params.n_clusters=9", "seed=3", "dataset.synthetic.n_customers=77"]
    )
    est = cluster.make("kmeans", params=jobs.Settings.from_config(cfg).algorithm.params, seed=cfg["seed"])
    assert est.n_clusters == 9 and est.random_state == 3
    assert cfg["dataset"]["synthetic"] == {"n_customers": 77, "seed": 3}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_with_its_question(name):
    text = (Path(CONF_DIR) / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_") and "Question:" in text
    cfg = compose_cfg([f"+experiment={name}"])
    assert cfg["study"]["name"] == name
    for algo in ("kmeans", "dbscan", "agglomerative", "hdbscan"):
        c = compose_cfg([f"+experiment={name}", f"algorithm={algo}"])
        cluster.make(algo, params=jobs.Settings.from_config(c).algorithm.params, seed=c["seed"])


def test_stock_market_seed_study_pins_the_seed_parameters():
    cfg = compose_cfg(["+experiment=stock_market_seed"])
    assert cfg["dataset"]["name"] == "stock_market" and cfg["features"]["transform"] == ["standard"]
    assert jobs.Settings.from_config(cfg).algorithm.params["n_clusters"] == 5
    cfg = compose_cfg(["+experiment=stock_market_seed", "algorithm=dbscan"])
    assert jobs.Settings.from_config(cfg).algorithm.params == {"eps": 0.2, "min_samples": 5}


def test_a_filter_and_storage_options_on_the_command_line():
    """A filter with spaces needs Hydra's quotes, a storage option a +: both said in one line; quoted and added,
    they reach the dataset spec (values as text)."""
    from rfmlab.cli import overrides
    from rfmlab.errors import ConfigError
    from rfmlab.jobs import Settings

    with pytest.raises(ConfigError, match="quote dataset.filter's condition"):
        overrides.check(["dataset.filter=Country = 'France'"])
    with pytest.raises(ConfigError, match=r"added with a \+: \+dataset.storage_options.aws_region=VALUE"):
        overrides.check(["dataset.storage_options.aws_region=eu-west-1"])
    ok = ["dataset.filter=\"Country = 'France'\"", "+dataset.storage_options.aws_allow_http=true"]
    overrides.check(ok)
    spec = Settings.from_config(compose_cfg(ok)).dataset
    assert spec.filter == "Country = 'France'" and spec.storage_options == {"aws_allow_http": "true"}
