"""rfmlab against the packages that define its statistics (issue 21): R's fpc::clusterboot, cluster::clusGap and
Python's kneed, stored in tests/reference/values/ (settings and caveats: tests/reference/README.md).

Sampling error. clusterboot's per-cluster stability is a mean over B=100 resamples; rfmlab's here too, with other
random draws. The two means differ by sampling error with standard error sqrt(2) * sd / sqrt(100), sd the
per-resample Jaccard's standard deviation (estimated from rfmlab's resamples; R stores only the mean); a cluster
agrees when the difference is within 4 such standard errors (floor 0.003, for clusters whose Jaccard hardly
varies). The gap: E.logW is a mean over B=50 reference sets, so two implementations differ by sqrt(2/50) * sd,
sd ~ SE.sim / sqrt(1 + 1/50); the same 4-standard-error rule. k-means' own W_k (logW + log 2 = log WSS) must
agree closely (the same optimum: 0.2%).
"""

import json
import math

import numpy as np
import polars as pl
import pytest
from helpers import ROOT

from rfmlab import cluster, evaluate

REF = ROOT / "tests" / "reference"


def inputs(name: str) -> np.ndarray:
    return pl.read_csv(REF / "inputs" / f"{name}.csv").to_numpy()


def values(name: str) -> dict:
    return json.loads((REF / "values" / f"{name}.json").read_text())


def within_sampling_error(ours: evaluate.Stability, r_sizes: list[int], r_mean: list[float]) -> None:
    """Clusters paired by size (the full-data solutions are the same partition; R stores no labels), clusters of
    equal size by their stability (nothing else tells them apart), then each pair's means compared."""
    r_sizes, r_mean = np.asarray(r_sizes), np.asarray(r_mean)
    mine, theirs = np.lexsort((ours.per_cluster, ours.sizes)), np.lexsort((r_mean, r_sizes))
    assert np.abs(ours.sizes[mine] - r_sizes[theirs]).max() <= 0.01 * r_sizes.sum()
    mean, sd = ours.per_cluster[mine], ours.jaccard.std(axis=0, ddof=1)[mine]
    tol = np.maximum(4 * math.sqrt(2) * sd / math.sqrt(len(ours.jaccard)), 0.003)
    assert np.all(np.abs(mean - r_mean[theirs]) <= tol), (mean.round(4), r_mean[theirs].round(4), tol.round(4))


def stability(X, algorithm, params, *, method="bootstrap", count_params="fixed", seed=123):
    _, labels = cluster.fit_predict(algorithm, params, X, seed=seed)
    refit = cluster.refitter(algorithm, params=params, seed=seed, n_fitted=len(X), count_params=count_params)
    return evaluate.clusterwise(X, labels=labels, refit=refit, n_resamples=100, seed=seed, method=method)


def test_dbscan_stability_with_fixed_count_params_is_clusterboots():
    ref = values("clusterboot_dbscan")["results"]["uci_customers"]
    X = inputs("uci_customers")
    params = {"eps": 0.3, "min_samples": 10}  # sklearn's min_samples counts the point itself, as fpc's MinPts
    fixed = stability(X, "dbscan", params)
    noise = ref["noise_entry"] - 1  # fpc's dbscanCBI puts noise last as its own "cluster"; rfmlab leaves it out
    r_sizes = [s for i, s in enumerate(ref["sizes"]) if i != noise]
    r_mean = [m for i, m in enumerate(ref["bootmean"]) if i != noise]
    assert fixed.sizes.tolist() == r_sizes  # the same clusters, in the same order
    within_sampling_error(fixed, r_sizes, r_mean)
    assert (fixed.dissolved == 0).all() and ref["bootbrd"][:noise] == [0] * noise
    scaled = stability(X, "dbscan", params, count_params="scaled")  # rfmlab's variant reads higher
    assert scaled.per_cluster[0] - fixed.per_cluster[0] > 0.05


@pytest.mark.slow
@pytest.mark.parametrize(
    "data,file,method",
    [
        ("uci_customers", "clusterboot_kmeans", "bootstrap"),
        ("blobs", "clusterboot_kmeans", "bootstrap"),
        ("uci_customers", "clusterboot_kmeans_subset", "subsample"),
    ],
)
def test_kmeans_clusterwise_stability_is_clusterboots(data, file, method):
    X = inputs(data)
    for row in values(file)["results"][data]["by_k"]:
        ours = stability(X, "kmeans", {"n_clusters": row["k"], "n_init": 10}, method=method)
        within_sampling_error(ours, row["sizes"], row["bootmean"])


def gap_of(name: str):
    ref = values("clusgap")["results"][name]
    ours = evaluate.gap_table(
        inputs(name), algorithm="kmeans", params={"n_init": 10}, k_max=ref["K.max"], seed=123, n_refs=50
    )
    return ref, ours


def check_gap(ref: dict, ours: pl.DataFrame) -> None:
    """The references' mean E.logW within sampling error; the gap within sampling error plus the difference in the
    data's log W_k (clusGap's logW + log 2), which is k-means' optimiser's, not the statistic's: R's Hartigan-Wong
    and sklearn's Lloyd can stop in different local optima once k exceeds the real clusters (either one lower;
    where they agree, ``same_optimum``, log W_k must be equal)."""
    assert ours["k"].to_list() == ref["k"]
    tol = 4 * math.sqrt(2 / 50) * np.asarray(ref["SE.sim"]) / math.sqrt(1 + 1 / 50)
    optimiser = np.abs(np.asarray(ref["logW"]) + math.log(2) - ours["log_w"].to_numpy())
    assert np.all(np.abs(ours["e_log_w"].to_numpy() - np.asarray(ref["E.logW"]) - math.log(2)) <= tol)
    assert np.all(np.abs(ours["gap"].to_numpy() - np.asarray(ref["gap"])) <= tol + optimiser)
    assert ours["gap_se"].to_numpy() == pytest.approx(ref["SE.sim"], rel=0.35)  # an sd from 50 draws: +-10% se
    ks, gap, se = ref["k"], ours["gap"].to_numpy(), ours["gap_se"].to_numpy()
    assert evaluate.gap_pick(ks, gap, se) == ref["pick_Tibs2001SEmax"]
    assert evaluate.gap_pick(ks, ref["gap"], ref["SE.sim"]) == ref["pick_Tibs2001SEmax"]  # the rule itself


def same_log_w(ref: dict, ours: pl.DataFrame, ks: list[int]) -> None:
    r_log_w = dict(zip(ref["k"], np.asarray(ref["logW"]) + math.log(2), strict=True))
    for k in ks:
        assert ours.filter(pl.col("k") == k)["log_w"].item() == pytest.approx(r_log_w[k], abs=2e-3), k


def test_gap_on_uniform_noise_picks_one_cluster_as_clusgap():
    ref, ours = gap_of("uniform")
    check_gap(ref, ours)
    same_log_w(ref, ours, [1, 2, 3])
    assert ref["pick_Tibs2001SEmax"] == 1


def test_the_k_report_says_no_cluster_structure_on_uniform_noise():
    X = inputs("uniform")
    spec = evaluate.StabilitySpec(n_resamples=3)
    table = evaluate.k_table(X, algorithm="kmeans", params={"n_init": 10}, ks=range(2, 7), seed=0, spec=spec)
    assert table["k"].to_list() == [1, 2, 3, 4, 5, 6]
    first = table.row(0, named=True)
    assert first["gap"] == first["gap"] and first["silhouette"] is None and first["inertia"] is None
    picks = evaluate.k_picks(table)
    assert picks["gap"] == 1 and picks["silhouette"] != 1


@pytest.mark.slow
@pytest.mark.parametrize("name,same_optimum", [("blobs", [1, 2, 3, 4]), ("uci_customers", list(range(1, 11)))])
def test_gap_values_and_pick_are_clusgaps(name, same_optimum):
    ref, ours = gap_of(name)
    check_gap(ref, ours)
    same_log_w(ref, ours, same_optimum)


def test_knee_agrees_with_kneed():
    ref = values("kneed")
    for name, c in ref["curves"].items():
        i = evaluate.elbow_knee(c["x"], c["y"], sensitivity=c["S"])
        assert (None if i is None else c["x"][i]) == c["knee"], name
    assert ref["curves"]["line"]["knee"] is None  # a straight line has no knee


def test_a_search_on_uniform_noise_says_no_cluster_structure():
    from types import SimpleNamespace

    from rfmlab.jobs import search_artifacts
    from rfmlab.report import console, search_tables
    from rfmlab.search._spec import KReport

    X = inputs("uniform")
    logged: dict = {"tags": {}, "metrics": {}, "text": {}}
    handle = SimpleNamespace(
        set_tags=logged["tags"].update, log_metrics=logged["metrics"].update,
        log_text=lambda text, path: logged["text"].__setitem__(path, text),
    )  # fmt: skip
    prep = SimpleNamespace(X=X, evaluator=evaluate.Evaluator(X), stability=evaluate.StabilitySpec())
    spec = SimpleNamespace(k_report=KReport(n_resamples=3))
    space = {"n_clusters": {"type": "int", "low": 2, "high": 6}}
    picks = search_artifacts.log_k_report(
        handle, prep=prep, algo="kmeans", params={"n_clusters": 3, "n_init": 10}, space=space, spec=spec, seed=0,
        figure=False,
    )  # fmt: skip
    assert picks["gap"] == 1 and logged["metrics"]["k_pick_gap"] == 1
    assert logged["tags"] == {"k_report.gap": "no cluster structure by the gap statistic"}
    csv = pl.read_csv(logged["text"]["search/n_clusters.csv"].encode())
    assert csv["k"].to_list() == [1, 2, 3, 4, 5, 6] and csv.row(0, named=True)["silhouette"] is None
    with console.console.capture() as out:
        search_tables.k_table(picks, chosen=3)
    assert "no cluster structure by the gap statistic" in out.get()
