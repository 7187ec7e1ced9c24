"""The resolved config parsed once into each stage's typed section (jobs.settings.Settings)."""

import pytest

from rfmlab.cluster import AlgorithmSpec
from rfmlab.data.spec import DatasetSpec
from rfmlab.errors import ConfigError
from rfmlab.evaluate import EvaluationSpec, StabilitySpec
from rfmlab.features import FeatureSpec
from rfmlab.jobs import Settings
from rfmlab.search import SearchSpec
from rfmlab.segments import Scheme


def test_every_section_becomes_its_stages_typed_object(composed_config):
    s = Settings.from_config(composed_config(["algorithm=dbscan", "features=log", "evaluation.sample_size=500"]))
    assert isinstance(s.dataset, DatasetSpec) and s.dataset.name == "ecommerce"
    assert isinstance(s.features, FeatureSpec) and s.features.transform == ["log"]
    assert isinstance(s.algorithm, AlgorithmSpec) and s.algorithm.name == "dbscan"
    assert s.algorithm.params == {"eps": 0.3, "min_samples": 10} and s.algorithm.max_exact == 50_000
    assert isinstance(s.evaluation, EvaluationSpec) and s.evaluation.sample_size == 500
    assert isinstance(s.evaluation.stability, StabilitySpec) and s.evaluation.stability.n_resamples == 20
    assert isinstance(s.search, SearchSpec) and s.search.metric == "silhouette" and s.search_mode == "optuna"
    assert s.segments.naming == "rfm11" and isinstance(s.segments.namer, Scheme)
    assert sorted(s.segments.schemes) == ["four_tier", "mean_split_8", "quartile", "rfm11", "value_risk"]
    assert s.experiment == "ecommerce" and s.seed == 42


def test_search_none_has_no_search_section(composed_config):
    s = Settings.from_config(composed_config(["search=none"]))
    assert s.search is None and s.search_mode == "none"


def test_a_study_pin_lands_on_the_algorithms_params(composed_config):
    cfg = composed_config(["algorithm=kmeans", "+study.params.kmeans.n_clusters=7", "+study.params.dbscan.eps=0.1"])
    assert Settings.from_config(cfg).algorithm.params["n_clusters"] == 7


def test_a_naming_scheme_outside_the_selection_is_read_from_conf(composed_config):
    s = Settings.from_config(composed_config(["segments=quartile"]))
    assert list(s.segments.schemes) == ["quartile"]
    assert s.segments.naming == "rfm11" and s.segments.namer.name == "rfm11"


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ("features", "colums", "unknown features option(s) ['colums']"),
        ("tracking", "urii", "unknown tracking option(s) ['urii']"),
        ("plots", "max_pts", "unknown plots option(s) ['max_pts']"),
        ("evaluation", "samples", "unknown evaluation option(s) ['samples']"),
        ("algorithm", "parms", "unknown algorithm option(s) ['parms']"),
    ],
)
def test_a_wrong_key_is_refused_naming_its_section(composed_config, section, key, words):
    cfg = composed_config([])
    cfg[section] = {**(cfg.get(section) or {}), key: 1}
    with pytest.raises(ConfigError) as e:
        Settings.from_config(cfg)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_bad_values_are_refused_before_any_data_is_read(composed_config):
    cfg = composed_config(["features.columns=[recency,spend]"])
    with pytest.raises(ConfigError, match=r"unknown feature column\(s\) \['spend'\]"):
        Settings.from_config(cfg)
    cfg = composed_config([])
    cfg["search"]["name"] = "grid"
    with pytest.raises(ConfigError, match="search='grid' is not a search mode"):
        Settings.from_config(cfg)
