"""Where the numbers came from: the inputs and their digests, the configuration, the software, the command, the time.

Shared by the file path (:mod:`ketareport.pipeline`) and the database path
(:mod:`ketareport.sources`), which both record a run's provenance the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import shlex
import sys
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from . import __version__
from .config import StudyConfig
from .load import InputFile, RawDataset, sha256_file

REPORTED_PACKAGES = ("numpy", "pandas", "scipy", "PyYAML", "Jinja2", "weasyprint", "rdata", "pyreadr")


def generation_time() -> dt.datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc)
    return dt.datetime.now(tz=dt.timezone.utc).replace(microsecond=0)


def package_versions() -> dict[str, str]:
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = installed_version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def installed_version(name: str) -> str:
    """``importlib.metadata.version(name)``, from the ``Version:`` line of the metadata's header.

    metadata.version parses the whole METADATA file (long descriptions
    included) with the email package: three times the work, on every run.
    """
    distribution = metadata.distribution(name)
    text = distribution.read_text("METADATA") or distribution.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line:  # the header ends at the first blank line
            break
        if line.startswith("Version:"):
            return line.removeprefix("Version:").strip()
    return distribution.version


@dataclass(frozen=True)
class DatasetProvenance:
    path: str
    container: str
    """How the tables were stored: ``directory of CSV files``, ``Excel workbook`` ..."""
    files: list[InputFile]
    rows: dict[str, int]
    """Table name -> rows read."""
    digest: str
    """SHA-256 of the data files' ``sha256sum`` listing (see :func:`data_digest`): one value for the input data."""


@dataclass(frozen=True)
class Provenance:
    """Where the numbers came from: inputs with their digests, configuration, software, command and time."""

    ketareport_version: str
    python_version: str
    packages: dict[str, str]
    command: str
    generated_at: str
    """ISO 8601, UTC: now, or ``SOURCE_DATE_EPOCH`` when set."""
    source_date_epoch: str | None
    dataset: DatasetProvenance
    config_file: str | None
    config_sha256: str | None
    config_size_bytes: int | None


def provenance(dataset_path: Path, raw: RawDataset, config: StudyConfig, command: list[str] | None) -> Provenance:
    """Where the numbers came from. Paths are relative to the working directory and the output folder is not
    recorded: the report prints this, and must be the same bytes wherever it is written."""
    dataset = DatasetProvenance(
        path=relative_path(str(dataset_path)),
        container=raw.container,
        files=[replace(file, path=relative_path(file.path)) for file in raw.files],
        rows={"patients": len(raw.patients.frame), "infusions": len(raw.infusions.frame)},
        digest=data_digest(raw),
    )
    return provenance_of(dataset, config, command)


def provenance_of(dataset: DatasetProvenance, config: StudyConfig, command: list[str] | None) -> Provenance:
    """The provenance of a run on ``dataset`` (files, or tables in a database engine)."""
    source = config.source
    return Provenance(
        ketareport_version=__version__,
        python_version=platform.python_version(),
        packages=package_versions(),
        command=recorded_command(command if command is not None else ["ketareport", *sys.argv[1:]]),
        generated_at=generation_time().isoformat(),
        source_date_epoch=os.environ.get("SOURCE_DATE_EPOCH"),
        dataset=dataset,
        config_file=relative_path(str(source)) if source else None,
        config_sha256=sha256_file(source) if source else None,
        config_size_bytes=source.stat().st_size if source else None,
    )


OUTPUT_OPTION = "--out"


def recorded_command(arguments: list[str]) -> str:
    """The command line as the report records it: absolute paths made relative to the working directory, and
    ``--out DIR`` left out (the same report may be written to any folder)."""
    recorded: list[str] = []
    arguments = iter(arguments)
    for argument in arguments:
        if argument == OUTPUT_OPTION:
            next(arguments, None)
        elif argument.startswith(f"{OUTPUT_OPTION}="):
            continue
        elif argument.startswith("--") and "=" in argument:
            option, value = argument.split("=", 1)
            recorded.append(f"{option}={relative_path(without_password(value))}")
        else:
            recorded.append(relative_path(without_password(argument)))
    return shlex.join(recorded)


def without_password(text: str) -> str:
    """A database URL's password as ``***`` (``postgresql://analyst:***@host/db``, ``...?password=***``); any other
    text as given."""
    if "://" not in text:
        return text
    import re
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(text)
    query = re.sub(r"(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    if not parts.password and query == parts.query:
        return text  # rebuilt, duckdb:///path would lose its empty host
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts._replace(query=query))


def relative_path(path: str) -> str:
    """An absolute path relative to the working directory; anything else as given."""
    return os.path.relpath(path) if os.path.isabs(path) else path


def data_digest(raw: RawDataset) -> str:
    """SHA-256 of the input data files' ``sha256sum`` listing (digest, two spaces, file name, newline), in the
    order read: ``sha256sum patients.csv infusions.csv | sha256sum`` in the dataset folder gives the same."""
    listing = "".join(f"{file.sha256}  {Path(file.path).name}\n" for file in raw.files)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()
