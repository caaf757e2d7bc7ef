"""One analysis of a dataset held in a database engine: connect, check, aggregate, compute.

The result is a :class:`SourceRun`: the configuration, the results and their
provenance — the same result files as the file path writes — and what the
report, results.rds and the R cross-check need beyond them
(:mod:`.report_inputs`): Figure 2's data when asked, and the analysed rows
(the analysis table R reads when asked; results.rds's row-level frames up
to :data:`.report_inputs.FRAMES_UP_TO` analysed infusions).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..config import StudyConfig
from ..load import InputFile, sha256_file
from ..patient_reductions import PatientReductions
from ..provenance import DatasetProvenance, Provenance, provenance_of, relative_path
from ..results import StudyResults, results_document
from ..validate import InfusionDates
from . import DatabaseSource, SourceSpec
from .aggregate import analyse_tables, derive
from .connect import open_source, shown_location
from .digest import row_digest
from .report_inputs import AnalysedRows, analysed_rows, analysis_table, figure_reductions, frames_fetched, frames_omitted_note
from .typed import check_source

if TYPE_CHECKING:
    import pandas as pd

ENGINE_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "spark": "Spark"}


@dataclass(frozen=True)
class SourceRun:
    """What :func:`ketareport.pipeline.write_results` needs from a run, computed in an engine."""

    config: StudyConfig
    results: StudyResults
    provenance: Provenance
    patient_reductions: PatientReductions | None = None
    """Figure 2's data, fetched when the run is for a report."""
    analysis_table: pd.DataFrame | None = None
    """The analysed rows R reads (:mod:`ketareport.export`), fetched when the run is for the R cross-check."""
    database: DatabaseSource | None = None
    """The engine and the tables read (the file path's runs have None)."""
    analysed_rows: AnalysedRows | None = None
    """The analysed rows, fetched for the R cross-check or for :attr:`row_frames` (:func:`.report_inputs.frames_fetched`)."""

    @cached_property
    def row_frames(self) -> dict[str, Any]:
        """results.rds's ``analysed_infusions`` and ``patient_means`` from the fetched rows, as the file path's; or,
        when the run analysed too many infusions to fetch them, ``row_frames_omitted``: why."""
        from ..r_frames import row_frames

        n_analysed = self.results.cohort.n_infusions_analyzed
        if self.analysed_rows is None or not frames_fetched(n_analysed):
            return {"row_frames_omitted": frames_omitted_note(n_analysed, self.database.engine)}
        rows = self.analysed_rows
        return row_frames(rows.infusions, rows.patients, self.config.analysis, self.results.cohort.diagnosis_labels)

    def document(self) -> dict[str, Any]:
        """The plain-data tree of ``results.json`` / ``results.rds``."""
        return results_document(self.results, self.provenance, self.config.as_dict())


def source_spec(dataset: str, engine: str, config: StudyConfig) -> SourceSpec:
    data = config.data
    return SourceSpec(
        location=dataset, engine=engine, patients_table=data.patients, infusions_table=data.infusions,
        columns=dict(data.columns), spark_master=data.spark_master,
    )


def run_source_analysis(
    dataset: str, engine: str, config: StudyConfig, dates: InfusionDates, *, command: list[str] | None,
    progress: Callable[[str], None], report: bool = False, cross_check: bool = False, result_files: bool = True,
) -> SourceRun:
    """Check and analyse the tables where they are; raises :class:`DatasetInvalid` listing every problem.

    ``dates``: the infusion dates allowed (:func:`ketareport.pipeline.infusion_date_limits`); ``report``: also
    fetch Figure 2's data; ``cross_check``: also fetch the analysis table the R cross-check reads;
    ``result_files``: the run writes them (``check`` does not), so results.rds's row-level frames are fetched.
    """
    spec = source_spec(dataset, engine, config)
    local = Path(dataset.removeprefix("duckdb://"))
    # A DuckDB file's SHA-256 (the data digest) is computed in a thread while the engine works: hashing a file of
    # 246 MB takes 0.45 s, on a core the engine leaves idle between its queries (hashlib releases the GIL).
    hashing = ThreadPoolExecutor(max_workers=1) if engine == "duckdb" and local.is_file() else None
    file_hash = hashing.submit(sha256_file, local) if hashing else None
    progress(f"connecting to {ENGINE_NAMES[engine]}: {shown_location(dataset)}")
    source = open_source(spec)
    try:
        progress(f"checking the data dictionary's rules in {ENGINE_NAMES[engine]}")
        typed = check_source(source, dates, config.analysis.index_diagnosis)
        progress(f"analysing in {ENGINE_NAMES[engine]}")
        tables = derive(typed)
        results = analyse_tables(tables, config.analysis, config.labels)
        reductions = rows = table = None
        if report:
            progress(f"fetching Figure 2's data from {ENGINE_NAMES[engine]}")
            cohort = results.cohort
            reductions = figure_reductions(tables.patients, cohort.n_index_analyzed, cohort.n_comparison_analyzed)
        n_analysed = results.cohort.n_infusions_analyzed
        if cross_check or (result_files and frames_fetched(n_analysed)):  # results.rds's row-level frames, the R cross-check's table
            progress(f"fetching the rows of the {n_analysed:,} analysed infusions from {ENGINE_NAMES[engine]}")
            rows = analysed_rows(typed, tables.patients, dates, every_patient=cross_check)
            table = analysis_table(rows) if cross_check else None
        files = []
        if file_hash is not None:
            files.append(InputFile(relative_path(str(local)), file_hash.result(), local.stat().st_size))
            listing = "".join(f"{file.sha256}  {Path(file.path).name}\n" for file in files)
            digest = hashlib.sha256(listing.encode("utf-8")).hexdigest()
        else:  # a server's tables have no file to digest: a digest of their rows, computed by the engine
            progress(f"computing the data digest in {ENGINE_NAMES[engine]}")
            digest = row_digest(source)
    finally:
        source.close()
        if hashing:
            hashing.shutdown(wait=False, cancel_futures=True)
    dataset_provenance = DatasetProvenance(
        # A local folder (Spark) or file relative to the working directory, as for files; a URL as given.
        path=shown_location(relative_path(dataset)), container=source.container, files=files,
        rows={"patients": results.cohort.n_patients, "infusions": results.cohort.n_infusions},
        digest=digest,
    )
    database = DatabaseSource(ENGINE_NAMES[engine], dataset_provenance.path, spec.patients_table, spec.infusions_table,
                              row_digest=not files)
    return SourceRun(config, results, provenance_of(dataset_provenance, config, command), reductions, table, database,
                     rows)
