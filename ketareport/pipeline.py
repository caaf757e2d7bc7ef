"""The whole pipeline as two calls: :func:`run_analysis` and :func:`write_results`.

load -> validate -> cohort -> analyze -> results; the render stages build on
the :class:`AnalysisRun` this returns.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .analyze import analyze_cohort
from .check import cohort_warnings
from .cohort import Cohort, build_cohort
from .config import StudyConfig, find_config, load_config
from .contract import ANALYSIS_COLUMNS, COLUMN_LABELS
from .errors import NothingToAnalyse
from .load import RawDataset, RawTable, load_dataset
from .output import StagedOutput
from .provenance import Provenance, provenance
from .r_frames import characteristics_long, r_frames
from .results import StudyResults, estimates_csv, results_document, results_json, write_results_rds
from .sources import engine_for
from .validate import Dataset, DateBound, InfusionDates, validate_dataset

if TYPE_CHECKING:
    import pandas as pd

    from .patient_reductions import PatientReductions
    from .sources.run import SourceRun

RESULT_FILES = ("estimates.csv", "results.json", "results.rds")

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

    database = None
    """A run of files was read in no database engine (:attr:`ketareport.sources.run.SourceRun.database`)."""

    @cached_property
    def analysis_table(self) -> pd.DataFrame:
        """The table the R cross-check reads (:func:`ketareport.export.analysis_table`)."""
        from .export import analysis_table

        return analysis_table(self.cohort)

    @cached_property
    def patient_reductions(self) -> PatientReductions:
        """Figure 2's data, from the analysed patients ordered by patient_id."""
        from .patient_reductions import patient_reductions  # a render's: not imported by analyze

        patients = self.cohort.analyzed_patients.sort_values("patient_id", kind="stable")
        return patient_reductions(patients["is_index"].to_numpy(dtype=bool), patients["reduction"].to_numpy(dtype=float))


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


def prepare_cohort(dataset_path: Path, config: StudyConfig, *, progress: Progress = _silent) -> PreparedCohort:
    """Load and validate a dataset and build its cohort with ``config`` (:func:`resolve_config`); stop when
    there is nothing to analyse.

    Raises :class:`~ketareport.errors.ConfigInvalid` or
    :class:`~ketareport.errors.DatasetInvalid` listing every problem, and
    :class:`~ketareport.errors.NothingToAnalyse` (see :func:`require_analysable`).
    """
    dataset_path = Path(dataset_path)
    progress(f"reading {dataset_path}")
    tables = {"patients": config.data.patients, "infusions": config.data.infusions}
    raw = rename_columns(load_dataset(dataset_path, tables), config.data.columns)
    progress(f"validating {len(raw.patients.frame)} patients and {len(raw.infusions.frame)} infusions")
    dataset = validate_dataset(raw, infusion_date_limits(config))
    cohort = build_cohort(dataset, config.analysis, config.labels)
    require_analysable(cohort)
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


def run_in_database(
    dataset: str | Path, config: StudyConfig, *, engine: str | None = None, command: list[str] | None = None,
    progress: Progress = _silent, report: bool = False, cross_check: bool = False, result_files: bool = True,
) -> SourceRun | None:
    """The run of a dataset a database engine holds, checked and analysed in that engine; None for files.

    The engine is ``engine``, else the configuration's ``data.engine``, else the one ``dataset`` names (a DuckDB
    file, a ``postgresql://`` URL). :func:`run_analysis` and ``check`` (:func:`ketareport.console.checked_summary`)
    choose between files and a database here. The run holds no cohort, only what was asked for beyond the
    results: Figure 2's data (``report``) and the analysis table of the R cross-check (``cross_check``), and,
    unless the run writes no ``result_files`` (``check``), the analysed rows behind results.rds's row-level
    frames when there are at most :data:`ketareport.sources.report_inputs.FRAMES_UP_TO`.
    """
    location = os.fspath(dataset)  # a URL keeps its "//", which a Path would fold
    database = engine_for(location, engine or config.data.engine)
    if database is None:
        return None
    from .sources.run import run_source_analysis  # the database path's modules: not imported for files

    return run_source_analysis(location, database, config, infusion_date_limits(config), command=command,
                               progress=progress, report=report, cross_check=cross_check, result_files=result_files)


def run_analysis(
    dataset_path: Path,
    config_path: Path | None = None,
    *,
    config: StudyConfig | None = None,
    command: list[str] | None = None,
    progress: Progress = _silent,
    engine: str | None = None,
    report: bool = False,
    cross_check: bool = False,
) -> AnalysisRun:
    """Load, validate and analyse a dataset (:func:`prepare_cohort`, then the statistics).

    ``config``: the study configuration when the caller has already read it (:func:`resolve_config`), so that
    study.yml is read once; else it is read from ``config_path`` or the dataset. A dataset in a database engine
    (:func:`run_in_database`) is checked and analysed in that engine instead (:mod:`ketareport.sources`).
    Either way, what is valid but probably not meant (:func:`~ketareport.check.cohort_warnings`) goes to
    ``progress``.
    """
    if config is None:
        config = resolve_config(Path(dataset_path), config_path)
    run = run_in_database(dataset_path, config, engine=engine, command=command, progress=progress, report=report,
                          cross_check=cross_check)
    if run is None:
        dataset_path = Path(dataset_path)
        prepared = prepare_cohort(dataset_path, config, progress=progress)
        progress("analysing")
        results = analyze_cohort(prepared.cohort)
        config, raw = prepared.config, prepared.raw
        run = AnalysisRun(config, raw, prepared.dataset, prepared.cohort, results, provenance(dataset_path, raw, config, command))
    cohort = run.results.cohort
    for warning in cohort_warnings(cohort.diagnoses, cohort.diagnosis_labels, config.analysis):
        progress(f"warning: {warning}")
    return run


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
    """The data frames of ``results.rds``; a run in a database engine has the row-level ones only when it fetched
    the rows (:attr:`ketareport.sources.run.SourceRun.row_frames`), else a note of why not."""
    if isinstance(run, AnalysisRun):
        return r_frames(run.cohort, run.results)
    results = run.results
    return {"characteristics_long": characteristics_long({"patients": results.patient_characteristics,
                                                          "infusions": results.infusion_characteristics}),
            **run.row_frames}
