"""CLV in words: the console rows, the run description's section and the report page's paragraph (no I/O)."""

from __future__ import annotations

import polars as pl

from rfmlab import clv


def _fmt(v: float) -> str:
    return "n/a" if v != v else f"{v:,.4g}"


def params_line(result: clv.ClvResult) -> str:
    p = result.params
    return (
        f"BG/NBD r={_fmt(p.r)} alpha={_fmt(p.alpha)} a={_fmt(p.a)} b={_fmt(p.b)} · Gamma-Gamma p={_fmt(p.p)} "
        f"q={_fmt(p.q)} v={_fmt(p.v)} ({result.method}, {result.priors} priors, {p.time_unit})"
    )


def assumption_line(result: clv.ClvResult) -> str:
    r = result.spend_correlation
    reading = "holds" if abs(r) < 0.3 else "is doubtful: spend moves with frequency"
    return f"Gamma-Gamma assumes spend independent of frequency: their correlation is {_fmt(r)} ({reading})"


def holdout_line(result: clv.ClvResult) -> str:
    m = result.holdout.metrics
    return (
        f"holdout {int(m['clv.holdout.days'])} days, {int(m['clv.holdout.customers']):,} customers: purchases MAE "
        f"{_fmt(m['clv.holdout.mae'])}, RMSE {_fmt(m['clv.holdout.rmse'])}, total error "
        f"{m['clv.holdout.total_error_pct']:+.1f}%; spend total error {m['clv.holdout.spend_total_error_pct']:+.1f}%"
    )


def value_table(customers: pl.DataFrame, *, by: str) -> pl.DataFrame:
    return clv.by_group(customers, by=by)


def console_rows(result: clv.ClvResult, customers: pl.DataFrame, *, by: str = "segment") -> dict[str, str]:
    """Rows of the run's summary table: the parameters, the value per segment (largest first), the holdout."""
    p = result.params
    value = value_table(customers, by=by)
    shown = ", ".join(f"{r[by]} {r['clv_share']:.0%}" for r in value.head(6).iter_rows(named=True))
    rows = {
        "clv": params_line(result),
        f"clv over {p.horizon_months} months": f"{customers['clv'].sum():,.0f} in total; by {by}: {shown}",
    }
    if result.holdout is not None:
        rows["clv holdout"] = holdout_line(result)
    return rows


def markdown(result: clv.ClvResult, customers: pl.DataFrame, *, by: str = "segment") -> list[str]:
    """The run description's CLV section: parameters, assumption check, value per segment, holdout errors."""
    p = result.params
    rows = [f"| {by} | customers | expected value ({p.horizon_months} months) | mean | share | mean P(alive) |",
            "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in value_table(customers, by=by).iter_rows(named=True):
        rows.append(
            f"| {r[by]} | {r['customers']:,} | {r['clv_total']:,.0f} | {r['clv_mean']:,.1f} | {r['clv_share']:.1%} "
            f"| {r['p_alive_mean']:.2f} |"
        )
    lines = ["", "**Customer lifetime value**", "", params_line(result), "", assumption_line(result), "", *rows, ""]
    if result.holdout is not None:
        lines += [holdout_line(result), ""]
    return lines
