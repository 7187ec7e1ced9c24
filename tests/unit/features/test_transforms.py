import numpy as np
import pytest

from rfmlab.errors import ConfigError, DataError
from rfmlab.features import transforms

X = np.array([[1.0, 1, 10], [30, 5, 500], [200, 2, 40], [365, 40, 20000]])


def test_minmax_range_and_reuse_on_new_customers():
    pipe, Z = transforms.fit_transform(["minmax"], X=X)
    assert Z.min(0) == pytest.approx([0, 0, 0]) and Z.max(0) == pytest.approx([1, 1, 1])
    new = pipe.transform(np.array([[1.0, 1, 10], [730, 80, 40000]]))
    assert new[0] == pytest.approx([0, 0, 0])  # the fitted min, not the new data's
    assert new[1][0] > 1  # beyond the training range: scaled with the training fit


def test_standard_and_log_chain():
    _, Z = transforms.fit_transform(["standard"], X=X)
    assert Z.mean(0) == pytest.approx([0, 0, 0], abs=1e-12) and Z.std(0) == pytest.approx([1, 1, 1])
    pipe, Z = transforms.fit_transform(["log", "standard"], X=X)
    L = np.log1p(X)
    assert Z == pytest.approx((L - L.mean(0)) / L.std(0))
    assert pipe.transform(X[:1]) == pytest.approx(Z[:1])
    _, Z = transforms.fit_transform(["log", "minmax"], X=X)
    assert Z.min() == pytest.approx(0) and Z.max() == pytest.approx(1)
    assert transforms.fit_transform("log", X=X)[1] == pytest.approx(np.log1p(X))


def test_bad_transforms():
    with pytest.raises(ConfigError, match="unknown transform"):
        transforms.build(["log", "sqrt"])
    with pytest.raises(DataError, match="log transform needs values >= 0"):
        transforms.fit_transform(["log"], X=-X)
