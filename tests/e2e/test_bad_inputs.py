"""Bad inputs, as a new user makes them, against every command: each is refused in one line
(``rfmlab: error: ...``, exit 2, no traceback) naming the problem and the fix, and leaves no FINISHED run;
a run that had started is FAILED with its error saved."""

import gzip

import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow

TX = ["dataset=transactions", "dataset.columns.customer=client", "dataset.columns.date=day",
      "dataset.columns.amount=total", "plots.enabled=false", "search=none"]  # fmt: skip
OK_ROWS = [(f"c{i % 50}", f"2011-0{1 + i % 9}-1{i % 9} 10:00", 1 + i % 97) for i in range(400)]


def write(path, rows, header="client,day,total"):
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def files(d):
    """Every bad file of the suite, by name."""
    out = {
        "one_customer": write(d / "one.csv", [("c1", f"2011-0{1 + i % 9}-11 10:00", 10 + i) for i in range(20)]),
        "two_customers": write(
            d / "two.csv", [(f"c{i % 2}", f"2011-0{1 + i % 9}-11 10:00", 10 + i) for i in range(20)]
        ),
        "identical": write(d / "same.csv", [(f"c{i}", "2011-05-11 10:00", 10) for i in range(30)]),
        "dup_header": write(d / "dup.csv", [(*r, 1) for r in OK_ROWS], "client,day,total,total"),
        "ambiguous_dates": write(
            d / "dm.csv", [(f"c{i % 50}", f"{1 + i % 12:02d}/{1 + i * 5 % 12:02d}/2011", 5) for i in range(300)]
        ),  # fmt: skip
        "non_numeric": write(d / "nn.csv", [*OK_ROWS[:50], ("c1", "2011-01-11 10:00", "abc")]),
        "bad_date": write(d / "bd.csv", [*OK_ROWS[:50], ("c1", "yesterday", 3)]),
        "no_dates": write(d / "nd.csv", [(f"c{i}", "soon", 3) for i in range(20)]),
        "header_only": write(d / "ho.csv", []),
        "ok": write(d / "ok.csv", OK_ROWS),
    }
    (d / "empty.csv").write_text("")
    out["empty"] = d / "empty.csv"
    latin = b"client,day,total\n" + b"".join(
        (b"caf\xe9" if i % 2 else b"caf\xe8") + f",2011-0{1 + i % 9}-11 10:00,{5 + i}\n".encode() for i in range(40)
    )
    (d / "latin.csv").write_bytes(latin)
    out["latin_ids"] = d / "latin.csv"
    (d / "bad.csv.gz").write_bytes(gzip.compress((d / "ok.csv").read_bytes())[:200])
    out["corrupt_gzip"] = d / "bad.csv.gz"
    (d / "adir").mkdir()
    out["directory"] = d / "adir"
    return out


MAIN = [  # (case, file or None, extra overrides, key words of the message)
    ("one customer", "one_customer", [], ["1 customer(s) after cleaning", "at least 2"]),
    ("one customer, search", "one_customer", ["search=optuna", "search.n_trials=3"], ["1 customer(s)"]),
    ("k above customers", "two_customers", [], ["n_clusters=5 but only 2 customers", "n_clusters <= 2"]),
    ("identical profiles", "identical", [], ["same features", "nothing to cluster"]),
    ("hdbscan sizes above n", "identical", ["algorithm=hdbscan"], ["min_cluster_size=50 is more than the 30"]),
    ("identical, search", "identical", ["search=optuna", "search.n_trials=3"], ["no valid trial", "same features"]),
    (
        "analysis date first",
        "ok",
        ["dataset.analysis_date=2000-01-01"],
        ["dataset.analysis_date=2000-01-01", "later"],
    ),  # fmt: skip
    ("repeated header", "dup_header", [], ["names column 'total' more than once"]),
    ("day/month ambiguous", "ambiguous_dates", [], ["fit both", "dataset.date_format"]),
    ("undecodable ids", "latin_ids", [], ["not valid utf8", "dataset.encoding", "latin1"]),
    ("corrupt gzip", "corrupt_gzip", [], ["corrupt or truncated"]),
    ("path is an empty folder", "directory", [], ["is a folder with no parquet or CSV part"]),
    ("empty file", "empty", [], ["empty"]),
    ("header only", "header_only", [], ["no rows"]),
    ("non-numeric amount", "non_numeric", [], ["non-numeric values such as 'abc'", "line 51"]),
    ("unparseable date", "bad_date", ["dataset.date_format=%Y-%m-%d %H:%M"], ["unparseable date 'yesterday'"]),
    ("unrecognisable dates", "no_dates", [], ["cannot recognise the dates", "dataset.date_format"]),
    ("column not in file", "ok", ["dataset.columns.customer=cliente"], ["column 'cliente'", "client"]),
    ("missing file", None, ["dataset.path=/nonexistent/sales.csv"], ["not found"]),
    ("path required", None, ["dataset.columns.customer=client"], ["dataset.path is required"]),
    ("bad algorithm param", "ok", ["algorithm.params.n_clusters=-3"], ["invalid parameters for algorithm kmeans"]),
    ("unknown feature column", "ok", ["features.columns=[recency,tenure]"], ["unknown feature column", "tenure"]),
    ("unknown naming scheme", "ok", ["segments.naming=rfm12"], ["segments.naming='rfm12'", "rfm11"]),
    ("bad cleaning policy", "ok", ["dataset.cleaning.duplicates=maybe"], ["must be 'drop' or 'keep'"]),
]
HYDRA = [  # before any run: the command line itself
    ("typo in a key", ["dataset.colums.customer=x"], ["did you mean dataset.columns.customer?"]),
    ("unknown group option", ["algorithm=kmean"], ["did you mean 'kmeans'?", "agglomerative, dbscan"]),
    ("unknown group", ["algo=kmeans"], ["did you mean algorithm?"]),
    ("bad option in a list", ["segments=[quartile,rfm12]"], ["unknown segments option 'rfm12'"]),
    ("bad option in a sweep", ["-m", "algorithm=kmeans,hdbscn"], ["unknown algorithm option 'hdbscn'"]),
    ("unparseable override", ["seed=[1"], ["cannot parse the command line"]),
    ("typo in a search key", ["search.n_trails=5"], ["did you mean search.n_trials?"]),
]


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return files(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One store for all refused inputs (a fresh MLflow store costs ~2 s of migrations): none may finish."""
    return f"sqlite:///{tmp_path_factory.mktemp('store')}/mlflow.db"


def one_line_error(res, words):
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rfmlab: error: "), res.stderr
    for w in words:
        assert w in lines[0], lines[0]


def no_finished_run(uri):
    """No run of a refused input ended FINISHED (a search's pruned trials are finished child runs: left out)."""
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    runs = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert not [r for r in runs if r.info.status == "FINISHED"]
    for r in runs:  # a run that had started ends FAILED, its error saved
        assert r.info.status == "FAILED" and "rfmlab.error" in r.data.tags
        assert "error.txt" in {f.path for f in client.list_artifacts(r.info.run_id)}


@pytest.mark.parametrize("case, name, extra, words", MAIN, ids=[c[0] for c in MAIN])
def test_main_command_refuses_bad_data_in_one_line(bad, shared_store, tmp_path, case, name, extra, words):
    path = [f"dataset.path={bad[name]}"] if name else []
    storage = [f"search.storage={tmp_path}/optuna.journal"] if "search=optuna" in extra else []
    res = run_cli(*TX, *path, *extra, *storage, f"tracking.uri={shared_store}", f"hydra.run.dir={tmp_path}/h", cwd=ROOT)
    one_line_error(res, words)
    if shared_store.split("///")[1] and __import__("os").path.exists(shared_store.split("///")[1]):
        no_finished_run(shared_store)


@pytest.mark.parametrize("case, args, words", HYDRA, ids=[c[0] for c in HYDRA])
def test_command_line_errors_name_the_nearest_valid_choice(tmp_path, case, args, words):
    res = run_cli(*args, f"tracking.uri=sqlite:///{tmp_path}/mlflow.db", cwd=ROOT)
    one_line_error(res, words)
    assert not (tmp_path / "mlflow.db").exists()  # refused before anything was created


def test_rfmlab_debug_shows_the_traceback(bad, tmp_path):
    res = run_cli(*TX, f"dataset.path={bad['two_customers']}", f"tracking.uri=sqlite:///{tmp_path}/m.db", cwd=ROOT,
                  env_extra={"RFMLAB_DEBUG": "1"})  # fmt: skip
    assert res.returncode == 2 and "Traceback (most recent call last)" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("rfmlab: error: n_clusters=5 but only 2 customers")


def test_non_finite_and_missing_amounts_are_dropped_and_counted(bad, tmp_path):
    rows = [*OK_ROWS, ("c1", "2011-03-03 10:00", "NaN"), ("c2", "2011-03-03 10:00", "inf"),
            ("c3", "2011-03-03 10:00", "-inf"), ("c4", "2011-03-03 10:00", "")]  # fmt: skip
    log = write(tmp_path / "nf.csv", rows)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    res = run_cli(*TX, f"dataset.path={log}", f"tracking.uri={uri}", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert "-3 nonfinite amount" in res.stdout and "-1 missing amount" in res.stdout
    assert "dates read as %Y-%m-%d %H:%M (detected" in res.stdout
    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("transactions").experiment_id])
    assert run.data.params["data.date_format"] == "%Y-%m-%d %H:%M"
    assert run.data.metrics["rows_in"] == 404 and run.data.metrics["rows_out"] == 400


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trained")
    uri = f"sqlite:///{tmp}/mlflow.db"
    res = run_cli("dataset.synthetic.n_customers=300", "search=none", "plots.enabled=false", f"tracking.uri={uri}",
                  cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run_cli("dataset.synthetic.n_customers=300", "search=none", "plots.enabled=false", f"tracking.uri={uri}",
                  "tracking.log_model=false", "tracking.run_name=nomodel", cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = run_cli("--best", "--experiment", "ecommerce", "--filter", "attributes.run_name != 'nomodel'",
                  "--tracking-uri", uri, cwd=ROOT, module="rfmlab.cli.promote")  # fmt: skip
    assert res.returncode == 0, res.stderr
    write(tmp / "nomon.csv", [("c1", 3, 4)], "customer_id,recency,frequency")
    write(tmp / "table.csv", [("c1", 3, 4, 50.0)], "customer_id,recency,frequency,monetary")
    write(tmp / "log.csv", [("c1", "2011-01-01", 3)], "client,when,amt")
    client = MlflowClient(uri)
    nomodel = client.search_runs([client.get_experiment_by_name("ecommerce").experiment_id],
                                 "attributes.run_name = 'nomodel'")[0].info.run_id  # fmt: skip
    return tmp, uri, nomodel


COMMANDS = [  # (module, case, args with {tmp} / {nomodel}, key words)
    ("score", "typo in an option", ["--modle", "m", "--input", "x", "--output", "y.csv"], ["did you mean --model?"]),
    ("score", "input missing", ["--model", "models:/rfm-segmenter@champion", "--input", "{tmp}/none.csv",
                                "--output", "{tmp}/o.csv"], ["--input", "does not exist"]),  # fmt: skip
    ("score", "bad output type", ["--model", "m", "--input", "{tmp}/table.csv", "--output", "{tmp}/o.json"],
     ["--output must end in .csv or .parquet"]),
    ("score", "unknown model", ["--model", "models:/nosuch@champion", "--input", "{tmp}/table.csv",
                                "--output", "{tmp}/o.csv"], ["cannot load models:/nosuch@champion"]),  # fmt: skip
    ("score", "incomplete customer table", ["--model", "models:/rfm-segmenter@champion", "--input",
     "{tmp}/nomon.csv", "--output", "{tmp}/o.csv"], ["lacks column(s) ['monetary']", "customer_id, recency"]),
    ("score", "log in another layout", ["--model", "models:/rfm-segmenter@champion", "--input", "{tmp}/log.csv",
     "--output", "{tmp}/o.csv"], ["'CustomerID'", "ecommerce layout", "--dataset"]),
    ("score", "unknown dataset layout", ["--model", "models:/rfm-segmenter@champion", "--input", "{tmp}/log.csv",
     "--output", "{tmp}/o.csv", "--dataset", "ecomerce"], ["unknown dataset 'ecomerce'"]),
    ("promote", "typo in an option", ["--bset"], ["did you mean --best?"]),
    ("promote", "best without experiment", ["--best"], ["--best needs --experiment"]),
    ("promote", "unknown run", ["--run-id", "0123abcd"], ["no run 0123abcd"]),
    ("promote", "run without a model", ["--run-id", "{nomodel}"], ["has no model", "promote another run"]),
    ("promote", "unknown experiment", ["--best", "--experiment", "nosuch"], ["nosuch"]),
    ("compare", "typo in an option", ["--experiement", "ecommerce"], ["did you mean --experiment?"]),
    ("compare", "unknown experiment", ["--experiment", "nosuch"], ["no experiment 'nosuch'"]),
    ("rerun", "unknown run", ["0123abcd"], ["no run '0123abcd'"]),
    ("timeline", "unknown scheme", ["--scheme", "rfm12", "--input", "{tmp}/log.csv"], ["'rfm12' is not a scheme",
                                                                                   "rfm11"]),
    ("timeline", "input missing", ["--scheme", "rfm11", "--input", "{tmp}/none.csv"], ["does not exist"]),
    ("timeline", "bad period", ["--scheme", "rfm11", "--input", "{tmp}/log.csv", "--every", "day"],
     ["--every", "invalid choice"]),
    ("timeline", "log in another layout", ["--scheme", "rfm11", "--input", "{tmp}/log.csv"],
     ["'CustomerID'", "ecommerce layout", "--dataset"]),
]  # fmt: skip


@pytest.mark.parametrize("module, case, args, words", COMMANDS, ids=[f"{c[0]}: {c[1]}" for c in COMMANDS])
def test_companion_commands_refuse_bad_input_in_one_line(trained, module, case, args, words):
    tmp, uri, nomodel = trained
    args = [a.format(tmp=tmp, nomodel=nomodel) for a in args]
    client = MlflowClient(uri)
    before = len(client.search_runs([e.experiment_id for e in client.search_experiments()]))
    res = run_cli(*args, "--tracking-uri", uri, cwd=ROOT, module=f"rfmlab.cli.{module}")
    one_line_error(res, words)
    after = client.search_runs([e.experiment_id for e in client.search_experiments()])
    new = after[: len(after) - before] if len(after) > before else []
    assert all(r.info.status == "FAILED" and "rfmlab.error" in r.data.tags for r in new)  # a started run FAILED
    assert len(new) <= (1 if module == "timeline" else 0)  # only rfmlab-timeline starts its run before reading the log
