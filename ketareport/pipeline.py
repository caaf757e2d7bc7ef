"""The whole pipeline as two calls: :func:`run_analysis` and :func:`write_results`.

load -> validate -> cohort -> analyze -> results; the render stages build on
the :class:`AnalysisRun` this returns.
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
from typing import Any, Callable

from . import __version__
from .analyze import analyze_cohort
from .cohort import Cohort, build_cohort
from .config import StudyConfig, find_config, load_config
from .contract import ANALYSIS_COLUMNS, COLUMN_LABELS
from .errors import NothingToAnalyse
from .load import InputFile, RawDataset, RawTable, load_dataset, sha256_file
from .output import StagedOutput
from .r_frames import characteristics_long, r_frames
from .results import StudyResults, estimates_csv, results_document, results_json, write_results_rds
from .sources import engine_for
from .check import cohort_warnings
from .validate import Dataset, DateBound, InfusionDates, validate_dataset

RESULT_FILES = ("estimates.csv", "results.json", "results.rds")
REPORTED_PACKAGES = ("numpy", "pandas", "scipy", "PyYAML", "pydantic", "Jinja2", "weasyprint", "rdata", "pyreadr")

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


def resolve_config(dataset_path: Path, config_path: Path | None = None) -> StudyConfig:
    """``config_path`` if given, else the dataset's own ``study.yml`` if it has one, else the defaults."""
    return load_config(config_path if config_path is not None else find_config(Path(dataset_path)))


@dataclass(frozen=True)
class PreparedCohort:
    """A dataset read, checked and made into the analysis cohort: everything before the statistics."""

    config: StudyConfig
    raw: RawDataset
    dataset: Dataset
    cohort: Cohort


def prepare_cohort(
    dataset_path: Path, config_path: Path | None = None, *, progress: Progress = _silent,
    warn: Progress | None = None,
) -> PreparedCohort:
    """Load and validate a dataset and build its cohort; stop when there is nothing to analyse.

    ``warn`` receives what is valid but probably not meant (:func:`~ketareport.check.cohort_warnings`);
    by default it goes to ``progress``.

    Raises :class:`~ketareport.errors.ConfigInvalid` or
    :class:`~ketareport.errors.DatasetInvalid` listing every problem, and
    :class:`~ketareport.errors.NothingToAnalyse` (see :func:`require_analysable`).
    """
    dataset_path = Path(dataset_path)
    config = resolve_config(dataset_path, config_path)
    progress(f"reading {dataset_path}")
    tables = {"patients": config.data.patients, "infusions": config.data.infusions}
    raw = rename_columns(load_dataset(dataset_path, tables), config.data.columns)
    progress(f"validating {len(raw.patients.frame)} patients and {len(raw.infusions.frame)} infusions")
    dataset = validate_dataset(raw, infusion_date_limits(config))
    cohort = build_cohort(dataset, config.analysis, config.labels)
    require_analysable(cohort)
    for warning in cohort_warnings(cohort):
        (warn or progress)(f"warning: {warning}")
    return PreparedCohort(config, raw, dataset, cohort)


def infusion_date_limits(config: StudyConfig, today: dt.date | None = None) -> InfusionDates:
    """The study period of study.yml, its data lock, and today: no infusion may fall outside them."""
    study, report = config.study, config.report
    today = today or dt.date.today()
    latest = [DateBound(today, "today's date (a date in the future)")]
    if report.data_lock is not None:
        latest.append(DateBound(report.data_lock, "the data lock (study.yml report.data_lock)"))
    if study.period is not None:
        latest.append(DateBound(study.period.end, "the end of the study period (study.yml study.period)"))
    earliest = DateBound(study.period.start, "the start of the study period (study.yml study.period)") if study.period else None
    return InfusionDates(earliest, tuple(latest))


def rename_columns(raw: RawDataset, columns: dict[str, str]) -> RawDataset:
    """Give the source's columns their data-dictionary names (study.yml ``data.columns``: contract -> source).

    Names are matched ignoring case, as the loader lower-cases them; a
    source column that is absent is left to validation to report (the
    contract column is then absent).
    """
    if not columns:
        return raw
    renames = {source.strip().lower(): contract for contract, source in columns.items()}

    def renamed(table: RawTable) -> RawTable:
        return replace(table, frame=table.frame.rename(columns=renames))

    return replace(raw, patients=renamed(raw.patients), infusions=renamed(raw.infusions))


def require_analysable(cohort: Cohort) -> None:
    """A dataset with no patient, or no infusion left once the exclusions are applied, is invalid input.

    The message gives the counts by exclusion reason, e.g. "0 of 12
    infusions analysable: 12 missing VAS after infusion, 3 missing ketamine
    dose" (an infusion may miss several values).
    """
    if cohort.patients.empty:
        raise NothingToAnalyse("nothing to analyse: the patients table has no rows")
    infusions = cohort.infusions
    if infusions.empty:
        raise NothingToAnalyse(f"nothing to analyse: the infusions table has no rows ({len(cohort.patients)} patients)")
    if not cohort.analyzed_infusions.empty:
        return
    missing = infusions[list(ANALYSIS_COLUMNS)].isna().sum().sort_values(ascending=False, kind="stable")
    reasons = ", ".join(f"{count} missing {COLUMN_LABELS[column]}" for column, count in missing.items() if count)
    raise NothingToAnalyse(f"0 of {len(infusions)} infusions analysable: {reasons}")


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
            recorded.append(f"{option}={relative_path(value)}")
        else:
            recorded.append(relative_path(argument))
    return shlex.join(recorded)


def relative_path(path: str) -> str:
    """An absolute path relative to the working directory; anything else as given."""
    return os.path.relpath(path) if os.path.isabs(path) else path


def data_digest(raw: RawDataset) -> str:
    """SHA-256 of the input data files' ``sha256sum`` listing (digest, two spaces, file name, newline), in the
    order read: ``sha256sum patients.csv infusions.csv | sha256sum`` in the dataset folder gives the same."""
    listing = "".join(f"{file.sha256}  {Path(file.path).name}\n" for file in raw.files)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def run_analysis(
    dataset_path: Path,
    config_path: Path | None = None,
    *,
    command: list[str] | None = None,
    progress: Progress = _silent,
    engine: str | None = None,
) -> AnalysisRun:
    """Load, validate and analyse a dataset (:func:`prepare_cohort`, then the statistics).

    A dataset in a database engine (a DuckDB file, a ``postgresql://`` URL,
    ``engine`` or the configuration's ``data.engine``) is checked and
    analysed in that engine instead (:mod:`ketareport.sources`); the result
    then holds no row-level tables.
    """
    location = os.fspath(dataset_path)  # a URL keeps its "//", which a Path would fold
    dataset_path = Path(dataset_path)
    config = resolve_config(dataset_path, config_path)
    database = engine_for(location, engine or config.data.engine)
    if database is not None:
        from .sources.run import run_source_analysis

        return run_source_analysis(location, database, config, command=command, progress=progress)
    prepared = prepare_cohort(dataset_path, config_path, progress=progress)
    progress("analysing")
    results = analyze_cohort(prepared.cohort)
    config, raw = prepared.config, prepared.raw
    return AnalysisRun(config, raw, prepared.dataset, prepared.cohort, results, provenance(dataset_path, raw, config, command))


def result_texts(run: AnalysisRun, document: dict[str, Any] | None = None) -> dict[str, str]:
    """estimates.csv and results.json, by name, as written: the PDF carries the same bytes."""
    document = run.document() if document is None else document
    return {"estimates.csv": estimates_csv(run.results.estimates()), "results.json": results_json(document)}


def write_results(run: AnalysisRun, staged: StagedOutput) -> dict[str, Path]:
    """Stage the three result files; returns their staged paths by name."""
    document = run.document()
    paths = {name: staged.path(name) for name in RESULT_FILES}
    for name, text in result_texts(run, document).items():
        paths[name].write_text(text, encoding="utf-8")
    write_results_rds(paths["results.rds"], document, _r_frames(run))
    return paths


def _r_frames(run: AnalysisRun) -> dict[str, Any]:
    """The data frames of ``results.rds``; a run in a database engine has no rows, so only the summary tables."""
    if isinstance(run, AnalysisRun):
        return r_frames(run.cohort, run.results)
    results = run.results
    return {"characteristics_long": characteristics_long({"patients": results.patient_characteristics,
                                                          "infusions": results.infusion_characteristics})}
