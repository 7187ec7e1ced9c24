"""What a dataset is: ``DatasetSpec`` (the ``dataset`` config group as a plain object: where the log is, its
layout and cleaning) and ``Columns`` (which file column plays each role)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rfmlab.errors import ConfigError, DataError

ROLES = ("customer", "date", "invoice", "quantity", "price", "amount")


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
        out = {}
        for role in ROLES:
            want = getattr(self, role)
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
        return Columns(**out)


@dataclass(kw_only=True)
class DatasetSpec:
    name: str
    kind: str = "ecommerce"
    path: str | None = None  # None: the embedded synthetic generator of ``kind``
    synthetic: dict = field(default_factory=dict)
    columns: Columns = field(default_factory=lambda: Columns(customer="CustomerID", date="InvoiceDate"))
    date_format: str | None = None  # strptime syntax, or %s / ms / us (epoch seconds / milliseconds / microseconds)
    timezone: str | None = None  # zoned timestamps converted to this zone's local time; None: their own local time
    separator: str = ","
    encoding: str = "utf8"
    return_prefix: str | None = "C"
    cleaning: dict = field(default_factory=dict)
    analysis_date: str | None = None
    sheet: str | None = None  # workbook sheet (xlsx); None: the only one (a workbook with several is refused)
    download: dict = field(default_factory=dict)  # {enabled, url, sha256, member, cache_dir}

    @classmethod
    def from_dict(cls, d: dict) -> DatasetSpec:
        d = dict(d)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown dataset option(s) {unknown}; valid options are {sorted(known)}")
        cols = d.pop("columns", None) or {}
        try:
            columns = Columns(**cols)
        except TypeError as e:
            raise ConfigError(f"dataset.columns: {e}; valid keys are {list(Columns.__dataclass_fields__)}") from e
        _check_timezone(d.get("timezone"))
        return cls(columns=columns, **d)


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
