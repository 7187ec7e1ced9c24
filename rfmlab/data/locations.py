"""Where a dataset is: what ``dataset.path`` names (one local file, a folder of parts, a glob, or an object-store
URL), the parts it stands for, and how it is shown without a secret.

- a **folder** stands for every parquet or CSV part below it (hidden files and ``_SUCCESS``-style markers left
  out), all of one format; ``key=value`` folders (hive partitioning) give columns of those names;
- a **glob** (``sales/*.parquet``, ``sales/**/*.csv``) stands for the files it matches;
- an **object-store URL** (``s3://``, ``gs://``, ``az://``...) is read by polars' object-store layer with
  ``dataset.storage_options`` and the standard environment variables (``AWS_ACCESS_KEY_ID``...): an object, a
  prefix ending in ``/`` (a folder) or a glob.

The digest of several local parts is the sha256 of each part's name (relative to the folder or the glob's fixed
start) and content sha256: the same parts copied elsewhere give the same digest. Object-store parts are not read
for it: their names, sizes and ETags (where the store gives them) are, or the digest is ``not computed``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from rfmlab.errors import DataError

REMOTE = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "azure")
PARQUET = (".parquet", ".pq")
TEXT = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
NOT_COMPUTED = "not computed"
# storage options whose values are secrets: never logged, printed or kept in a model
SECRET = re.compile(r"secret|password|token|key|credential|sas|signature|sig$", re.IGNORECASE)
GLOB = re.compile(r"[*?\[]")


def scheme(path: str) -> str | None:
    """The URL scheme of ``path`` (``s3``...), None for a local path."""
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", str(path))
    return m.group(1).lower() if m else None


def is_remote(path: str | None) -> bool:
    return scheme(str(path or "")) in REMOTE


def is_sql(uri: object) -> bool:
    """``uri`` is a database URL (``dataset.uri``, read by ``data.sql``): a scheme that is not an object store's, a
    web address's or a local file's."""
    s = scheme(str(uri or ""))
    return s is not None and s not in REMOTE and s not in ("http", "https", "file")


def is_glob(path: str) -> bool:
    return bool(GLOB.search(str(path)))


def shown(path: str) -> str:
    """A URL as given, less any password (``user:***@``) and query values (Azure SAS tokens sign in the query)."""
    text = re.sub(r"(://[^/@:\s]*:)[^/@\s]*@", r"\1***@", str(path))
    return re.sub(r"([?&][^=&\s]+=)[^&\s]*", r"\1***", text)


def secrets(options: dict | None) -> list[str]:
    """The values of ``options`` that are secrets (keys naming a secret, key, token, password...)."""
    return [str(v) for k, v in (options or {}).items() if SECRET.search(str(k)) and str(v) not in ("", "None")]


def redact_options(options: dict | None) -> dict:
    """``options`` with every secret value replaced by ``***``."""
    return {k: "***" if SECRET.search(str(k)) else v for k, v in (options or {}).items()}


def scrub(text: str, options: dict | None) -> str:
    """``text`` without any secret of ``options`` in it."""
    for value in sorted(secrets(options), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _nested_secrets(conf: object, prefix: str = "") -> list[str]:
    """The values of a nested options dict (``dataset.spark.conf``: ``spark.hadoop.fs.s3a.secret.key`` arrives from
    a command line as nested keys) whose dotted key names a secret."""
    if not isinstance(conf, dict):
        return []
    out = []
    for k, v in conf.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            out += _nested_secrets(v, key)
        elif SECRET.search(key) and str(v) not in ("", "None"):
            out.append(str(v))
    return out


def _redact_nested(conf: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in conf.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        out[k] = _redact_nested(v, key) if isinstance(v, dict) else "***" if SECRET.search(key) else v
    return out


def section_secrets(section: dict) -> list[str]:
    """Every secret a ``dataset`` section holds: secret storage options, a database URL's password, Spark's conf
    secrets (``spark.hadoop.fs.s3a.secret.key``...) and a Spark Connect token; longest first (to replace)."""
    from urllib.parse import quote, unquote, urlsplit

    found = secrets(section.get("storage_options"))
    for key in ("path", "uri"):
        with contextlib.suppress(ValueError):
            password = urlsplit(str(section.get(key) or "")).password
            found += [password, unquote(password), quote(password, safe="")] if password else []
    spark = section.get("spark") if isinstance(section.get("spark"), dict) else {}
    found += _nested_secrets(spark.get("conf") or {})
    found += re.findall(r";\s*token=([^;]+)", str(spark.get("remote") or ""))
    return sorted({s for s in found if s and s != "***"}, key=len, reverse=True)


def scrub_section(text: str, section: dict) -> str:
    """``text`` without any secret of the ``dataset`` section (``section_secrets``)."""
    for value in section_secrets(section):
        text = text.replace(value, "***")
    return text


def redact_section(section: dict) -> dict:
    """A ``dataset`` config section fit to log or keep in a model: secret storage options as ``***``, the path and
    the database URL without a password or query values."""
    out = dict(section)
    if out.get("storage_options"):
        out["storage_options"] = redact_options(out["storage_options"])
    for key in ("path", "uri"):
        if isinstance(out.get(key), str) and scheme(out[key]):
            out[key] = shown(out[key])
    spark = out.get("spark")
    if isinstance(spark, dict) and isinstance(spark.get("remote"), str):  # sc://host/;token=... (Spark Connect)
        spark = out["spark"] = {**spark, "remote": re.sub(r"(;\s*token=)[^;]*", r"\1***", shown(spark["remote"]))}
    if isinstance(spark, dict) and isinstance(spark.get("conf"), dict):  # spark.hadoop.fs.s3a.secret.key...
        out["spark"] = {**spark, "conf": _redact_nested(spark["conf"])}
    return out


def may_exist(path: str | Path) -> bool:
    """``path`` names something a source can be: an object-store or database URL or a glob (checked when read),
    an existing file or folder."""
    text = str(path)
    return is_remote(text) or is_sql(text) or is_glob(text) or Path(text).expanduser().exists()


def text_format(name: str) -> str | None:
    """``parquet`` or ``csv`` by a file name's ending, None for anything else."""
    low = name.lower()
    if low.endswith(PARQUET):
        return "parquet"
    if low.endswith(TEXT):
        return "csv"
    return None


@dataclass(kw_only=True)
class Parts:
    """The local files a folder or a glob stands for, in name order, all of one ``fmt``."""

    given: str  # dataset.path as given
    base: Path  # names are relative to it (the folder, or the glob's fixed start)
    files: list[Path]
    fmt: str  # parquet | csv
    hive: list[str] = field(default_factory=list)  # partition keys (``key=value`` folders), outermost first

    def name(self, path: Path) -> str:
        return path.relative_to(self.base).as_posix()

    def partitions(self, path: Path) -> dict[str, str]:
        """The ``key=value`` folders between the base and the part (values percent-decoded, as hive writes them)."""
        from urllib.parse import unquote

        pairs = [seg.split("=", 1) for seg in Path(self.name(path)).parent.parts if "=" in seg]
        return {k: unquote(v) for k, v in pairs}


def _hidden(rel: Path) -> bool:
    """A part no reader takes: hidden (``.crc``) or a marker (``_SUCCESS``, ``_metadata``) at any level."""
    return any(p.startswith((".", "_")) for p in rel.parts)


def _glob_base(pattern: str) -> Path:
    """The folders of a glob before its first wildcard (``sales/2011/*.csv`` -> ``sales/2011``)."""
    fixed = []
    for part in Path(pattern).parts:
        if is_glob(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def parts(path: str) -> Parts | None:
    """The parts a local folder or glob stands for; None for one file (or a path that is neither)."""
    import glob

    p = Path(path).expanduser()
    if is_glob(path):
        base = _glob_base(str(p))
        found = sorted(Path(f) for f in glob.glob(str(p), recursive=True) if Path(f).is_file())
        found = [f for f in found if not _hidden(f.relative_to(base))]
        if not found:
            raise DataError(f"dataset.path {path} matches no file; check the pattern (** matches folders too)")
    elif p.is_dir():
        base = p
        found = sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p)))
        if not found:
            raise DataError(f"dataset.path {path} is a folder with no parquet or CSV part in it; point it at one")
    else:
        return None
    return _checked(Parts(given=path, base=base, files=found, fmt=""))


def _checked(out: Parts) -> Parts:
    """``out`` with its format and partition keys, refused when its parts mix formats or partition keys."""
    kinds = {f: text_format(f.name) for f in out.files}
    if None in kinds.values():
        odd = next(f for f, k in kinds.items() if k is None)
        raise DataError(f"dataset.path {out.given} takes {out.name(odd)}, which is neither parquet nor CSV")
    if len(set(kinds.values())) > 1:
        raise DataError(
            f"dataset.path {out.given} holds both parquet and CSV parts; point it at one kind "
            f"(e.g. {out.given}/**/*.parquet)"
        )
    out.fmt = next(iter(kinds.values()))
    keys = {tuple(out.partitions(f)) for f in out.files}
    if len(keys) > 1:
        a, b = sorted(keys)[:2]
        raise DataError(
            f"the parts of {out.given} are partitioned by different keys ({list(a)} and {list(b)}); "
            "give a folder whose parts all have the same key=value folders"
        )
    out.hive = list(next(iter(keys)))
    return out


def file_sha256(path: Path) -> str:
    """A file's sha256, read in blocks (never whole in memory)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def digest(found: Parts) -> str:
    """sha256 over each part's name and content sha256, in name order."""
    h = hashlib.sha256()
    for f in found.files:
        h.update(f"{found.name(f)}\t{file_sha256(f)}\n".encode())
    return h.hexdigest()


# -------------------------------------------------------------------------------------------- object stores

S3_OPTIONS = {  # polars' (object_store's) S3 option names -> pyarrow.fs.S3FileSystem's
    "aws_access_key_id": "access_key",
    "aws_secret_access_key": "secret_key",
    "aws_session_token": "session_token",
    "aws_region": "region",
    "region": "region",
    "aws_endpoint_url": "endpoint_override",
    "aws_endpoint": "endpoint_override",
    "endpoint_url": "endpoint_override",
    "endpoint": "endpoint_override",
}


S3_ENV = {  # the standard environment variables, as the option each stands for (options given win)
    "AWS_ACCESS_KEY_ID": "aws_access_key_id",
    "AWS_SECRET_ACCESS_KEY": "aws_secret_access_key",
    "AWS_SESSION_TOKEN": "aws_session_token",
    "AWS_DEFAULT_REGION": "aws_region",
    "AWS_REGION": "aws_region",
    "AWS_ENDPOINT": "aws_endpoint_url",
    "AWS_ENDPOINT_URL": "aws_endpoint_url",
    "AWS_ENDPOINT_URL_S3": "aws_endpoint_url",
}


def _s3(options: dict):
    """A pyarrow S3 file system with ``options`` (polars' names) over the standard environment variables."""
    import os

    import pyarrow.fs as pafs

    given = {S3_ENV[k]: v for k, v in os.environ.items() if k in S3_ENV and v}
    given.update({k.lower(): v for k, v in options.items()})
    kw = {S3_OPTIONS[k]: v for k, v in given.items() if k in S3_OPTIONS}
    if "access_key" not in kw or "secret_key" not in kw:  # one without the other: the SDK's own chain
        kw = {k: v for k, v in kw.items() if k not in ("access_key", "secret_key", "session_token")}
    if "endpoint_override" in kw and "://" in kw["endpoint_override"]:
        kw["scheme"], kw["endpoint_override"] = kw["endpoint_override"].split("://", 1)
    return pafs.S3FileSystem(connect_timeout=10, request_timeout=30, **kw)


def _listed(url: str, options: dict) -> list[tuple[str, int, str]]:
    """(key, size, ETag or modification time) of each object ``url`` names (an object, a prefix, a glob)."""
    import fnmatch

    import pyarrow.fs as pafs

    _, rest = url.split("://", 1)
    fs = _s3(options)
    glob = is_glob(rest)
    prefix = rest[: GLOB.search(rest).start()].rsplit("/", 1)[0] if glob else rest.rstrip("/")
    info = fs.get_file_info(prefix)
    infos = [info]
    if glob or info.type != pafs.FileType.File:
        listed = fs.get_file_info(pafs.FileSelector(prefix, recursive=True))
        infos = [i for i in listed if i.type == pafs.FileType.File and not _hidden(Path(i.path).relative_to(prefix))]
        infos = [i for i in infos if fnmatch.fnmatch(i.path, rest)] if glob else infos
    out = []
    for i in sorted(infos, key=lambda i: i.path):
        meta = fs.open_input_file(i.path).metadata()
        tag = meta.get("ETag", meta.get(b"ETag", b"")) if meta else b""
        tag = tag.decode() if isinstance(tag, bytes) else str(tag)
        out.append((i.path, i.size, tag or str(i.mtime_ns)))
    return out


def remote_digest(url: str, options: dict) -> tuple[str, str | None]:
    """The digest of the objects ``url`` names: sha256 over their keys, sizes and ETags (``s3://``), and None; or
    ``not computed`` and why (another store, or one that does not list them)."""
    if scheme(url) not in ("s3", "s3a"):
        return NOT_COMPUTED, f"{scheme(url)}:// objects are not listed for a digest"
    try:
        found = _listed(url.replace("s3a://", "s3://", 1), options)
    except Exception as e:  # noqa: BLE001 - any failure to list leaves the digest honestly uncomputed
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return NOT_COMPUTED, scrub(f"the store did not list the objects ({first})", options)
    if not found:
        return NOT_COMPUTED, "the store listed no object"
    h = hashlib.sha256()
    for key, size, tag in found:
        h.update(f"{key}\t{size}\t{tag}\n".encode())
    return h.hexdigest(), None
