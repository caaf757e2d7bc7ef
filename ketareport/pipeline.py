"""The whole pipeline as two calls: :func:`run_analysis` and :func:`write_results`.

load -> validate -> cohort -> analyze -> results; the render stages build on
the :class:`AnalysisRun` this returns.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .analyze import analyze_cohort
from .cohort import Cohort, build_cohort
from .config import StudyConfig, find_config, load_config
from .load import InputFile, RawDataset, load_dataset, sha256_file
from .output import StagedOutput
from .results import StudyResults, estimates_csv, results_document, results_json, write_results_rds
from .validate import Dataset, validate_dataset

RESULT_FILES = ("estimates.csv", "results.json", "results.rds")
REPORTED_PACKAGES = ("numpy", "pandas", "scipy", "PyYAML", "pydantic", "Jinja2", "matplotlib", "weasyprint", "rdata", "pyreadr")

Progress = Callable[[str], None]


def _silent(message: str) -> None:
    """Default progress sink: say nothing."""


@dataclass(frozen=True)
class AnalysisRun:
    """Everything one analysis produced, from the raw tables to the results."""

    config: StudyConfig
    raw: RawDataset
    dataset: Dataset
    cohort: Cohort
    results: StudyResults
    provenance: Provenance

    def document(self) -> dict[str, Any]:
        """The plain-data tree of ``results.json`` / ``results.rds``."""
        return results_document(self.results, self.provenance, self.config.as_dict())


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
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@dataclass(frozen=True)
class DatasetProvenance:
    path: str
    container: str
    """How the tables were stored: ``directory of CSV files``, ``Excel workbook`` ..."""
    files: list[InputFile]
    rows: dict[str, int]
    """Table name -> rows read."""


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
    source = config.source
    return Provenance(
        ketareport_version=__version__,
        python_version=platform.python_version(),
        packages=package_versions(),
        command=shlex.join(command if command is not None else ["ketareport", *sys.argv[1:]]),
        generated_at=generation_time().isoformat(),
        source_date_epoch=os.environ.get("SOURCE_DATE_EPOCH"),
        dataset=DatasetProvenance(
            path=str(dataset_path),
            container=raw.container,
            files=list(raw.files),
            rows={"patients": len(raw.patients.frame), "infusions": len(raw.infusions.frame)},
        ),
        config_file=str(source) if source else None,
        config_sha256=sha256_file(source) if source else None,
        config_size_bytes=source.stat().st_size if source else None,
    )


def run_analysis(
    dataset_path: Path,
    config_path: Path | None = None,
    *,
    command: list[str] | None = None,
    progress: Progress = _silent,
) -> AnalysisRun:
    """Load, validate and analyse a dataset.

    The configuration is ``config_path`` if given, else the dataset's own
    ``study.yml`` if it has one, else the defaults. Raises
    :class:`~ketareport.errors.ConfigInvalid` or
    :class:`~ketareport.errors.DatasetInvalid` listing every problem.
    """
    dataset_path = Path(dataset_path)
    config = load_config(config_path if config_path is not None else find_config(dataset_path))
    progress(f"reading {dataset_path}")
    raw = load_dataset(dataset_path)
    progress(f"validating {len(raw.patients.frame)} patients and {len(raw.infusions.frame)} infusions")
    dataset = validate_dataset(raw)
    cohort = build_cohort(dataset, config.analysis, config.labels)
    progress("analysing")
    results = analyze_cohort(cohort)
    return AnalysisRun(config, raw, dataset, cohort, results, provenance(dataset_path, raw, config, command))


def write_results(run: AnalysisRun, staged: StagedOutput) -> dict[str, Path]:
    """Stage the three result files; returns their staged paths by name."""
    document = run.document()
    paths = {name: staged.path(name) for name in RESULT_FILES}
    paths["estimates.csv"].write_text(estimates_csv(run.results.estimates()), encoding="utf-8")
    paths["results.json"].write_text(results_json(document), encoding="utf-8")
    write_results_rds(paths["results.rds"], document)
    return paths
