"""``rfmlab.customer_table``: a transaction log (file, URL or frame) to its customer table, as the command does it."""

from __future__ import annotations

from datetime import date
from os import PathLike

import polars as pl

from rfmlab import pipeline
from rfmlab.data import frames, locations, sql
from rfmlab.data.clean import CleaningReport
from rfmlab.data.spec import CUSTOMERS, ROLES, TABLE_ROLES, DatasetSpec
from rfmlab.errors import ConfigError
from rfmlab.resources import dataset_config

_OPTIONS = (
    "date_format",
    "separator",
    "encoding",
    "sheet",
    "return_prefix",
    "filter",
    "storage_options",
    "recency_unit",
    "table",
    "query",
    "engine",
)


def dataset_spec(
    source: object, *, dataset: str | dict = "transactions", seed: int = 42, **options: object
) -> tuple[DatasetSpec, dict]:
    """The dataset spec (and its plain section) of ``dataset`` (a ``conf/dataset/`` name or a section as a dict)
    with ``options`` over it: ``columns`` merged role by role, ``cleaning`` key by key, the rest replaced.
    ``source``: a path, folder, glob or URL (the spec's source: an http(s) URL is downloaded, an object-store URL
    read where it is), ``None`` (its own file, download or generator) or a frame."""
    d = dataset_config(dataset, seed=seed) if isinstance(dataset, str) else dict(dataset)
    roles = TABLE_ROLES if d.get("kind") == CUSTOMERS else ROLES
    for key in ("columns", "cleaning"):
        if options.get(key):
            unknown = sorted(set(options[key]) - set(roles)) if key == "columns" else []
            if unknown:
                raise ConfigError(f"columns: unknown role(s) {unknown}; roles are {list(roles)}")
            d[key] = {**(d.get(key) or {}), **options[key]}
    d.update({k: v for k, v in options.items() if k in _OPTIONS and v is not None})
    if options.get("analysis_date") is not None:
        d["analysis_date"] = str(options["analysis_date"])
    if isinstance(source, str) and locations.is_sql(source):
        d.update(sql.fields(source, table=options.get("table"), query=options.get("query")), download={}, synthetic={})
    elif isinstance(source, str) and "://" in source and not locations.is_remote(source):
        d.update(path=None, download={**(d.get("download") or {}), "enabled": True, "url": source, "member": None})
    elif isinstance(source, str | PathLike):
        d.update(path=str(source), download={})
    elif source is not None:
        if not frames.is_frame(source):
            frames.to_polars(source, what="source")  # refused in one line, naming the type
        d.update(path=None, download={}, synthetic={})
    needed = ("customer", "recency", "frequency", "monetary") if d.get("kind") == CUSTOMERS else ("customer", "date")
    missing = [r for r in needed if not (d.get("columns") or {}).get(r)]
    if missing:
        raise ConfigError(
            f"dataset {d.get('name')!r} needs the column(s) playing {missing}: pass columns={{'customer': "
            "'<id column>', 'date': '<date column>', 'amount': '<amount column>'}} (or quantity and price)"
        )
    return DatasetSpec.from_dict(d), d


def customer_table(
    source: str | PathLike | pl.DataFrame | pl.LazyFrame | object | None,
    *,
    dataset: str | dict = "transactions",
    columns: dict[str, str] | None = None,
    analysis_date: str | date | None = None,
    cleaning: dict[str, str] | None = None,
    date_format: str | None = None,
    sheet: str | None = None,
    separator: str | None = None,
    encoding: str | None = None,
    return_prefix: str | None = None,
    filter: str | None = None,  # noqa: A002 - the config key's name
    storage_options: dict[str, str] | None = None,
    recency_unit: str | None = None,
    table: str | None = None,
    query: str | None = None,
    engine: str | None = None,
) -> tuple[pl.DataFrame, CleaningReport]:
    """The customer table of a transaction log and its cleaning report, by the ``rfmlab`` command's load -> clean ->
    RFM; or, with ``dataset="customers"``, a customer table read and checked as training reads it.

    Args:
        source: a file (CSV, .csv.gz, parquet, xlsx; streamed, xlsx read whole), a folder of parquet or CSV parts
            (hive ``key=value`` folders give columns), a glob, an ``s3://`` / ``gs://`` / ``az://`` URL (read where
            it is), a database URL with ``table`` or ``query`` (``postgresql://user@host/db``, ``sqlite:///x.db``,
            ``duckdb:///x.duckdb``, any SQLAlchemy URL; read in batches), an http(s) URL (downloaded once), a polars
            or pandas DataFrame or polars LazyFrame, or ``None`` for the ``dataset`` config's own data (generated).
        dataset: a layout and cleaning policy from ``conf/dataset/`` (``online_retail``, ``transactions``,
            ``customers``...) or such a section as a dict; the keyword arguments below override it.
        columns: which column plays each role: ``customer``, ``date``, ``invoice``, ``quantity``, ``price``,
            ``amount`` (``amount``, or ``quantity`` x ``price``); for a customer table ``customer``, ``recency``,
            ``frequency``, ``monetary``, ``tenure_days``, ``avg_order_value``, ``return_rate``.
        analysis_date: the day recency is measured from (default: the day after the last transaction).
        cleaning: ``missing_customer``, ``duplicates``, ``nonpositive_price`` (drop|keep), ``cancellations`` (net|drop).
        filter: a SQL condition on the source's columns, applied before cleaning (``"Country = 'France'"``).
        storage_options: object-store options for polars (``{"aws_region": "eu-west-1"}``), over the environment's.
        recency_unit: a customer table's recency: ``days`` or ``date`` (the last purchase's date).
        table: with a database URL, the table to read (``schema.table``).
        query: with a database URL, the SQL whose rows are read (instead of a table).
        engine: ``polars`` (default), ``duckdb``, ``postgres`` or ``spark``: the stage run where the data is.

    Returns:
        ``(customers, report)``: one row per customer (``customer_id``, ``recency``, ``frequency``, ``monetary``
        and extras) and what cleaning removed (``report.rows_in``, ``report.dropped`` by reason, ``report.rows_out``).

    Raises:
        rfmlab.DataError, rfmlab.ConfigError: the one-line messages the command prints.

    Examples:
        >>> import rfmlab
        >>> customers, report = rfmlab.customer_table(None, dataset="ecommerce")
        >>> customers.columns[:4]
        ['customer_id', 'recency', 'frequency', 'monetary']
    """
    options = {k: v for k, v in locals().items() if k not in ("source", "dataset")}
    spec, _ = dataset_spec(source, dataset=dataset, **options)
    src = frames.source_of(source) if frames.is_frame(source) else None
    customers, _, report, _ = pipeline.customer_table(spec, source=src)
    return customers, report
