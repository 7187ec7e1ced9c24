"""What a dataset is: ``DatasetSpec`` (the ``dataset`` config group as a plain object: where the log is, its
layout and cleaning), ``Columns`` (which file column plays each role in a transaction log) and ``TableColumns``
(which column holds each feature of a customer table, ``kind: customers``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rfmlab.errors import ConfigError, DataError

ROLES = ("customer", "date", "invoice", "quantity", "price", "amount")
# a customer table's roles (``kind: customers``): the id, R, F, M and the extras rfmlab computes from a log
TABLE_ROLES = ("customer", "recency", "frequency", "monetary", "tenure_days", "avg_order_value", "return_rate")
CUSTOMERS = "customers"  # the kind of a customer table
RECENCY_UNITS = ("days", "date")


@dataclass(kw_only=True)
class Columns:
    """Which file column plays each role. A role may list several names: the first present is used."""

    customer: str | list[str]
    date: str | list[str]
    invoice: str | list[str] | None = None
    quantity: str | list[str] | None = None
    price: str | list[str] | None = None
    amount: str | list[str] | None = None

    def resolve(self, available: list[str]) -> Columns:
        """One name per role for a file with ``available`` columns; names the missing column otherwise."""
        return Columns(**_resolve(self, ROLES, available))


@dataclass(kw_only=True)
class TableColumns:
    """Which column of a customer table holds each feature (``kind: customers``); None: the table has none.
    ``avg_order_value`` without a column is monetary / frequency; ``tenure_days`` and ``return_rate`` without one
    are left out (they cannot be computed without the transactions)."""

    customer: str | list[str]
    recency: str | list[str]
    frequency: str | list[str]
    monetary: str | list[str]
    tenure_days: str | list[str] | None = None
    avg_order_value: str | list[str] | None = None
    return_rate: str | list[str] | None = None

    def resolve(self, available: list[str]) -> TableColumns:
        return TableColumns(**_resolve(self, TABLE_ROLES, available))


def _resolve(columns, roles: tuple[str, ...], available: list[str]) -> dict:
    """One name per role of ``columns`` for a file with ``available`` columns; names the missing column otherwise."""
    out = {}
    for role in roles:
        want = getattr(columns, role)
        if want is None:
            out[role] = None
            continue
        names = [want] if isinstance(want, str) else list(want)
        found = next((n for n in names if n in available), None)
        if found is None:
            shown = repr(names[0]) if len(names) == 1 else f"any of {names}"
            raise DataError(
                f"column {shown} (dataset.columns.{role}) not in the data; the file has columns {available}"
            )
        out[role] = found
    return out


@dataclass(kw_only=True)
class DatasetSpec:
    name: str
    kind: str = "ecommerce"
    path: str | None = None  # None: the embedded synthetic generator of ``kind``; a file, folder, glob or URL
    synthetic: dict = field(default_factory=dict)
    columns: Columns | TableColumns = field(default_factory=lambda: Columns(customer="CustomerID", date="InvoiceDate"))
    date_format: str | None = None  # strptime syntax, or %s / ms / us (epoch seconds / milliseconds / microseconds)
    timezone: str | None = None  # zoned timestamps converted to this zone's local time; None: their own local time
    separator: str = ","
    encoding: str = "utf8"
    return_prefix: str | None = "C"
    cleaning: dict = field(default_factory=dict)
    analysis_date: str | None = None
    sheet: str | None = None  # workbook sheet (xlsx); None: the only one (a workbook with several is refused)
    download: dict = field(default_factory=dict)  # {enabled, url, sha256, member, cache_dir}
    filter: str | None = None  # a SQL predicate on the source's columns (``pl.sql_expr``), applied before cleaning
    storage_options: dict = field(default_factory=dict)  # object-store options (s3://, gs://, az://) for polars
    recency_unit: str = "days"  # a customer table's recency: days, or the date of the last purchase
    engine: str = "polars"  # where load -> clean -> RFM runs: polars here, or pushed down (``data.engines``)
    uri: str | None = None  # a database URL (data.sql): read with ``table`` or ``query`` instead of ``path``
    table: str | None = None  # the table (schema.table) to read from ``uri`` (or from Spark's catalog)
    query: str | None = None  # or the SQL query whose rows are read from ``uri`` (or run by Spark)
    spark: dict = field(default_factory=dict)  # engine=spark: master, remote, app_name, conf (``data.engines``)

    @property
    def is_table(self) -> bool:
        """A customer table (one row per customer), not a transaction log."""
        return self.kind == CUSTOMERS

    @classmethod
    def from_dict(cls, d: dict) -> DatasetSpec:
        d = dict(d)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown dataset option(s) {unknown}; valid options are {sorted(known)}")
        cols = d.pop("columns", None) or {}
        kind = TableColumns if d.get("kind") == CUSTOMERS else Columns
        try:
            columns = kind(**cols)
        except TypeError as e:
            raise ConfigError(f"dataset.columns: {e}; valid keys are {list(kind.__dataclass_fields__)}") from e
        _check_timezone(d.get("timezone"))
        _check_sql(d)
        _check_filter(d.get("filter"))
        d["storage_options"] = _storage_options(d.get("storage_options"))
        if d.get("recency_unit", "days") not in RECENCY_UNITS:
            raise ConfigError(
                f"dataset.recency_unit={d['recency_unit']!r}: use days (dataset.columns.recency holds days since the "
                "last purchase) or date (it holds the last purchase's date; recency counted to dataset.analysis_date)"
            )
        _check_engine(d)
        return cls(columns=columns, **d)


def _check_sql(d: dict) -> None:
    """A SQL source: ``uri`` a database URL with exactly one of ``table`` and ``query``, and no ``path`` beside it."""
    uri, table, query = (d.get(k) or None for k in ("uri", "table", "query"))
    if uri is None:
        if d.get("engine") == "spark":  # a table of Spark's catalog, or a query Spark runs
            if table and query:
                raise ConfigError("set dataset.table or dataset.query, not both")
            return
        if table or query:
            key = "dataset.table" if table else "dataset.query"
            raise ConfigError(f"{key} reads from a database: give its URL too, dataset.uri=postgresql://user@host/db")
        return
    from rfmlab.data import locations, sql

    if d.get("path") not in (None, ""):
        raise ConfigError(
            f"dataset.uri={locations.shown(str(uri))} and dataset.path={locations.shown(str(d['path']))} both name "
            "the data; keep one (dataset.path=null for the database)"
        )
    sql.check(str(uri), table=table, query=query)


ENGINES = ("polars", "duckdb", "postgres", "spark", "auto")
SPARK_OPTIONS = ("master", "remote", "app_name", "conf")


def _check_engine(d: dict) -> None:
    """Refuse an unknown ``dataset.engine`` or ``dataset.spark`` option before any data is read."""
    engine = d.setdefault("engine", "polars") or "polars"
    d["engine"] = engine
    if engine not in ENGINES:
        raise ConfigError(f"dataset.engine={engine!r}: use one of {', '.join(ENGINES)} (polars is the default)")
    spark = d.get("spark") or {}
    if not isinstance(spark, dict) or sorted(set(spark) - set(SPARK_OPTIONS)):
        bad = sorted(set(spark) - set(SPARK_OPTIONS)) if isinstance(spark, dict) else spark
        raise ConfigError(f"dataset.spark: unknown option(s) {bad}; valid are {list(SPARK_OPTIONS)}")
    d["spark"] = dict(spark)


def _check_filter(text: str | None) -> None:
    """Refuse a ``dataset.filter`` that is not one SQL predicate polars can read."""
    if text in (None, ""):
        return
    import polars as pl

    try:
        pl.sql_expr(str(text))
    except (pl.exceptions.PolarsError, ValueError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(
            f"dataset.filter={text!r} is not a SQL predicate ({first}); write one condition such as "
            '"Country = \'United Kingdom\'" or "year = 2011 AND month IN (1, 2)"'
        ) from e


def _storage_options(value) -> dict:
    """``dataset.storage_options`` as polars takes them: text keys and values (true/false for booleans)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            "dataset.storage_options must be a mapping of option to value, e.g. "
            "+dataset.storage_options.aws_region=eu-west-1"
        )
    # ``***``: a secret redacted where a run recorded its config (a model's dataset section, config.yaml): not a value
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items() if v != "***"}


def _check_timezone(name: str | None) -> None:
    """Refuse a ``dataset.timezone`` that is not an IANA time zone name."""
    if name is None:
        return
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"dataset.timezone={name!r} is not a time zone; use an IANA name such as Europe/London, "
            "America/New_York or UTC (null: each timestamp's own local time)"
        ) from e
