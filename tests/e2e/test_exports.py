"""CSV a spreadsheet shows rather than evaluates, through the commands: the run's ``tables/customers.csv`` and
``rfmlab-score --output x.csv`` (ids starting with = + - @ get a leading '); parquet keeps the raw ids;
``rfmlab-score`` never writes over its input, nor over an existing output without ``--overwrite``."""

import mlflow
import polars as pl
import pytest
from helpers import ROOT, run_cli
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.slow

TX = ["dataset=transactions", "dataset.columns.customer=client", "dataset.columns.date=day",
      "dataset.columns.amount=total", "plots.enabled=false", "search=none"]  # fmt: skip
EVIL = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "=1+1"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One run on a small log whose customer ids a spreadsheet would evaluate: (tmp, store uri, run)."""
    tmp = tmp_path_factory.mktemp("exports")
    ids = EVIL + [f"c{i}" for i in range(45)]
    rows = [(ids[i % 50], f"2011-0{1 + i % 9}-1{i % 9} 10:00", 1 + i % 97) for i in range(400)]
    pl.DataFrame(rows, schema=["client", "day", "total"], orient="row").write_csv(tmp / "log.csv")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    res = run_cli(*TX, f"dataset.path={tmp / 'log.csv'}", f"tracking.uri={uri}", cwd=ROOT)
    assert res.returncode == 0, res.stderr
    client = MlflowClient(uri)
    (r,) = client.search_runs([client.get_experiment_by_name("transactions").experiment_id])
    return tmp, uri, r


def test_run_csv_tables_are_neutralised_and_parquet_is_raw(run):
    tmp, uri, r = run
    local = mlflow.artifacts.download_artifacts(run_id=r.info.run_id, tracking_uri=uri, dst_path=str(tmp / "dl"))
    raw = pl.read_parquet(f"{local}/tables/customers.parquet")
    text = pl.read_csv(f"{local}/tables/customers.csv", infer_schema=False)
    assert set(EVIL) <= set(raw["customer_id"]) and raw.height == 50
    assert set(text["customer_id"]) == {"'" + c if c[0] in "=+-@" else c for c in raw["customer_id"]}
    assert "'=1+1" in set(text["customer_id"]) and "=1+1" in set(raw["customer_id"])
    # numbers stay numbers: the CSV's monetary column reads back equal to the parquet's
    both = raw.join(text.with_columns(pl.col("customer_id").str.strip_prefix("'")), on="customer_id")
    assert both.height == 50 and (both["monetary"] == both["monetary_right"].cast(pl.Float64)).all()


def score(*args):
    return run_cli(*args, cwd=ROOT, module="rfmlab.cli.score")


def one_line_error(res, words):
    assert res.returncode == 2 and "Traceback" not in res.stderr + res.stdout, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rfmlab: error: "), res.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_score_csv_output_is_neutralised(run):
    tmp, uri, r = run
    table = pl.DataFrame({"customer_id": EVIL[:4] + ["ok"], "recency": [3, 30, 300, 10, 5],
                          "frequency": [40, 2, 1, 5, 9], "monetary": [2500.0, 80.0, 12.0, 300.0, 700.0]})  # fmt: skip
    table.write_csv(tmp / "new.csv")
    model = r.data.tags["rfmlab.model_uri"]
    res = score("--model", model, "--input", str(tmp / "new.csv"), "--output", str(tmp / "scored.csv"),
                "--tracking-uri", uri)  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = pl.read_csv(tmp / "scored.csv", infer_schema=False)
    assert out["customer_id"].to_list() == ["'" + c for c in EVIL[:4]] + ["ok"]
    lines = (tmp / "scored.csv").read_text().splitlines()
    assert lines[1].startswith('"\'=HYPERLINK(""http://x"",""y"")",') and lines[3].startswith("'-2,")
    res = score("--model", model, "--input", str(tmp / "new.csv"), "--output", str(tmp / "scored.parquet"),
                "--tracking-uri", uri)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert pl.read_parquet(tmp / "scored.parquet")["customer_id"].to_list() == EVIL[:4] + ["ok"]


def test_score_never_writes_over_its_input_or_an_output_without_overwrite(run):
    tmp, uri, r = run
    model = r.data.tags["rfmlab.model_uri"]
    pl.DataFrame({"customer_id": ["a", "b"], "recency": [3, 300], "frequency": [40, 1],
                  "monetary": [2500.0, 12.0]}).write_csv(tmp / "in.csv")  # fmt: skip
    before = (tmp / "in.csv").read_bytes()
    for same in (str(tmp / "in.csv"), str(tmp / "." / "in.csv")):
        res = score("--model", model, "--input", str(tmp / "in.csv"), "--output", same, "--overwrite",
                    "--tracking-uri", uri)  # fmt: skip
        one_line_error(res, ["is the --input file"])
        assert (tmp / "in.csv").read_bytes() == before
    (tmp / "old.csv").write_text("keep me\n")
    res = score("--model", model, "--input", str(tmp / "in.csv"), "--output", str(tmp / "old.csv"),
                "--tracking-uri", uri)  # fmt: skip
    one_line_error(res, ["exists", "--overwrite"])
    assert (tmp / "old.csv").read_text() == "keep me\n"
    res = score("--model", model, "--input", str(tmp / "in.csv"), "--output", str(tmp / "old.csv"), "--overwrite",
                "--tracking-uri", uri)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert pl.read_csv(tmp / "old.csv")["customer_id"].to_list() == ["a", "b"]
