"""The run's story for the MLflow UI: a short markdown description (tag ``mlflow.note.content``, shown on the
run's Overview page): data, features, model, headline metrics, segments and, for a search, its trials."""

from __future__ import annotations

import polars as pl

from rfmlab import pipeline
from rfmlab.evaluate import STABLE
from rfmlab.report import clv_text

HEADLINE = ("silhouette", "stability", "davies_bouldin", "calinski_harabasz", "n_clusters", "noise_fraction")


def _num(v) -> str:
    if isinstance(v, float):
        return "n/a" if v != v else f"{v:,.4g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _params(params: dict) -> str:
    return ", ".join(f"{k}={_num(v)}" for k, v in params.items()) or "defaults"


def segments_table(fit: pipeline.Fit) -> list[str]:
    """One row per segment (or cluster when unnamed), largest first: customers, share, revenue share."""
    col = "segment" if "segment" in fit.customers.columns else "cluster"
    total_n, total_m = fit.customers.height, float(fit.customers["monetary"].sum()) or 1.0
    seg = (
        fit.customers.group_by(col)
        .agg(pl.len().alias("n"), pl.col("monetary").sum().alias("m"))
        .sort(["n", col], descending=[True, False])
    )
    rows = [f"| {col} | customers | share | revenue share |", "|---|---:|---:|---:|"]
    for name, n, m in seg.iter_rows():
        rows.append(f"| {name} | {n:,} | {n / total_n:.1%} | {m / total_m:.1%} |")
    return rows


def markdown(
    fit: pipeline.Fit, *, prep: pipeline.Prepared, dataset: str, features: str, search: dict | None = None
) -> str:
    """``dataset`` / ``features``: the config names of the data and the features.

    ``search``: ``counts`` (n_trials_*), ``best`` (the chosen Optuna trial), ``objectives`` (names, in the
    study's order), ``seconds`` and, for several objectives, ``selection`` (how the trial was chosen)."""
    m = fit.metrics
    title = f"### {fit.algorithm} on {dataset}: {_num(m.get('n_clusters'))} clusters"
    if m.get("silhouette") == m.get("silhouette"):
        title += f", silhouette {_num(m.get('silhouette'))}"
    fitted = fit.fit_params
    how = "exact fit" if fitted.get("fit.method", "exact") == "exact" else (
        f"fitted on a sample of {_num(int(fitted['fit.sample_size']))} customers, the rest assigned")  # fmt: skip
    lines = [
        title,
        "",
        f"**Data** {dataset}: {prep.report.rows_in:,} rows in, {prep.report.rows_out:,} kept; "
        f"**{prep.customers.height:,} customers** as of {prep.as_of}",
        "",
        *(f"Note: {n}\n" for n in [prep.report.note, *prep.notes] if n),
        f"**Features** {features}: {' → '.join(prep.transform_steps)} on {', '.join(prep.columns)}",
        "",
        f"**Model** {fit.algorithm} ({_params(fit.params)}), {how}",
        "",
        "| " + " | ".join(HEADLINE) + " |",
        "|" + "---:|" * len(HEADLINE),
        "| " + " | ".join(_num(m.get(k, float("nan"))) for k in HEADLINE) + " |",
        "",
    ]
    if m.get("silhouette_ci_low") == m.get("silhouette_ci_low"):  # not NaN
        lines += [f"Silhouette 95% interval on the evaluation sample: [{m['silhouette_ci_low']:.4f}, "
                  f"{m['silhouette_ci_high']:.4f}] (silhouette recomputed on 200 bootstrap resamples)", ""]  # fmt: skip
    if fit.stability is not None:
        weak = fit.stability.describe(fit.names, below=STABLE) or f"every cluster at {STABLE} or above"
        lines += [f"Stability ({len(fit.stability.jaccard)} {fit.stability.method} resamples): {weak}", ""]
    if search is not None:
        c, best = search["counts"], search["best"]
        values = "; ".join(f"{n} {_num(float(v))}" for n, v in zip(search["objectives"], best.values, strict=True))
        lines += [
            f"**Search** {sum(c.values())} trials ({c['n_trials_complete']} complete, {c['n_trials_pruned']} pruned, "
            f"{c['n_trials_failed']} failed) in {search['seconds']:.1f} s; chosen: trial {best.number} "
            f"({values}; {_params(best.params)}), refitted on every customer",
            "",
        ]
        if search.get("selection"):
            lines += [f"Chosen from the Pareto front by search.select: {search['selection']}", ""]
        if search.get("picks"):
            shown = ", ".join(f"{name} k={k}" for name, k in search["picks"].items() if k is not None)
            lines += [f"Number of clusters preferred by each criterion (search/n_clusters.png): {shown}", ""]
            if search["picks"].get("gap") == 1:
                lines += ["The gap statistic finds no cluster structure: its 1-SE rule picks k=1.", ""]
    named = f" (named with {prep.naming})" if fit.names and prep.naming else ""
    lines += [f"**Segments**{named}", "", *segments_table(fit)]
    if prep.clv is not None and "clv" in fit.customers.columns:
        lines += clv_text.markdown(prep.clv, fit.customers, by="segment" if fit.names else "cluster")
    return "\n".join(lines)
