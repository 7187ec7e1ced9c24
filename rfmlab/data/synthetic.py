"""Deterministic, seeded synthetic transaction logs: the embedded default data.

Two kinds, shaped like the files users bring:

- ``ecommerce``: invoice lines like UCI Online Retail (InvoiceNo with ``C`` cancellations, StockCode,
  Description, Quantity incl. returns, InvoiceDate over about a year, UnitPrice, CustomerID with some
  missing, Country), plus a little dirt (zero prices, exact duplicate lines).
- ``stock_market``: a broker's customer trade log (AccountID, TradeID, TradeTime, Symbol, Side,
  Quantity, Price, Fee).

Customers are drawn from archetypes (loyal, regular, new, churned, one-off, big spender) with
heavy-tailed activity and spend, so real segments exist. Same arguments, same frame, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

START = datetime(2010, 12, 1)


@dataclass(frozen=True, kw_only=True)
class Archetype:
    name: str
    weight: float
    start: tuple[float, float]  # first active day as a fraction of the period (uniform range)
    span: tuple[float, float]  # active span as a fraction of what remains
    rate: float  # median purchases per 30 active days (lognormal around it)
    spend: float  # median basket scale (lognormal around it)
    return_prob: float  # chance that a purchase is (partly) cancelled later


ARCHETYPES = (
    Archetype(name="loyal", weight=0.12, start=(0.0, 0.25), span=(0.9, 1.0), rate=3.0, spend=2.0, return_prob=0.04),
    Archetype(name="regular", weight=0.25, start=(0.0, 0.5), span=(0.6, 1.0), rate=0.8, spend=1.0, return_prob=0.03),
    Archetype(name="new", weight=0.15, start=(0.8, 0.97), span=(1.0, 1.0), rate=1.0, spend=0.8, return_prob=0.02),
    Archetype(name="churned", weight=0.25, start=(0.0, 0.4), span=(0.1, 0.4), rate=0.7, spend=0.8, return_prob=0.05),
    Archetype(name="one_off", weight=0.18, start=(0.0, 0.95), span=(0.0, 0.02), rate=0.1, spend=0.6, return_prob=0.02),
    Archetype(
        name="big_spender", weight=0.05, start=(0.0, 0.6), span=(0.5, 1.0), rate=1.2, spend=8.0, return_prob=0.10
    ),
)

COUNTRIES = np.array(["United Kingdom", "Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium"])
COUNTRY_P = np.array([0.88, 0.03, 0.03, 0.02, 0.015, 0.015, 0.01])
SYMBOLS = np.array(
    ["AAPL", "MSFT", "AMZN", "GOOG", "TSLA", "NVDA", "META", "JPM", "V", "XOM", "KO", "PEP", "SPY", "QQQ"]
)


def _customers(rng: np.random.Generator, n_customers: int, days: int):
    """Per customer: archetype index, first day, active span (days), purchase count, spend scale."""
    weights = np.array([a.weight for a in ARCHETYPES])
    kind = rng.choice(len(ARCHETYPES), size=n_customers, p=weights / weights.sum())
    lo = np.array([a.start[0] for a in ARCHETYPES])[kind]
    hi = np.array([a.start[1] for a in ARCHETYPES])[kind]
    first = (rng.uniform(lo, hi) * days).astype(int)
    s_lo = np.array([a.span[0] for a in ARCHETYPES])[kind]
    s_hi = np.array([a.span[1] for a in ARCHETYPES])[kind]
    span = np.maximum(1, (rng.uniform(s_lo, s_hi) * (days - 1 - first)).astype(int))
    rate = np.array([a.rate for a in ARCHETYPES])[kind] * rng.lognormal(0.0, 0.6, n_customers)
    n_purchases = 1 + rng.poisson(rate * span / 30.0)
    spend = np.array([a.spend for a in ARCHETYPES])[kind] * rng.lognormal(0.0, 0.7, n_customers)
    ret_p = np.array([a.return_prob for a in ARCHETYPES])[kind]
    return kind, first, span, n_purchases, spend, ret_p


def _purchase_times(rng, first, span, n_purchases, open_hour=8, close_hour=20):
    """One timestamp per purchase, uniform over each customer's active span, in opening hours."""
    owner = np.repeat(np.arange(len(first)), n_purchases)
    day = first[owner] + (rng.random(owner.size) * span[owner]).astype(int)
    seconds = rng.integers(open_hour * 3600, close_hour * 3600, owner.size)
    ts = np.datetime64(START, "s") + (day.astype("int64") * 86400 + seconds).astype("timedelta64[s]")
    order = np.lexsort((ts, owner))
    return owner[order], ts[order]


def _invoices(rng, owner, ts, spend, days: int, guest_share: float):
    """Customers' purchases plus guest invoices (no CustomerID, like the 25% of UCI rows without one), in time
    order: (owner or -1, timestamp, spend scale) per invoice."""
    n_guest = int(owner.size * guest_share / (1 - guest_share))
    g_sec = rng.integers(0, days, n_guest) * 86400 + rng.integers(8 * 3600, 20 * 3600, n_guest)
    g_ts = np.datetime64(START, "s") + g_sec.astype("timedelta64[s]")
    inv_owner = np.concatenate([owner, np.full(n_guest, -1)])
    inv_ts = np.concatenate([ts, g_ts])
    inv_spend = np.concatenate([spend[owner], rng.lognormal(-0.3, 0.5, n_guest)])
    order = np.argsort(inv_ts, kind="stable")
    return inv_owner[order], inv_ts[order], inv_spend[order]


def _catalog(rng, n_products: int):
    """Products: Zipf-ish popularity, lognormal unit prices. (popularity, codes, prices, descriptions)"""
    pop = 1.0 / np.arange(1, n_products + 1) ** 0.9
    codes = np.array([f"{85000 + i}" + ("" if i % 7 else "B") for i in range(n_products)])
    prices = np.round(rng.lognormal(1.0, 0.8, n_products), 2)
    descriptions = np.array([f"PRODUCT {i:04d}" for i in range(n_products)])
    return pop, codes, prices, descriptions


def _cancellations(rng, inv_owner, inv_ts, ret_p, line_inv, days: int, first_invoice: int):
    """A later C-invoice taking back some lines of a purchase: (cancelled line positions, their time, number)."""
    cust_inv = inv_owner >= 0
    p_ret = np.where(cust_inv, ret_p[np.maximum(inv_owner, 0)], 0.01)
    cancelled = rng.random(inv_owner.size) < p_ret
    back = cancelled[line_inv] & (rng.random(line_inv.size) < 0.6)
    c_line = np.flatnonzero(back)
    c_ts = inv_ts[line_inv[c_line]] + rng.integers(3600, 20 * 86400, c_line.size).astype("timedelta64[s]")
    c_ts = np.minimum(c_ts, np.datetime64(START, "s") + np.timedelta64(days * 86400 - 1, "s"))
    c_no = np.char.add("C", (600000 + first_invoice + line_inv[c_line]).astype(str))
    return c_line, c_ts, c_no


def _with_dirt(rng, lines: pl.DataFrame, dirty_share: float) -> pl.DataFrame:
    """Zero prices and exact duplicate lines, as in the real file; sorted by time."""
    n_dirty = int(lines.height * dirty_share)
    zero = rng.choice(lines.height, n_dirty, replace=False)
    lines = lines.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(zero)).then(0.0).otherwise(pl.col("UnitPrice")).alias("UnitPrice")
    )
    dup = lines[np.sort(rng.choice(lines.height, n_dirty, replace=False))]
    return pl.concat([lines, dup]).sort("InvoiceDate", "InvoiceNo", maintain_order=True)


def ecommerce(
    n_customers: int = 5000,
    *,
    seed: int = 42,
    days: int = 374,
    n_products: int = 800,
    guest_share: float = 0.2,
    dirty_share: float = 0.005,
    first_customer: int = 0,
    first_invoice: int = 0,
) -> pl.DataFrame:
    """UCI-Online-Retail-shaped invoice lines for ``n_customers`` customers (plus guest rows).

    ``first_customer`` / ``first_invoice`` offset the ids, so blocks of customers generated apart (see
    ``write_blocks``) never share a customer or an invoice."""
    rng = np.random.default_rng(seed)  # every draw below in a fixed order: the same seed gives the same file
    kind, first, span, n_purchases, spend, ret_p = _customers(rng, n_customers, days)
    owner, ts = _purchase_times(rng, first, span, n_purchases)
    inv_owner, inv_ts, inv_spend = _invoices(rng, owner, ts, spend, days, guest_share)
    inv_no = (536365 + first_invoice + np.arange(inv_owner.size)).astype(str)
    pop, codes, prices, descriptions = _catalog(rng, n_products)
    n_lines = 1 + rng.poisson(6 * np.sqrt(inv_spend))
    line_inv = np.repeat(np.arange(inv_owner.size), n_lines)
    prod = rng.choice(n_products, size=line_inv.size, p=pop / pop.sum())
    qty = np.maximum(1, np.round(rng.lognormal(1.2, 0.9, line_inv.size) * np.sqrt(inv_spend[line_inv])))
    qty = qty.astype(np.int64)
    c_line, c_ts, c_no = _cancellations(rng, inv_owner, inv_ts, ret_p, line_inv, days, first_invoice)
    all_prod = np.concatenate([prod, prod[c_line]])
    lines = pl.DataFrame(
        {
            "InvoiceNo": np.concatenate([inv_no[line_inv], c_no]),
            "StockCode": codes[all_prod],
            "Description": descriptions[all_prod],
            "Quantity": np.concatenate([qty, -np.maximum(1, qty[c_line] // rng.integers(1, 3, c_line.size))]),
            "InvoiceDate": np.concatenate([inv_ts[line_inv], c_ts]).astype("datetime64[us]"),
            "UnitPrice": prices[all_prod],
            "_owner": np.concatenate([inv_owner[line_inv], inv_owner[line_inv[c_line]]]),
        }
    )
    country_of = COUNTRIES[rng.choice(len(COUNTRIES), size=n_customers, p=COUNTRY_P)]
    owners = lines["_owner"].to_numpy()
    guest_country = COUNTRIES[rng.choice(len(COUNTRIES), size=owners.size, p=COUNTRY_P)]
    lines = lines.with_columns(
        pl.Series("CustomerID", np.where(owners >= 0, 12346 + first_customer + owners, -1)).replace(-1, None),
        pl.Series("Country", np.where(owners >= 0, country_of[np.maximum(owners, 0)], guest_country)),
    ).drop("_owner")
    return _with_dirt(rng, lines, dirty_share).select(
        "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"
    )


def stock_market(
    n_customers: int = 5000, *, seed: int = 42, days: int = 365, first_customer: int = 0, first_invoice: int = 0
) -> pl.DataFrame:
    """A broker's customer trade log: one row per trade (ids offset as in ``ecommerce``)."""
    rng = np.random.default_rng(seed)
    kind, first, span, n_purchases, spend, _ = _customers(rng, n_customers, days)
    owner, ts = _purchase_times(rng, first, span, n_purchases, open_hour=9, close_hour=17)
    n = owner.size
    sym = rng.choice(SYMBOLS.size, size=n, p=np.linspace(2, 1, SYMBOLS.size) / np.linspace(2, 1, SYMBOLS.size).sum())
    base = np.linspace(40, 600, SYMBOLS.size)
    price = np.round(base[sym] * rng.lognormal(0.0, 0.1, n), 2)
    qty = np.maximum(1, np.round(rng.lognormal(2.5, 1.0, n) * spend[owner] * 50 / base[sym])).astype(np.int64)
    side = np.where(rng.random(n) < 0.55, "BUY", "SELL")
    fee = np.round(np.maximum(1.0, 0.0005 * qty * price), 2)
    return pl.DataFrame(
        {
            "AccountID": np.char.add("AC", (100000 + first_customer + owner).astype(str)),
            "TradeID": np.char.add("T", (1 + first_invoice + np.arange(n)).astype(str)),
            "TradeTime": ts.astype("datetime64[us]"),
            "Symbol": SYMBOLS[sym],
            "Side": side,
            "Quantity": qty,
            "Price": price,
            "Fee": fee,
        }
    ).sort("TradeTime", "TradeID", maintain_order=True)


GENERATORS = {"ecommerce": ecommerce, "stock_market": stock_market}


BLOCK = 50_000  # customers generated at once: above this, logs are written in blocks (~5M lines, ~0.6 GB each)
INVOICES_PER_BLOCK = 100_000_000  # invoice-number stride between blocks (a block has far fewer invoices)


def generate(kind: str, **params) -> pl.DataFrame:
    if kind not in GENERATORS:
        from rfmlab.errors import ConfigError

        raise ConfigError(f"unknown synthetic kind {kind!r}; use one of {sorted(GENERATORS)}")
    return GENERATORS[kind](**params)


def block_seed(seed: int, block: int) -> int:
    """Block 0 uses ``seed`` itself, so a log of up to ``BLOCK`` customers is the one ``generate`` gives."""
    return seed if block == 0 else int(np.random.SeedSequence([seed, block]).generate_state(1)[0])


def write_blocks(kind: str, directory, *, progress=None, **params) -> list:
    """Write the log of ``params["n_customers"]`` customers as parquet parts of ``BLOCK`` customers each, in
    bounded memory (one block at a time). Deterministic: same arguments, same files. Returns the part paths."""
    from pathlib import Path

    directory = Path(directory)
    n, seed = int(params.pop("n_customers", 5000)), int(params.pop("seed", 42))
    parts = []
    for b, lo in enumerate(range(0, n, BLOCK)):
        part = directory / f"part-{b:05d}.parquet"
        size = min(BLOCK, n - lo)
        generate(
            kind, n_customers=size, seed=block_seed(seed, b), first_customer=lo, first_invoice=b * INVOICES_PER_BLOCK,
            **params,
        ).write_parquet(part)  # fmt: skip
        parts.append(part)
        if progress:
            progress(lo + size, n)
    return parts
